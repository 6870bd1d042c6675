"""Online calibration (section 4): one-sided adaptive conformal correction per group."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from statistics import NormalDist

import pytest

from headstart.domain.estimate import LEVELS, InStockEstimate, InvalidEstimateInput
from headstart.domain.estimate.calibrated import fit_estimator
from headstart.domain.estimate.calibration import (
    ConformalCalibration,
    group_of,
    outcome_group_of,
    sibling_of,
)
from headstart.domain.estimate.calibration_codec import calibration_from_dict, calibration_to_dict
from headstart.domain.estimate.stages import progress_at
from tests.unit.estimate.history_builders import parcel_history, shipment

NOW = datetime(2025, 5, 5, 12, 0, tzinfo=UTC)
GROUP = "parcel|en_route|off"
_Z = {p: NormalDist().inv_cdf(p) for p in LEVELS}


def _lognormal(median_hours: float, sigma: float, at: datetime = NOW) -> InStockEstimate:
    """An estimate whose remaining hours are lognormal with this median and shape."""
    hours = tuple(median_hours * math.exp(sigma * _Z[p]) for p in LEVELS)
    return InStockEstimate(at, "test", "history", 100, tuple(sorted(hours)))


def _feed(calibration: ConformalCalibration, n: int, scale: float, seed: int) -> float:
    """n outcomes drawn from ``scale`` times the model's distribution; the share covered."""
    rng = random.Random(seed)
    raw = _lognormal(48.0, 0.4)
    covered = 0
    for _ in range(n):
        predicted = calibration.adjust(raw, GROUP)
        actual = NOW + timedelta(hours=scale * 48.0 * math.exp(0.4 * rng.gauss(0.0, 1.0)))
        covered += actual <= predicted.quantile(calibration.quantile)
        calibration.observe(GROUP, raw, predicted, actual)
    return covered / n


def test_calibration_recovers_coverage_within_600_outcomes_after_a_shift() -> None:
    # Given a calibration that has learned an honest model (offset near zero)
    calibration = ConformalCalibration(quantile=0.97, window=400)
    _feed(calibration, 800, scale=1.0, seed=1)
    assert abs(calibration.offset(GROUP)) < 0.15

    # When in-stock times suddenly run twice as long as the model says (peak receiving)
    during_shift = _feed(calibration, 600, scale=2.0, seed=2)
    after_shift = _feed(calibration, 2000, scale=2.0, seed=3)

    # Then coverage dips while the new outcomes arrive, and is back at q within 600 of them
    assert during_shift < 0.97
    assert after_shift >= 0.97
    assert calibration.offset(GROUP) > math.log(2.0) * 0.8


def test_calibration_tightens_an_estimate_that_was_too_wide_when_its_floor_allows() -> None:
    calibration = ConformalCalibration(quantile=0.97, window=400, floor_offset=-5.0)

    covered = _feed(calibration, 2000, scale=0.5, seed=4)

    assert calibration.offset(GROUP) < -0.3
    assert covered > 0.97


def test_the_correction_stretches_the_upper_half_and_leaves_the_median() -> None:
    calibration = ConformalCalibration(quantile=0.97)
    calibration.default_offset = math.log(2.0)
    raw = _lognormal(48.0, 0.4)

    adjusted = calibration.adjust(raw, GROUP)

    assert adjusted.p50 == raw.p50
    assert adjusted.quantile(0.2) == raw.quantile(0.2)
    promised = (adjusted.p97 - NOW).total_seconds() / 3600
    assert promised == pytest.approx(2 * ((raw.p97 - NOW).total_seconds() / 3600 + 12) - 12)
    assert list(adjusted.hours) == sorted(adjusted.hours)


def test_a_season_not_seen_yet_starts_from_the_other_seasons_offset() -> None:
    calibration = ConformalCalibration(quantile=0.97, window=400)
    _feed(calibration, 500, scale=1.5, seed=5)

    assert sibling_of(GROUP) == "parcel|en_route|peak"
    assert calibration.offset("parcel|en_route|peak") == calibration.offset(GROUP)
    assert calibration.offset("air|at_fc|off") == calibration.default_offset


