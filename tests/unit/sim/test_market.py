"""The simulator's demand, reorder policy and paired random streams (issue 6)."""

from __future__ import annotations

from datetime import date

import numpy as np

from headstart.sim.market.demand import SeasonCurve, base_rates, draw_day, seasonality, thanksgiving
from headstart.sim.market.sellers import reorder_quantity
from headstart.sim.market.streams import numpy_stream, python_stream


def test_thanksgiving_is_the_fourth_thursday_of_november() -> None:
    assert thanksgiving(2025) == date(2025, 11, 27)
    assert thanksgiving(2026) == date(2026, 11, 26)


def test_peak_season_and_weekends_raise_demand() -> None:
    june_tuesday, december_tuesday = date(2025, 6, 10), date(2025, 12, 9)
    assert seasonality(december_tuesday) > 1.8 * seasonality(june_tuesday)
    assert seasonality(date(2025, 6, 14)) > seasonality(june_tuesday)  # Saturday
    assert seasonality(date(2025, 11, 28)) == 2 * seasonality(date(2025, 11, 28), 1.8) / 2


def test_demand_follows_the_rates_on_average() -> None:
    rates = np.full(200, 0.5)
    rng = numpy_stream(1, "demand")
    days = [date(2025, 3, 3 + d) for d in range(28)]  # four whole weeks, no peak
    total = sum(len(draw_day(rng, rates, day, 1.8)) for day in days)
    expected = sum(0.5 * 200 * seasonality(day) for day in days)
    assert abs(total - expected) < 4 * expected**0.5


def test_base_rates_have_the_requested_mean() -> None:
    rates = base_rates(numpy_stream(2, "rates"), 20000, 0.3)
    assert abs(rates.mean() - 0.3) < 0.02


def test_reorder_point_policy_orders_only_at_or_below_the_point() -> None:
    season = SeasonCurve(date(2025, 3, 1), 400, 1.8)
    assert reorder_quantity(1000, 1.0, "parcel", 5.0, 0, season) == 0
    ordered = reorder_quantity(0, 1.0, "parcel", 5.0, 0, season)
    assert ordered > 21  # the lead time's demand, safety stock and three weeks of cover
    assert reorder_quantity(0, 1.0, "ocean", 40.0, 0, season) > ordered


def test_streams_are_reproducible_and_independent_by_purpose() -> None:
    assert numpy_stream(7, "demand").random() == numpy_stream(7, "demand").random()
    assert numpy_stream(7, "demand").random() != numpy_stream(7, "prices").random()
    same, other = python_stream(7, "shipment", 1, 2), python_stream(7, "shipment", 1, 3)
    assert python_stream(7, "shipment", 1, 2).random() == same.random()
    assert python_stream(7, "shipment", 1, 2).random() != other.random()


def test_demand_draws_do_not_depend_on_what_was_bought() -> None:
    """Pairing: the runs with and without head start see the same buyers every day."""
    rates = np.full(50, 0.4)
    first, second = numpy_stream(3, "demand"), numpy_stream(3, "demand")
    for offset in range(5):
        day = date(2025, 5, 1 + offset)
        assert draw_day(first, rates, day, 1.8) == draw_day(second, rates, day, 1.8)
