"""R7 at the edges of the calendar: daylight-saving changes and a leap day at an FC.

A date exists only in an FC's own time zone (domain/calendar.py). On the days its
clocks jump, a local day lasts 23 or 25 hours: a promise computed with "+24 hours"
or with a fixed UTC offset would be a day off for the hour around midnight and the
cut-off. These tests pin the promise at each such edge, for New York (8 March and
1 November 2026), Berlin (29 March and 25 October 2026) and 29 February 2028, and a
property checks every day of 2026-2028 in zones with odd changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.placement import quote
from headstart.domain.promise import make_promise, ship_date
from tests.unit.domain.builders import (
    POLICY,
    at_fc,
    estimate_between,
    fc_berlin,
    fc_los_angeles,
    fc_new_york,
    hours_until,
    lot,
    sku_supply,
    utc,
)

NY = fc_new_york()  # handling 1 day, cut-off 14:00, us-east 1 day
BERLIN = fc_berlin()  # handling 1 day, cut-off 14:00, eu-central 1 day
LA = fc_los_angeles()  # handling 1 day, cut-off 14:00, us-west 2 days
HOUR = timedelta(hours=1)


def day_ends(fc: FulfillmentCenter, day: date) -> datetime:
    """``end_of_local_day`` in UTC. Python subtracts and compares two datetimes of the same
    zone by their wall clocks, ignoring the offset: only UTC arithmetic sees a 23 h day."""
    return fc.end_of_local_day(day).astimezone(UTC)


def in_stock_at(fc: FulfillmentCenter, instant: datetime, now: datetime) -> date:
    """The in-stock date of a lot certain to be sellable at ``instant`` (R7)."""
    hours = hours_until(now, instant)
    return lot(fc, estimate_between(now, hours, hours), 10, now).in_stock_date


# ---------------------------------------------------------------- New York, spring forward


def test_r7_new_york_spring_forward_day_lasts_23_hours() -> None:
    # 8 March 2026: 02:00 EST becomes 03:00 EDT (07:00 UTC)
    assert NY.end_of_local_day(date(2026, 3, 7)) == utc(2026, 3, 8, 5)  # EST, UTC-5
    assert NY.end_of_local_day(date(2026, 3, 8)) == utc(2026, 3, 9, 4)  # EDT, UTC-4
    assert day_ends(NY, date(2026, 3, 8)) - day_ends(NY, date(2026, 3, 7)) == 23 * HOUR


def test_r7_new_york_midnight_moves_an_hour_earlier_in_utc_after_spring_forward() -> None:
    assert NY.local_date(utc(2026, 3, 8, 4, 59)) == date(2026, 3, 7)  # 23:59 EST
    assert NY.local_date(utc(2026, 3, 8, 5, 0)) == date(2026, 3, 8)  # 00:00 EST
    assert NY.local_date(utc(2026, 3, 9, 3, 59)) == date(2026, 3, 8)  # 23:59 EDT
    assert NY.local_date(utc(2026, 3, 9, 4, 0)) == date(2026, 3, 9)  # 00:00 EDT


def test_r7_a_lot_in_stock_at_0030_after_spring_forward_is_promised_for_that_day() -> None:
    # given now on Friday 6 March and a lot certain to be in stock at 00:30 EDT on 9 March
    now = utc(2026, 3, 6, 15)
    # then its in-stock date is 9 March: a "+24 h from the 8th's midnight" would say the 8th
    assert in_stock_at(NY, utc(2026, 3, 9, 4, 30), now) == date(2026, 3, 9)
    assert in_stock_at(NY, utc(2026, 3, 9, 3, 30), now) == date(2026, 3, 8)  # 23:30 EDT


def test_r7_new_york_cutoff_is_14_00_local_on_both_sides_of_spring_forward() -> None:
    # 18:30 UTC is 13:30 EST on Friday 6 March but 14:30 EDT on Monday 9 March
    before, after = utc(2026, 3, 6, 18, 30), utc(2026, 3, 9, 18, 30)
    assert NY.is_before_cutoff(before) is True
    assert NY.is_before_cutoff(after) is False
    assert ship_date(NY, date(2026, 3, 6), before, on_hand=True) == date(2026, 3, 6)
    assert ship_date(NY, date(2026, 3, 9), after, on_hand=True) == date(2026, 3, 10)
    # ... and 17:30 UTC on Monday is 13:30 EDT: still the same day
    assert ship_date(NY, date(2026, 3, 9), utc(2026, 3, 9, 17, 30), on_hand=True) == date(
        2026, 3, 9
    )


def test_r7_head_start_promise_over_the_spring_forward_weekend() -> None:
    # given units in stock on Saturday 7 March, the night the clocks jump
    promise = make_promise(
        NY, date(2026, 3, 7), "us-east", utc(2026, 3, 2, 15), confidence=0.97, on_hand=False
    )
    # then handling lands on Sunday 8 March, so it ships Monday 9 and arrives Tuesday 10
    assert promise.promised_ship_date == date(2026, 3, 9)
    assert promise.promised_delivery_date == date(2026, 3, 10)


# ---------------------------------------------------------------- New York, fall back


def test_r7_new_york_fall_back_day_lasts_25_hours() -> None:
    # 1 November 2026: 02:00 EDT becomes 01:00 EST (06:00 UTC)
    assert day_ends(NY, date(2026, 11, 1)) - day_ends(NY, date(2026, 10, 31)) == 25 * HOUR
    assert NY.end_of_local_day(date(2026, 11, 1)) == utc(2026, 11, 2, 5)  # EST


def test_r7_both_passes_of_the_repeated_hour_are_the_same_date() -> None:
    # 05:30 UTC is 01:30 EDT, 06:30 UTC is 01:30 EST: both on 1 November
    now = utc(2026, 10, 26, 15)
    assert in_stock_at(NY, utc(2026, 11, 1, 5, 30), now) == date(2026, 11, 1)
    assert in_stock_at(NY, utc(2026, 11, 1, 6, 30), now) == date(2026, 11, 1)
    # and 23:30 EST on 1 November (04:30 UTC on the 2nd) is still the 1st
    assert in_stock_at(NY, utc(2026, 11, 2, 4, 30), now) == date(2026, 11, 1)


def test_r7_confidence_covers_the_whole_25_hour_day() -> None:
    # given a lot certain to be in stock at 23:30 EST on Sunday 1 November, 24.5 hours
    # after that day began
    now = utc(2026, 10, 26, 15)
    hours = hours_until(now, utc(2026, 11, 2, 4, 30))
    supply = sku_supply(at_fc(NY, lots=(lot(NY, estimate_between(now, hours, hours), 5, now),)))
    # when a buyer asks for it
    offer = quote(supply, 1, "us-east", POLICY, now)
    # then the promise is for the 1st, made with full confidence (the day ends at 05:00 UTC)
    assert offer.promise is not None
    assert offer.promise.promised_in_stock_date == date(2026, 11, 1)
    assert offer.promise.confidence == 1.0
    assert offer.promise.promised_ship_date == date(2026, 11, 2)


# ---------------------------------------------------------------- Berlin


def test_r7_berlin_days_around_its_own_daylight_saving_changes() -> None:
    # 29 March 2026: 02:00 CET becomes 03:00 CEST; 25 October: 03:00 CEST becomes 02:00 CET
    spring = day_ends(BERLIN, date(2026, 3, 29)) - day_ends(BERLIN, date(2026, 3, 28))
    autumn = day_ends(BERLIN, date(2026, 10, 25)) - day_ends(BERLIN, date(2026, 10, 24))
    assert (spring, autumn) == (23 * HOUR, 25 * HOUR)
    assert BERLIN.end_of_local_day(date(2026, 3, 29)) == utc(2026, 3, 29, 22)  # CEST, UTC+2


def test_r7_an_instant_between_the_us_and_eu_changes_is_read_in_each_fcs_own_offset() -> None:
    # 13:30 UTC on Monday 9 March: New York is already on EDT (09:30), Berlin not yet
    # on CEST (14:30): Berlin is past its cut-off, New York is not
    instant = utc(2026, 3, 9, 13, 30)
    assert NY.is_before_cutoff(instant) is True
    assert BERLIN.is_before_cutoff(instant) is False
    assert ship_date(BERLIN, date(2026, 3, 9), instant, on_hand=True) == date(2026, 3, 10)


def test_r7_berlin_in_stock_dates_at_its_midnights_around_the_autumn_change() -> None:
    now = utc(2026, 10, 19, 9)
    assert in_stock_at(BERLIN, utc(2026, 10, 24, 21, 59), now) == date(2026, 10, 24)  # CEST
    assert in_stock_at(BERLIN, utc(2026, 10, 24, 22, 0), now) == date(2026, 10, 25)
    assert in_stock_at(BERLIN, utc(2026, 10, 25, 22, 59), now) == date(2026, 10, 25)  # CET
    assert in_stock_at(BERLIN, utc(2026, 10, 25, 23, 0), now) == date(2026, 10, 26)


# ---------------------------------------------------------------- leap day


def test_r7_a_lot_in_stock_late_on_29_february_2028_is_promised_for_the_leap_day() -> None:
    # 07:30 UTC on 1 March 2028 is 23:30 PST on Tuesday 29 February in Los Angeles
    now = utc(2028, 2, 24, 18)
    assert in_stock_at(LA, utc(2028, 3, 1, 7, 30), now) == date(2028, 2, 29)
    promise = make_promise(LA, date(2028, 2, 29), "us-west", now, confidence=0.97, on_hand=False)
    assert promise.promised_ship_date == date(2028, 3, 1)
    assert promise.promised_delivery_date == date(2028, 3, 3)


def test_r7_handling_from_28_february_2028_lands_on_the_leap_day() -> None:
    now = utc(2028, 2, 24, 18)
    assert ship_date(LA, date(2028, 2, 28), now, on_hand=False) == date(2028, 2, 29)
    # a holiday on the leap day moves it to 1 March, never to a day that does not exist
    closed = fc_los_angeles(holidays=frozenset({date(2028, 2, 29)}))
    assert ship_date(closed, date(2028, 2, 28), now, on_hand=False) == date(2028, 3, 1)


def test_r7_on_hand_order_on_the_leap_day_ships_that_day_before_the_cutoff() -> None:
    before = datetime.combine(date(2028, 2, 29), time(13, 59), tzinfo=LA.zone)
    after = datetime.combine(date(2028, 2, 29), time(14, 0), tzinfo=LA.zone)
    assert ship_date(LA, date(2028, 2, 29), before, on_hand=True) == date(2028, 2, 29)
    assert ship_date(LA, date(2028, 2, 29), after, on_hand=True) == date(2028, 3, 1)
    assert LA.end_of_local_day(date(2028, 2, 29)) == utc(2028, 3, 1, 8)  # PST, UTC-8


# ---------------------------------------------------------------- every day, odd zones

# Zones whose changes are unusual: at midnight (Santiago, Havana, Beirut), by half an
# hour (Lord Howe), with half-hour offsets (St John's, Adelaide), and the usual ones.
ZONES = (
    "America/New_York",
    "Europe/Berlin",
    "America/Los_Angeles",
    "America/Santiago",
    "America/Havana",
    "Asia/Beirut",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Australia/Adelaide",
    "Pacific/Kiritimati",
)


def fc_in(zone: str) -> FulfillmentCenter:
    return fc_new_york(code="ODD1", time_zone=zone)


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    instant=st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001 - hypothesis adds the zone below
        max_value=datetime(2028, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_r7_every_instant_falls_in_exactly_one_local_day_that_ends_at_the_next_midnight(
    zone: str, instant: datetime
) -> None:
    fc = fc_in(zone)
    day = fc.local_date(instant)
    end = day_ends(fc, day)
    # the day the instant is in ends after it, at most 25 hours later, and the next
    # local day starts exactly there (however long the day was)
    assert instant < end <= instant + 25 * HOUR
    assert fc.local_date(end) == day + timedelta(days=1)
    assert fc.local_date(end - timedelta(microseconds=1)) == day


@settings(max_examples=200, deadline=None)
@given(zone=st.sampled_from(ZONES), day=st.dates(date(2026, 1, 1), date(2028, 12, 31)))
def test_r7_a_head_start_promise_never_ships_before_handling_or_on_a_closed_day(
    zone: str, day: date
) -> None:
    fc = fc_in(zone)
    now = datetime.combine(day, time(12), tzinfo=ZoneInfo(zone))
    promise = make_promise(fc, day, "us-east", now, confidence=0.97, on_hand=False)
    assert promise.promised_ship_date >= day + timedelta(days=fc.handling_days)
    assert fc.is_operating_day(promise.promised_ship_date)
    assert promise.promised_delivery_date == promise.promised_ship_date + timedelta(days=1)


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("America/Santiago", date(2026, 9, 5)),  # 24:00 on Saturday is 01:00 on Sunday
        ("America/Havana", date(2026, 3, 7)),  # the same, in March
        ("Asia/Beirut", date(2026, 3, 28)),  # the same, in Beirut
    ],
)
def test_r7_a_day_whose_midnight_never_happens_ends_at_the_first_instant_of_the_next(
    zone: str, day: date
) -> None:
    fc = fc_in(zone)
    end = day_ends(fc, day)
    local = end.astimezone(fc.zone)
    assert (local.date(), local.time()) == (day + timedelta(days=1), time(1))
    assert fc.local_date(end - timedelta(seconds=1)) == day
