"""The milestone model (section 4): stages, the carrier's ETA, shrinkage, serialization."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from headstart.domain.estimate import ClosedShipment, InStockEstimator, ShipmentProgress
from headstart.domain.estimate.calibrated import CalibratedEstimator, fit_estimator
from headstart.domain.estimate.errors import InvalidEstimateInput
from headstart.domain.estimate.fc_load import FcLoadIndex, LoadEffect
from headstart.domain.estimate.milestone import LOAD_SPEAKS, MilestoneSettings, borrowed_weight
from headstart.domain.estimate.milestone_codec import milestone_from_dict, milestone_to_dict
from headstart.domain.estimate.milestone_fit import (
    MilestoneFitter,
    fit_milestone_model,
    open_weights,
    peak_mapping,
    young_season_share,
)
from headstart.domain.estimate.pools import Pool
from headstart.domain.estimate.stages import progress_at
from tests.unit.estimate.history_builders import DAY, SPRING, parcel_history, shipment, spread

HISTORY = parcel_history(200)
MODEL = fit_milestone_model(HISTORY)


def _hours_to(estimate_at, instant) -> float:  # type: ignore[no-untyped-def]
    return (instant - estimate_at).total_seconds() / 3600.0


def test_estimate_follows_the_carriers_eta_when_the_history_shows_it_is_exact() -> None:
    # Given a history whose ETAs were always exact, and a new parcel quoted 5 days out
    new = shipment(999, transit_days=5.0, receiving_days=1.0, shipped_at=SPRING + 100 * DAY)
    at = new.events[0].occurred_at
    progress = progress_at(new, at)

    estimate = MODEL.estimate(progress, at)

    # Then transit is the ETA (longer than any in the history) plus receiving (0.5-1.5 d)
    eta_hours = _hours_to(at, new.delivered_at)
    assert MODEL.choice["parcel|departed_origin"] == "A"
    assert eta_hours + 12 <= _hours_to(at, estimate.p50) <= eta_hours + 36


def test_without_an_eta_the_remaining_time_is_conditioned_on_time_spent_since_the_milestone() -> (
    None
):
    history = [
        replace(s, events=tuple(replace(e, carrier_eta=None) for e in s.events)) for s in HISTORY
    ]
    model = fit_milestone_model(history)
    new = history[10]
    departed = new.events[0].occurred_at
    progress = progress_at(new, departed)

    fresh = model.estimate(progress, departed)
    later = model.estimate(progress, departed + 2 * DAY)

    # Two days later with no news less remains, but less than two days less at the median:
    # the quick ones are ruled out, so the median moves toward the slow ones.
    remaining_then = _hours_to(departed, fresh.p50)
    remaining_now = _hours_to(departed + 2 * DAY, later.p50)
    assert remaining_then - 48 < remaining_now < remaining_then


def test_stages_are_combined_as_distributions_not_by_adding_quantiles() -> None:
    new = HISTORY[50]
    at = new.shipped_at
    estimate = MODEL.estimate(progress_at(new, at), at)
    transit_p97 = max(s.delivered_at - s.shipped_at for s in HISTORY)  # type: ignore[operator]
    receiving_p97 = max(s.in_stock_at - s.delivered_at for s in HISTORY)  # type: ignore[operator]

    assert estimate.p97 - at < transit_p97 + receiving_p97


def test_a_sparse_lane_borrows_from_its_mode_instead_of_falling_off_a_cliff() -> None:
    # Given 200 parcels on the usual lane and 3 on a new lane that took 10 days
    odd = [
        shipment(
            500 + i, transit_days=10.0, receiving_days=1.0, origin="US-CA", eta_error_days=None
        )
        for i in range(3)
    ]
    model = fit_milestone_model(
        [replace(s, events=tuple(replace(e, carrier_eta=None) for e in s.events)) for s in HISTORY]
        + odd
    )
    probe = replace(odd[0], shipment_id="P")
    at = probe.events[0].occurred_at
    p50 = _hours_to(at, model.estimate(progress_at(probe, at), at).p50) / 24.0

    # Then the lane pulls the estimate up from the mode's ~3 days, but 3 shipments are not
    # enough to own it (shrinkage, not a cliff at some minimum count)
    assert 3.5 < p50 < 10.0


def test_an_air_history_with_only_departed_arrived_and_delivered_and_planned_etas_fits() -> None:
    air = [
        shipment(
            i, mode="air", origin="CN-SZX", transit_days=t, receiving_days=1.0,
            milestones=("departed_origin", "arrived_port"), eta_error_days=t - 6.0,
            shipped_at=SPRING + i * timedelta(hours=5), program="global_logistics",
        )
        for i, t in enumerate(spread(120, 5.0, 8.0))
    ]  # fmt: skip
    model = fit_milestone_model(air)
    probe = air[60]
    at = probe.events[1].occurred_at  # arrived at the destination airport

    estimate = model.estimate(progress_at(probe, at), at)

    assert estimate.basis == "history"
    assert estimate.p50 < estimate.p97 <= probe.shipped_at + 10 * DAY


def test_a_mode_the_history_never_saw_falls_back_on_the_published_prior() -> None:
    progress = ShipmentProgress(
        "ocean", "global_logistics", "CN-SHA", "LAX1", SPRING, None, None, None, None
    )

    estimate = MODEL.estimate(progress, SPRING)

    assert estimate.basis == "prior"
    assert 15 * 24 < _hours_to(SPRING, estimate.p50) < 60 * 24


def test_the_model_and_the_calibrated_estimator_implement_the_estimator_interface() -> None:
    estimator: InStockEstimator = fit_estimator(HISTORY)

    assert estimator.version.startswith("milestone-1+history-200-")
    assert isinstance(estimator, CalibratedEstimator)


def test_a_stored_model_rebuilds_into_the_same_estimates_and_version() -> None:
    stored = json.loads(json.dumps(milestone_to_dict(MODEL)))
    rebuilt = milestone_from_dict(stored)
    probe = HISTORY[42]
    at = probe.events[1].occurred_at

    assert rebuilt.version == MODEL.version
    assert rebuilt.estimate(progress_at(probe, at), at) == MODEL.estimate(
        progress_at(probe, at), at
    )


def test_the_version_changes_with_the_history_and_the_settings() -> None:
    assert fit_milestone_model(HISTORY[:199]).version != MODEL.version
    assert fit_milestone_model(HISTORY, MilestoneSettings(lane_k=5)).version != MODEL.version
    assert fit_milestone_model(HISTORY).version == MODEL.version


@pytest.mark.parametrize("days_late", [0.0, 3.0])
def test_unvalidated_tracking_a_day_after_shipping_widens_the_estimate(days_late: float) -> None:
    probe = HISTORY[7]
    at = probe.shipped_at + DAY + days_late * DAY
    progress = progress_at(probe, probe.shipped_at)
    validated = MODEL.estimate(progress, at)
    unvalidated = MODEL.estimate(replace(progress, tracking_validated=False), at)

    assert unvalidated.p97 > validated.p97


def test_peak_borrows_off_peak_receiving_mapped_quantile_by_quantile_onto_the_prior() -> None:
    off = Pool.of(spread(500, 10.0, 50.0))
    peak = Pool.of([3.0 * v for v in spread(250, 10.0, 30.0)] + spread(250, 100.0, 900.0))

    ratio = peak_mapping(off, peak)(100)

    # The published peak is slower and wider: its tail is stretched more than its middle
    assert ratio[97] > ratio[50] > 1.0


def test_a_slow_outcome_of_a_young_season_weighs_for_the_slow_ones_still_open() -> None:
    history = parcel_history(200)
    index = FcLoadIndex.of(history)
    last = max(s.delivered_at for s in history if s.delivered_at is not None)
    arrival = last.timestamp() - 5 * 86400.0
    quick = ("delivered", "parcel", "EWR1", "off", 12.0, arrival, 0, 0)
    slow = ("delivered", "parcel", "EWR1", "off", 96.0, arrival, 0, 0)

    weights = open_weights([quick, slow], index, last.timestamp())

    assert weights[1] > weights[0] >= 1.0


PEAK_START = datetime(2025, 10, 15, tzinfo=UTC)


def test_a_young_peak_takes_a_share_falling_to_nothing_from_the_published_figures() -> None:
    prior = Pool.of(spread(1000, 24.0, 30 * 24.0))  # peak receiving up to 30 days

    shares = [young_season_share(PEAK_START + k * DAY, prior) for k in (1, 7, 20, 50)]

    assert young_season_share(PEAK_START - DAY, prior) == 0.0  # off-peak
    assert 1.0 > shares[0] > shares[1] > shares[2] > 0.0
    assert shares[3] == 0.0  # as old as the prior's slow tail: the peak's own pools speak


def _a_week_into_peak_with_quick_first_receipts() -> tuple[list[ClosedShipment], datetime]:
    """Off-peak parcels, and peak ones delivered in the peak's first week whose receipts
    all closed within a day (the slow ones are still open); the moment a week in."""
    history = parcel_history(200, start=PEAK_START - 60 * DAY) + [
        shipment(1000 + i, transit_days=2.0, receiving_days=0.5 + (i % 5) * 0.1,
                 shipped_at=PEAK_START + i * timedelta(hours=3))
        for i in range(40)
    ]  # fmt: skip
    return history, PEAK_START + 7 * DAY


def test_a_week_into_peak_its_quick_first_receipts_do_not_make_a_quick_season() -> None:
    # Given a history of off-peak parcels and peak ones delivered in the peak's first week
    # whose receipts all closed within a day, and nothing else known (closed shipments
    # alone, as a service's history: no open delivery tells how slow the rest will be)
    history, now = _a_week_into_peak_with_quick_first_receipts()
    closed = [s for s in history if s.in_stock_at <= now]
    fitter = MilestoneFitter(MilestoneSettings(), FcLoadIndex.of(closed))
    for item in closed:
        fitter.add_transit(item)
        fitter.add_receiving(item)
    model = fitter.model(now)
    delivered = history[-1]  # delivered a week in, not yet in stock
    progress = progress_at(delivered, delivered.delivered_at + timedelta(hours=1))

    young = model.estimate(progress, now)
    mature = replace(model, young_peak=0.0).estimate(progress, now)

    # Then the published figures stand in for the peak's slow receipts
    assert model.young_peak > 0.5
    assert not model.peak_tail
    assert young.p97 > mature.p97 + 3 * DAY


def test_a_week_into_peak_the_slow_deliveries_still_open_say_how_slow_the_season_is() -> None:
    # Given the same quick first receipts, and the peak's other deliveries of its first
    # week, still open a week in (a live service knows every delivery, open or not)
    history, now = _a_week_into_peak_with_quick_first_receipts()
    slow = [
        shipment(2000 + i, transit_days=2.0, receiving_days=10.0 + (i % 5),
                 shipped_at=PEAK_START + i * timedelta(hours=3) + timedelta(hours=1))
        for i in range(40)
    ]  # fmt: skip
    fitter = MilestoneFitter(MilestoneSettings(), FcLoadIndex.of(history + slow))
    for item in history:
        fitter.add_transit(item)
        fitter.add_receiving(item)
    model = fitter.model(now)
    delivered = history[-1]
    progress = progress_at(delivered, delivered.delivered_at + timedelta(hours=1))

    # When a delivered shipment is estimated
    censored = model.estimate(progress, now)
    pools_only = replace(model, young_peak=0.0, peak_tail={}).estimate(progress, now)

    # Then the censored fit of every delivery so far puts the open ones' share past the
    # peak's age: the estimate is slow though the pools hold only the quick receipts
    assert model.peak_tail
    assert censored.p97 > pools_only.p97 + 3 * DAY


def test_a_young_peak_borrows_fully_for_far_arrivals_and_half_where_the_load_now_holds() -> None:
    # At the FC the load seen now is the load the receipt meets; weeks away it says little
    assert borrowed_weight(1.0) == pytest.approx(1.0 - LOAD_SPEAKS) == pytest.approx(0.5)
    assert borrowed_weight(0.0) == 1.0
    assert borrowed_weight(1.0) < borrowed_weight(0.6) < borrowed_weight(0.1) < 1.0


def test_at_the_fc_a_young_peak_borrows_less_than_its_full_share_but_more_than_none() -> None:
    # Given a week-old peak whose first receipts all closed within a day, and no open
    # delivery known (so the published figures stand in for its slow receipts)
    history, now = _a_week_into_peak_with_quick_first_receipts()
    model = fit_milestone_model([s for s in history if s.in_stock_at <= now], now=now)
    delivered = history[-1]
    progress = progress_at(delivered, delivered.delivered_at + timedelta(hours=1))

    # When a delivered shipment is estimated, with the load seen now standing for half
    at_fc = model.estimate(progress, now).p97
    full = replace(model, young_peak=model.young_peak * 2).estimate(progress, now).p97
    none = replace(model, young_peak=0.0).estimate(progress, now).p97

    # Then it lies between borrowing nothing and borrowing the peak's whole young share
    assert model.young_peak > 0.5
    assert none < at_fc < full


def _at_the_fc(now: tuple[int, int], then: tuple[int, int] | None):  # type: ignore[no-untyped-def]
    """A parcel a day after delivery to EWR1, told its FC's (backlog, deliveries in the last
    7 days) ``now`` and on delivery (``then``), under a model whose receiving time follows
    both."""
    model = replace(MODEL, load=LoadEffect(0.6, 0.8, 7.0, {"EWR1": (50.0, 20.0)}))
    new = shipment(998, transit_days=3.0, receiving_days=4.0, shipped_at=SPRING + 100 * DAY)
    assert new.delivered_at is not None
    at = new.delivered_at + DAY
    progress = replace(
        progress_at(new, at),
        fc_backlog=now[0],
        fc_deliveries_7d=now[1],
        fc_backlog_at_delivery=None if then is None else then[0],
        fc_deliveries_7d_at_delivery=None if then is None else then[1],
    )
    return model.estimate(progress, at)


def test_r12_at_the_fc_receiving_scales_by_the_load_the_delivery_met_not_the_load_now() -> None:
    # The model's receiving pools are normalised by the load on delivery: a receipt
    # already queued is not slowed by the shipments delivered after it.
    quiet_then = _at_the_fc(now=(200, 150), then=(20, 50))

    assert quiet_then.hours == _at_the_fc(now=(20, 50), then=(20, 50)).hours
    # Not known (delivered before the service kept it): the load now stands in.
    assert _at_the_fc(now=(200, 150), then=None).p97 > quiet_then.p97


@pytest.mark.parametrize("field", ["fc_backlog_at_delivery", "fc_deliveries_7d_at_delivery"])
def test_progress_refuses_a_negative_load_at_delivery(field: str) -> None:
    with pytest.raises(InvalidEstimateInput, match="values at delivery cannot be negative"):
        replace(progress_at(HISTORY[0], HISTORY[0].in_stock_at), **{field: -1})
