"""R6: cumulative available-to-promise, and R1a's cap on head-start supply."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headstart.domain.atp import (
    Entry,
    Slack,
    SlackCalendar,
    available_from,
    cap_supply,
    earliest_date,
    is_feasible,
    slack_curve,
)

D0 = date(2025, 6, 2)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


# on hand 5 today, a lot of 10 on day 3, another of 10 on day 7
SUPPLY = [Entry(day(0), 5), Entry(day(3), 10), Entry(day(7), 10)]


def test_r6_slack_curve_is_cumulative_supply_minus_cumulative_demand() -> None:
    demand = [Entry(day(3), 12), Entry(day(0), 2)]

    assert slack_curve(SUPPLY, demand) == [Slack(day(0), 3), Slack(day(3), 1), Slack(day(7), 11)]


def test_r6_invariant_holds_when_demand_never_exceeds_supply_by_any_date() -> None:
    assert is_feasible(SUPPLY, [Entry(day(3), 15)]) is True
    assert is_feasible(SUPPLY, [Entry(day(3), 16)]) is False
    assert is_feasible(SUPPLY, [Entry(day(2), 6)]) is False  # only 5 units before day 3
    assert is_feasible(SUPPLY, []) is True


def test_r6_earliest_date_is_today_when_on_hand_covers_the_order() -> None:
    assert earliest_date(SUPPLY, [], 5, day(0)) == day(0)


def test_r6_earliest_date_waits_for_the_lot_that_covers_the_order() -> None:
    assert earliest_date(SUPPLY, [], 6, day(0)) == day(3)
    assert earliest_date(SUPPLY, [], 15, day(0)) == day(3)


def test_r6_order_that_fits_only_after_a_second_lot_gets_its_date() -> None:
    assert earliest_date(SUPPLY, [], 16, day(0)) == day(7)
    assert earliest_date(SUPPLY, [], 25, day(0)) == day(7)


def test_r6_quantity_larger_than_total_supply_has_no_date() -> None:
    assert earliest_date(SUPPLY, [], 26, day(0)) is None


def test_r6_later_demand_holds_back_earlier_supply() -> None:
    # given 15 units promised for day 3, the on-hand 5 are needed by then
    demand = [Entry(day(3), 15)]
    # then a new order for 1 unit has to wait for the day-7 lot
    assert earliest_date(SUPPLY, demand, 1, day(0)) == day(7)
    assert earliest_date(SUPPLY, demand, 10, day(0)) == day(7)
    assert earliest_date(SUPPLY, demand, 11, day(0)) is None


def test_r6_not_before_inside_a_good_stretch_is_the_answer() -> None:
    assert earliest_date(SUPPLY, [], 5, day(1)) == day(1)
    assert earliest_date(SUPPLY, [], 6, day(5)) == day(5)
    assert earliest_date(SUPPLY, [], 6, day(30)) == day(30)


def test_r6_not_before_before_all_supply_waits_for_the_first_supply() -> None:
    assert earliest_date(SUPPLY, [], 5, day(-4)) == day(0)


def test_r6_not_before_past_a_bottleneck_ignores_the_bottleneck() -> None:
    # given 14 units promised for day 3: only 1 unit free from day 3 until day 7
    demand = [Entry(day(3), 14)]
    # then 3 units fit from day 7 on, whatever not_before says before that
    assert earliest_date(SUPPLY, demand, 3, day(0)) == day(7)
    assert earliest_date(SUPPLY, demand, 3, day(8)) == day(8)


def test_r6_no_supply_has_no_date() -> None:
    assert earliest_date([], [], 1, day(0)) is None


def test_r6_earliest_date_refuses_a_non_positive_quantity() -> None:
    with pytest.raises(ValueError):
        earliest_date(SUPPLY, [], 0, day(0))


def test_r6_available_from_is_the_smallest_slack_from_that_day_on() -> None:
    demand = [Entry(day(3), 14)]

    assert available_from(SUPPLY, demand, day(0)) == 1
    assert available_from(SUPPLY, demand, day(3)) == 1
    assert available_from(SUPPLY, demand, day(7)) == 11
    assert available_from(SUPPLY, demand, day(40)) == 11


def test_r6_available_from_before_any_supply_is_zero() -> None:
    assert available_from(SUPPLY, [], day(-1)) == 0
    assert available_from([], [], day(0)) == 0


def test_r6_available_from_is_never_negative() -> None:
    assert available_from(SUPPLY, [Entry(day(0), 9)], day(0)) == 0


def test_r1a_cap_keeps_the_earliest_supply_up_to_the_cap() -> None:
    unsorted = [Entry(day(7), 10), Entry(day(3), 10)]

    assert cap_supply(unsorted, 14) == [Entry(day(3), 10), Entry(day(7), 4)]
    assert cap_supply(unsorted, 10) == [Entry(day(3), 10)]
    assert cap_supply(unsorted, 30) == [Entry(day(3), 10), Entry(day(7), 10)]


def test_r1a_cap_of_zero_or_less_offers_nothing() -> None:
    assert cap_supply(SUPPLY, 0) == []
    assert cap_supply(SUPPLY, -3) == []


# ---------------------------------------------------------------- property


def _brute_force_earliest(
    supply: list[Entry], demand: list[Entry], quantity: int, not_before: date
) -> date | None:
    """Try every date from not_before to past the last breakpoint, one by one."""
    last = max([e.day for e in supply + demand] + [not_before])
    candidate = not_before
    while candidate <= last:
        if is_feasible(supply, [*demand, Entry(candidate, quantity)]):
            return candidate
        candidate += timedelta(days=1)
    return None


entries = st.lists(
    st.builds(Entry, st.integers(0, 20).map(day), st.integers(1, 15)), min_size=0, max_size=6
)
orders = st.lists(st.tuples(st.integers(1, 12), st.integers(-2, 22).map(day)), max_size=10)


@given(supply=entries, orders=orders)
def test_r6_property_orders_placed_at_earliest_date_keep_the_invariant_and_date_is_minimal(
    supply: list[Entry], orders: list[tuple[int, date]]
) -> None:
    demand: list[Entry] = []
    for quantity, not_before in orders:
        promised = earliest_date(supply, demand, quantity, not_before)
        assert promised == _brute_force_earliest(supply, demand, quantity, not_before)
        if promised is None:
            # no date at all: even after every breakpoint the order does not fit
            last = max([e.day for e in supply + demand] + [not_before])
            assert not is_feasible(supply, [*demand, Entry(last, quantity)])
            continue
        assert promised >= not_before
        earlier = promised - timedelta(days=1)
        assert earlier < not_before or not is_feasible(supply, [*demand, Entry(earlier, quantity)])
        demand.append(Entry(promised, quantity))
        assert is_feasible(supply, demand)


# ---------------------------------------------------------------- SlackCalendar (R9's passes)

CALENDAR_DAYS = [day(n) for n in range(-2, 23)]


@given(supply=entries, orders=orders)
def test_r6_calendar_answers_as_the_curve_rebuilt_from_every_entry(
    supply: list[Entry], orders: list[tuple[int, date]]
) -> None:
    # given a calendar of the same supply, and orders added to both in turn
    calendar = SlackCalendar(CALENDAR_DAYS, supply)
    demand: list[Entry] = []
    for quantity, not_before in orders:
        entry = Entry(not_before, quantity)
        # then every query answers what the rebuilt curve answers
        assert calendar.is_feasible_with(entry) == is_feasible(supply, [*demand, entry])
        promised = calendar.earliest_date(quantity, not_before)
        assert promised == earliest_date(supply, demand, quantity, not_before)
        placed = entry if promised is None else Entry(promised, quantity)
        calendar.add_demand(placed)
        demand.append(placed)


def test_r6_calendar_refuses_a_day_it_does_not_hold() -> None:
    calendar = SlackCalendar([day(0), day(3)], SUPPLY[:2])

    with pytest.raises(ValueError, match="not one of the calendar's days"):
        calendar.add_demand(Entry(day(1), 1))


def test_r6_calendar_without_days_has_no_date() -> None:
    assert SlackCalendar([], []).earliest_date(1, day(0)) is None


def test_r6_calendar_refuses_a_non_positive_quantity() -> None:
    with pytest.raises(ValueError, match="quantity must be positive"):
        SlackCalendar([day(0)], SUPPLY[:1]).earliest_date(0, day(0))