def test_a_young_season_whose_first_outcomes_came_early_is_not_corrected_less_than_the_other() -> (
    None
):
    # Given an off-peak group that needs widening, and a peak group whose first outcomes
    # all came in early (the season's slow shipments are still open)
    calibration = ConformalCalibration(quantile=0.97, window=400, floor_offset=-5.0)
    _feed(calibration, 500, scale=1.5, seed=5)
    peak = sibling_of(GROUP)
    raw = _lognormal(48.0, 0.4)
    for _ in range(100):
        calibration.observe(peak, raw, raw, NOW + timedelta(hours=24))
    own = calibration._theta(calibration.groups[peak])

    # Then until it has shown ``young_group`` outcomes it keeps the other season's offset
    assert own < calibration.offset(GROUP)
    assert calibration.offset(peak) == calibration.offset(GROUP)
    for _ in range(calibration.young_group):
        calibration.observe(peak, raw, raw, NOW + timedelta(hours=24))
    assert calibration.offset(peak) < calibration.offset(GROUP)


def test_one_shipments_many_promises_count_as_one_outcome_by_weight() -> None:
    light = ConformalCalibration(quantile=0.97)
    heavy = ConformalCalibration(quantile=0.97)
    raw = _lognormal(48.0, 0.4)
    late = NOW + timedelta(days=30)
    for _ in range(5):
        light.observe(GROUP, raw, raw, late, weight=0.2)
    heavy.observe(GROUP, raw, raw, late)

    assert light.groups[GROUP].level == pytest.approx(heavy.groups[GROUP].level)


def test_the_working_level_stays_bounded_through_a_long_run_of_misses() -> None:
    calibration = ConformalCalibration(quantile=0.97)
    raw = _lognormal(48.0, 0.4)
    for _ in range(1000):
        calibration.observe(GROUP, raw, raw, NOW + timedelta(days=30))

    assert calibration.groups[GROUP].level == pytest.approx(calibration.alpha * 0.75)


def test_warm_start_begins_each_group_at_its_held_out_conformal_quantile() -> None:
    calibration = ConformalCalibration(quantile=0.9, margin=0.0)
    calibration.warm_start([(GROUP, v / 100) for v in range(100)])

    assert calibration.offset(GROUP) == pytest.approx(0.91, abs=0.011)


def test_calibration_state_round_trips_through_json() -> None:
    calibration = ConformalCalibration(quantile=0.97, window=300)
    _feed(calibration, 350, scale=1.3, seed=6)
    raw = _lognormal(48.0, 0.4)
    calibration.observe_overdue(GROUP, "S9#0", raw, raw.quantile(0.97) + timedelta(days=2))

    rebuilt = calibration_from_dict(json.loads(json.dumps(calibration_to_dict(calibration))))

    assert rebuilt.offset(GROUP) == pytest.approx(calibration.offset(GROUP), abs=1e-4)
    assert rebuilt.groups[GROUP].observed == 350
    assert rebuilt.groups[GROUP].overdue == calibration.groups[GROUP].overdue


@pytest.mark.parametrize(
    "changes", [{"quantile": 0.4}, {"step": 0.0}, {"window": 0}, {"margin": 0.05}]
)
def test_calibration_refuses_nonsense_settings(changes: dict[str, float]) -> None:
    with pytest.raises(InvalidEstimateInput):
        ConformalCalibration(**changes)  # type: ignore[arg-type]


def test_by_default_the_correction_never_narrows_the_models_own_estimate() -> None:
    calibration = ConformalCalibration(quantile=0.97, window=400)

    _feed(calibration, 2000, scale=0.5, seed=4)

    assert calibration.offset(GROUP) == 0.0


def test_scores_older_than_the_memory_are_forgotten_once_enough_newer_ones_remain() -> None:
    calibration = ConformalCalibration(quantile=0.97, window=2000, memory_days=28, min_kept=50)
    raw = _lognormal(48.0, 0.4)
    rng = random.Random(5)
    # Given a run of outcomes three times as long as the model said, long ago
    for i in range(300):
        actual = NOW + timedelta(hours=3 * 48.0 * math.exp(0.4 * rng.gauss(0.0, 1.0)))
        calibration.observe(GROUP, raw, raw, actual + timedelta(minutes=i))
    assert calibration.offset(GROUP) > math.log(2.0)

    # When honest outcomes arrive 60 days later
    later = NOW + timedelta(days=60)
    raw = _lognormal(48.0, 0.4, later)
    for i in range(100):
        actual = later + timedelta(hours=48.0 * math.exp(0.4 * rng.gauss(0.0, 1.0)))
        calibration.observe(GROUP, raw, raw, actual + timedelta(minutes=i))

    # Then the old ones no longer weigh on the offset
    assert len(calibration.groups[GROUP].scores) == 100
    assert calibration.offset(GROUP) < 0.5


