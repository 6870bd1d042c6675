"""The load an arrival will meet, forecast from the FC's deliveries and inbound freight."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from headstart.domain.estimate import ShipmentProgress
from headstart.domain.estimate.errors import InvalidEstimateInput
from headstart.domain.estimate.fc_load import FcLoadIndex
from headstart.domain.estimate.inbound import (
    AHEAD_DAYS,
    PAST_DAYS,
    ArrivalForecast,
    InboundIndex,
    daily_arrivals,
    delivered_window,
    fit_arrival_forecast,
    typical_transit_hours,
    window_deliveries,
)
from headstart.domain.estimate.milestone_codec import milestone_from_dict, milestone_to_dict
from headstart.domain.estimate.milestone_fit import fit_milestone_model
from headstart.domain.estimate.pool_keys import peak_mask
from headstart.domain.estimate.stages import progress_at
from tests.unit.estimate.history_builders import DAY, SPRING, parcel_history, shipment

_DAY_S = 86400.0


def test_daily_arrivals_counts_the_deliveries_made_then_the_freight_due_by_day() -> None:
    now = 100 * _DAY_S
    delivered = np.sort(np.array([now - 0.5 * _DAY_S, now - 1.5 * _DAY_S, now - 20 * _DAY_S]))
    expected = np.array([now - 3600.0, now + 0.2 * _DAY_S, now + 2.5 * _DAY_S, now + 40 * _DAY_S])

    counts = daily_arrivals(now, delivered, expected)

    assert len(counts) == PAST_DAYS + AHEAD_DAYS
    assert counts[PAST_DAYS - 1] == 1 and counts[PAST_DAYS - 2] == 1  # the last two days
    assert sum(counts[:PAST_DAYS]) == 2  # 20 days back is out of view
    assert counts[PAST_DAYS] == 2  # overdue and due today
    assert counts[PAST_DAYS + 2] == 1
    assert sum(counts[PAST_DAYS:]) == 3  # 40 days ahead is out of view


def test_the_week_before_an_arrival_counts_what_was_delivered_and_what_is_due() -> None:
    counts = [10] * PAST_DAYS + [20] * AHEAD_DAYS

    now_week = window_deliveries(counts, np.array([0.0, 3.0, 7.0]))
    on_delivery = delivered_window(counts, 2.0)

    assert now_week.tolist() == pytest.approx([70.0, 4 * 10 + 3 * 20, 140.0])
    assert on_delivery == pytest.approx(70.0)
    assert delivered_window(counts, PAST_DAYS) is None  # its week is not all in view


def test_inbound_freight_is_expected_at_its_latest_eta_known_then_else_at_the_typical_transit() -> (
    None
):
    quoted = shipment(1, transit_days=4.0, receiving_days=1.0, eta_error_days=1.0)
    silent = shipment(2, transit_days=4.0, receiving_days=1.0, eta_error_days=None)
    index = InboundIndex.of([quoted, silent])
    t = (SPRING + 2 * DAY).timestamp()

    expected = sorted(index.expected_at("EWR1", t).tolist())

    eta = (SPRING + 3 * DAY).timestamp()  # delivered a day after its ETA
    typical = SPRING.timestamp() + typical_transit_hours("parcel") * 3600.0
    assert expected == pytest.approx(sorted([eta, typical]))
    assert index.expected_at("EWR1", (SPRING + 5 * DAY).timestamp()).size == 0  # delivered
    assert index.expected_at("EWR1", (SPRING - DAY).timestamp()).size == 0  # not shipped


def test_the_forecast_is_sharper_for_near_arrivals_than_for_far_ones() -> None:
    # Given a history whose FC takes bursts of freight at irregular intervals
    rng = np.random.default_rng(3)
    history = []
    for i in range(1500):
        burst = int(i // 50)
        start = SPRING + burst * (4 + int(rng.integers(0, 8))) * DAY / 2
        history.append(
            shipment(i, transit_days=float(rng.uniform(1.0, 5.0)), receiving_days=1.0,
                     shipped_at=start + float(rng.uniform(0.0, 1.0)) * DAY)
        )  # fmt: skip
    index = FcLoadIndex.of(history)
    assert index.inbound is not None
    usual = {"EWR1": (60.0, 10.0)}  # a level to measure the loads against

    forecast = fit_arrival_forecast(
        index.inbound, index.delivered, index.load_at_seconds, usual, None, peak_mask
    )

    assert forecast is not None
    sd = forecast.spread((1.0, 0.0), np.array([0.5, 30.0]))
    assert sd[0] < sd[1]
    assert forecast.explained((1.0, 0.0), np.array([0.5]))[0] > 0.3


def test_progress_refuses_negative_arrival_counts() -> None:
    progress = progress_at(parcel_history(1)[0], SPRING + timedelta(hours=1))
    with pytest.raises(InvalidEstimateInput):
        replace(progress, fc_arrivals=(1, -1))
    assert isinstance(replace(progress, fc_arrivals=(1, 2)), ShipmentProgress)


def test_a_stored_model_keeps_its_arrival_forecast_and_fc_levels() -> None:
    history = parcel_history(200)
    model = fit_milestone_model(history)
    assert model.load.arrival is not None

    back = milestone_from_dict(milestone_to_dict(model))

    assert back.load.arrival == model.load.arrival
    assert back.fc_levels == model.fc_levels
    assert back.peak_tail == model.peak_tail
    assert back.version == model.version


def test_an_estimate_without_the_arrivals_view_still_works() -> None:
    history = parcel_history(200)
    model = fit_milestone_model(history)
    new = history[-1]
    at = new.shipped_at + timedelta(hours=1)
    index = FcLoadIndex.of(history)
    backlog, recent = index.load_at("EWR1", at)
    seen = progress_at(new, at, fc_backlog=backlog, fc_deliveries_7d=recent,
                       fc_arrivals=index.arrivals_at("EWR1", at))  # fmt: skip
    blind = replace(seen, fc_arrivals=None)

    assert model.estimate(seen, at).p50 > at
    assert model.estimate(blind, at).p50 > at


def test_arrival_forecast_round_trips_as_a_dict() -> None:
    forecast = ArrivalForecast(((0.0,) * 11,) * 9, ((1.0,) * 11,) * 9)
    assert ArrivalForecast.from_dict(forecast.to_dict()) == forecast
