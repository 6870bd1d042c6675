"""R13: the seller's inventory report; R14: fees count physical units only."""

from __future__ import annotations

from headstart.domain.report import InboundLine, InventoryRow, fee_basis_units, inventory_row

INBOUND = [
    InboundLine("working", quantity_shipped=7, quantity_received=0),
    InboundLine("shipped", quantity_shipped=10, quantity_received=0),
    InboundLine("in_transit", quantity_shipped=5, quantity_received=0),
    InboundLine("delivered", quantity_shipped=4, quantity_received=0),
    InboundLine("checked_in", quantity_shipped=3, quantity_received=0),
    InboundLine("receiving", quantity_shipped=20, quantity_received=12),
    InboundLine("closed", quantity_shipped=50, quantity_received=48),
    InboundLine("cancelled", quantity_shipped=9, quantity_received=0),
    InboundLine("exception", quantity_shipped=6, quantity_received=0),
]


def report_row(
    *,
    sellable: int = 8,
    allocated: int = 2,
    inbound: list[InboundLine] = INBOUND,
    head_start_reserved: int = 6,
    head_start_available: int = 9,
) -> InventoryRow:
    return inventory_row(
        sku="SKU-1",
        fc="LAX1",
        sellable=sellable,
        allocated=allocated,
        inbound=inbound,
        head_start_reserved=head_start_reserved,
        head_start_available=head_start_available,
    )


def test_r13_inbound_units_fall_into_working_shipped_and_receiving_buckets() -> None:
    row = report_row(inbound=INBOUND)

    assert row.inbound_working == 7
    assert row.inbound_shipped == 15  # shipped + in_transit
    assert row.inbound_receiving == 15  # 4 delivered + 3 checked in + 8 still to receive


def test_r13_closed_cancelled_and_exception_shipments_are_not_inbound() -> None:
    row = report_row(inbound=INBOUND[-3:])

    assert (row.inbound_working, row.inbound_shipped, row.inbound_receiving) == (0, 0, 0)


def test_r13_overreceived_line_counts_nothing_outstanding() -> None:
    assert InboundLine("receiving", quantity_shipped=5, quantity_received=7).outstanding == 0


def test_r13_row_carries_head_start_units_and_the_pilots_double_view() -> None:
    row = report_row(sellable=8, head_start_reserved=6, head_start_available=9)

    assert (row.sku, row.fc, row.sellable, row.allocated) == ("SKU-1", "LAX1", 8, 2)
    assert (row.head_start_reserved, row.head_start_available) == (6, 9)
    assert row.pilot_in_stock == 17  # sellable + head-start buyable
    assert row.pilot_inbound == 30  # shipped + receiving
    assert row.to_dict()["head_start_reserved"] == 6


def test_r14_fee_basis_counts_physical_units_only() -> None:
    assert fee_basis_units(sellable=8, allocated=2) == 10


def test_r14_head_start_units_change_no_fee_basis() -> None:
    # given the same physical stock with and without head-start orders and supply
    without = report_row(sellable=8, allocated=2, head_start_reserved=0, head_start_available=0)
    with_head_start = report_row(
        sellable=8, allocated=2, head_start_reserved=40, head_start_available=25
    )
    # then fees are charged on the same units
    assert without.fee_basis_units == with_head_start.fee_basis_units == 10