def test_an_outcome_is_scored_in_the_season_it_came_into_stock_not_the_one_expected() -> None:
    # Given a parcel shipped early in October: its estimate expects an off-peak in-stock
    # time, but peak (from October 15) caught it and it came into stock in November
    october = datetime(2025, 10, 6, 12, 0, tzinfo=UTC)
    parcel = shipment(1, transit_days=3.0, receiving_days=30.0, shipped_at=october)
    progress = progress_at(parcel, october)
    estimator = fit_estimator(parcel_history(160))
    raw, promised = estimator.estimate_both(progress, october)
    assert group_of(progress, october, raw.hours[LEVELS.index(0.5)]) == "parcel|en_route|off"

    # When its outcome is told
    estimator.observe_both(progress, raw, promised, parcel.in_stock_at)

    # Then it teaches the peak group, and the off-peak group (whose correction the weeks
    # after peak will use) hears nothing of it
    groups = estimator.calibration.groups
    assert outcome_group_of(progress, parcel.in_stock_at) == "parcel|en_route|peak"
    assert groups["parcel|en_route|peak"].observed == 1
    assert "parcel|en_route|off" not in groups or groups["parcel|en_route|off"].observed == 0


def test_a_promise_past_its_date_counts_as_a_miss_at_once_and_only_once() -> None:
    told_late = ConformalCalibration(quantile=0.97)
    told_at_deadline = ConformalCalibration(quantile=0.97)
    raw = _lognormal(48.0, 0.4)
    deadline = raw.quantile(0.97)
    closed = deadline + timedelta(days=5)

    told_late.observe(GROUP, raw, raw, closed)
    told_at_deadline.observe_overdue(GROUP, "S1#0", raw, deadline)
    level_at_deadline = told_at_deadline.groups[GROUP].level
    told_at_deadline.observe(GROUP, raw, raw, closed, key="S1#0")

    # The miss moved the level when the date passed, not again when the shipment closed
    assert level_at_deadline == pytest.approx(told_late.groups[GROUP].level)
    assert told_at_deadline.groups[GROUP].level == pytest.approx(level_at_deadline)
    assert told_at_deadline.groups[GROUP].overdue == {}
    assert list(told_at_deadline.groups[GROUP].scores) == list(told_late.groups[GROUP].scores)


def test_overdue_promises_raise_the_offset_before_they_close() -> None:
    # Given a group whose model was honest so far
    calibration = ConformalCalibration(quantile=0.97, window=400)
    _feed(calibration, 300, scale=1.0, seed=7)
    before = calibration.offset(GROUP)
    raw = _lognormal(48.0, 0.4)
    deadline = calibration.adjust(raw, GROUP).quantile(0.97)

    # When thirty promises pass their date and a week later none has come into stock
    for k in range(30):
        calibration.observe_overdue(GROUP, f"S{k}#0", raw, deadline)
    calibration.observe(GROUP, raw, raw, deadline + timedelta(days=7))

    # Then the correction has grown on what is known already: each is at least a week late
    assert calibration.offset(GROUP) > before + 0.3


def test_an_overdue_promise_that_will_never_close_keeps_its_miss_and_drops_its_bound() -> None:
    calibration = ConformalCalibration(quantile=0.97)
    _feed(calibration, 300, scale=1.0, seed=7)
    raw = _lognormal(48.0, 0.4)
    deadline = raw.quantile(0.97)
    calibration.observe_overdue(GROUP, "S1#0", raw, deadline)
    calibration.observe(GROUP, raw, raw, deadline + timedelta(days=20))  # raises its bound
    level, with_bound = calibration.groups[GROUP].level, calibration.offset(GROUP)

    # When its shipment closes with nothing received
    calibration.forget_overdue(GROUP, "S1#0")

    # Then the miss still counts in the level, but no bound stands in for an outcome
    assert calibration.groups[GROUP].overdue == {}
    assert calibration.groups[GROUP].level == level
    assert calibration.offset(GROUP) <= with_bound
