"""R11: received units fill waiting orders first; the rest become sellable."""

from __future__ import annotations

from headstart.domain.receiving import Fill, WaitingForStock, fill_waiting_orders
from tests.unit.domain.builders import FRI, THU, WED

# placed in the order A, B, C, D; promised to ship on different days
A = WaitingForStock("A", quantity=4, promised_ship_date=FRI, placed_seq=1)
B = WaitingForStock("B", quantity=3, promised_ship_date=THU, placed_seq=2)
C = WaitingForStock("C", quantity=2, promised_ship_date=THU, placed_seq=3)
D = WaitingForStock("D", quantity=1, promised_ship_date=WED, placed_seq=4)


def test_r11_receipt_fills_by_promised_ship_date_then_placement() -> None:
    fill = fill_waiting_orders(10, [A, B, C, D])

    assert fill == Fill(allocated=("D", "B", "C", "A"), sellable=0)


def test_r11_units_left_after_filling_become_sellable() -> None:
    assert fill_waiting_orders(15, [A, B, C, D]) == Fill(("D", "B", "C", "A"), sellable=5)


def test_r11_filling_stops_at_the_first_order_that_does_not_fit_whole() -> None:
    # given 5 units: D (1) and B (3) fit, C (2) does not, A (4) would not either
    fill = fill_waiting_orders(5, [A, B, C, D])
    # then the leftover unit is sellable, and no later order jumps the queue
    assert fill == Fill(allocated=("D", "B"), sellable=1)


def test_r11_a_small_later_order_does_not_jump_a_large_earlier_one() -> None:
    big_first = WaitingForStock("BIG", quantity=10, promised_ship_date=WED, placed_seq=1)
    small_later = WaitingForStock("SMALL", quantity=1, promised_ship_date=THU, placed_seq=2)

    assert fill_waiting_orders(9, [small_later, big_first]) == Fill(allocated=(), sellable=9)


def test_r11_same_ship_date_is_filled_in_placement_order() -> None:
    later = WaitingForStock("LATER", quantity=2, promised_ship_date=THU, placed_seq=9)
    earlier = WaitingForStock("EARLIER", quantity=2, promised_ship_date=THU, placed_seq=1)

    assert fill_waiting_orders(2, [later, earlier]) == Fill(allocated=("EARLIER",), sellable=0)


def test_r11_receipt_with_nobody_waiting_is_all_sellable() -> None:
    assert fill_waiting_orders(7, []) == Fill(allocated=(), sellable=7)
