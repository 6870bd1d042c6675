"""R7: promised in-stock, ship and delivery dates, in each FC's own time zone and calendar."""

from __future__ import annotations

from datetime import date, time

import pytest

from headstart.domain.promise import Promise, delivery_date, make_promise, ship_date
from tests.unit.domain.builders import (
    FRI,
    MON,
    NEXT_MON,
    NEXT_TUE,
    SAT,
    SUN,
    THU,
    TUE,
    WED,
    estimate_between,
    fc_berlin,
    fc_los_angeles,
    hours_until,
    local,
    lot,
    utc,
)

LA = fc_los_angeles()
BERLIN = fc_berlin()
# 05:00 UTC on Wednesday: still Tuesday 22:00 in Los Angeles, already Wednesday 07:00 in Berlin
LATE_TUESDAY_IN_LA = utc(2025, 6, 4, 5)
NOW = utc(2025, 6, 2, 12)


def test_r7_an_instant_has_a_different_date_in_each_fcs_time_zone() -> None:
    assert LA.local_date(LATE_TUESDAY_IN_LA) == TUE
    assert BERLIN.local_date(LATE_TUESDAY_IN_LA) == WED


def test_r7_in_stock_date_is_the_q_quantile_as_a_date_in_the_fcs_time_zone() -> None:
    # given one estimate whose q-quantile is 05:00 UTC on Wednesday
    hours = hours_until(NOW, LATE_TUESDAY_IN_LA)
    point = estimate_between(NOW, hours, hours)
    assert point.quantile(0.97) == LATE_TUESDAY_IN_LA
    # when the same shipment's lot is placed at each FC, each reads its own calendar date
    assert lot(LA, point, 10, NOW).in_stock_date == TUE
    assert lot(BERLIN, point, 10, NOW).in_stock_date == WED


def test_r7_end_of_local_day_is_midnight_in_the_fcs_zone() -> None:
    assert LA.end_of_local_day(TUE) == utc(2025, 6, 4, 7)  # PDT is UTC-7
    assert BERLIN.end_of_local_day(TUE) == utc(2025, 6, 3, 22)  # CEST is UTC+2


def test_r7_head_start_ship_date_is_in_stock_date_plus_handling_days() -> None:
    assert ship_date(LA, WED, NOW, on_hand=False) == THU
    assert ship_date(LA, THU, NOW, on_hand=False) == FRI


def test_r7_head_start_ship_date_skips_the_weekend() -> None:
    assert ship_date(LA, FRI, NOW, on_hand=False) == NEXT_MON  # Fri + 1 = Sat
    assert ship_date(LA, SAT, NOW, on_hand=False) == NEXT_MON
    assert ship_date(fc_los_angeles(handling_days=2), THU, NOW, on_hand=False) == NEXT_MON


def test_r7_head_start_ship_date_skips_holidays() -> None:
    fc = fc_los_angeles(holidays=frozenset({NEXT_MON}))

    assert ship_date(fc, FRI, NOW, on_hand=False) == NEXT_TUE


def test_r7_head_start_handling_days_count_even_when_in_stock_date_is_today() -> None:
    # units arriving today still need handling: never the on-hand same-day ship
    assert ship_date(LA, MON, local(LA, MON, time(8, 0)), on_hand=False) == TUE


def test_r3_on_hand_order_before_cutoff_on_an_operating_day_ships_the_same_day() -> None:
    assert ship_date(LA, MON, local(LA, MON, time(13, 59, 59)), on_hand=True) == MON


def test_r3_on_hand_order_at_or_after_cutoff_ships_the_next_operating_day() -> None:
    assert ship_date(LA, MON, local(LA, MON, time(14, 0)), on_hand=True) == TUE
    assert ship_date(LA, FRI, local(LA, FRI, time(16, 0)), on_hand=True) == NEXT_MON


def test_r3_on_hand_order_on_a_weekend_or_holiday_ships_the_next_operating_day() -> None:
    holiday_monday = fc_los_angeles(holidays=frozenset({NEXT_MON}))

    assert ship_date(LA, SAT, local(LA, SAT, time(9, 0)), on_hand=True) == NEXT_MON
    assert ship_date(LA, SUN, local(LA, SUN, time(9, 0)), on_hand=True) == NEXT_MON
    assert ship_date(holiday_monday, NEXT_MON, local(LA, NEXT_MON, time(9)), on_hand=True) == (
        NEXT_TUE
    )


def test_r7_cutoff_is_judged_on_the_fcs_local_clock() -> None:
    # 20:30 UTC on Monday is 13:30 in Los Angeles but 22:30 in Berlin
    instant = utc(2025, 6, 2, 20, 30)

    assert LA.is_before_cutoff(instant) is True
    assert BERLIN.is_before_cutoff(instant) is False
    assert ship_date(LA, MON, instant, on_hand=True) == MON
    assert ship_date(BERLIN, MON, instant, on_hand=True) == TUE


def test_r7_delivery_date_adds_outbound_transit_calendar_days_for_the_region() -> None:
    assert delivery_date(LA, FRI, "us-west") == SUN
    assert delivery_date(LA, FRI, "us-east") == date(2025, 6, 11)


def test_r7_make_promise_chains_in_stock_ship_and_delivery_dates() -> None:
    promise = make_promise(LA, FRI, "us-west", NOW, confidence=0.98, on_hand=False)

    assert promise == Promise(
        fc="LAX1",
        promised_in_stock_date=FRI,
        promised_ship_date=NEXT_MON,
        promised_delivery_date=date(2025, 6, 11),
        confidence=0.98,
    )


def test_r7_promise_round_trips_through_its_record() -> None:
    promise = make_promise(LA, FRI, "us-west", NOW, confidence=0.98, on_hand=False)

    assert Promise.from_dict(promise.to_dict()) == promise


def test_r7_fc_without_any_operating_day_is_an_error_not_a_hang() -> None:
    closed = fc_los_angeles(operating_weekdays=frozenset())

    with pytest.raises(ValueError):
        closed.next_operating_day(MON)
