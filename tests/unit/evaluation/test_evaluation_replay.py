"""The replay: train on the earliest part, promise at each event, learn only from the past."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from headstart.domain.estimate import ClosedShipment, InStockEstimate, ShipmentProgress
from headstart.domain.estimate.calibration import ConformalCalibration
from headstart.domain.estimate.stages import progress_at
from headstart.evaluation.baselines import Baselines
from headstart.evaluation.recording_file import load_recording, save_recording
from headstart.evaluation.replay import (
    OCEAN_BERTHED,
    bucket_of,
    calibrate,
    record,
    replay,
    split_history,
)
from headstart.evaluation.report import rows_of, targets_of
from tests.unit.estimate.history_builders import DAY, SPRING, parcel_history, shipment

HISTORY = parcel_history(160)


class RecordingCalibration(ConformalCalibration):
    """The real online correction, recording when it was asked and when it was told outcomes."""

    def __init__(self) -> None:
        super().__init__(quantile=0.97)
        self.asked: list[datetime] = []
        self.told: list[tuple[datetime, datetime]] = []  # (estimate made at, in stock at)
        self.log: list[tuple[str, datetime]] = []  # ("ask", now) / ("tell", in stock at)
        self.overdue: dict[str, datetime] = {}  # promise key -> when its date passed
        self.closed: dict[str, datetime] = {}  # promise key -> when its shipment closed

    def adjust(self, estimate: InStockEstimate, group: str) -> InStockEstimate:
        self.asked.append(estimate.computed_at)
        self.log.append(("ask", estimate.computed_at))
        return super().adjust(estimate, group)

    def observe_overdue(
        self, group: str, key: str, raw: InStockEstimate, now: datetime, weight: float = 1.0
    ) -> float:
        self.overdue[key] = now
        return super().observe_overdue(group, key, raw, now, weight)

    def observe(
        self,
        group: str,
        raw: InStockEstimate,
        predicted: InStockEstimate,
        in_stock_at: datetime,
        weight: float = 1.0,
        key: str | None = None,
    ) -> float:
        self.told.append((predicted.computed_at, in_stock_at))
        self.log.append(("tell", in_stock_at))
        if key is not None:
            self.closed[key] = in_stock_at
        return super().observe(group, raw, predicted, in_stock_at, weight, key)


def test_the_split_is_by_shipping_time_not_by_file_order() -> None:
    train, test = split_history(list(reversed(HISTORY)), 0.75)

    assert max(s.shipped_at for s in train) <= min(s.shipped_at for s in test)
    assert len(train) == 120


def test_outcomes_reach_the_calibration_only_once_in_stock_on_the_replay_clock() -> None:
    estimator = RecordingCalibration()

    replayed = calibrate(record(HISTORY, train_fraction=0.75), estimator)

    # Every promise of the 40 replayed shipments (shipping + 3 events each) was scored...
    assert len(replayed.predictions) == 40 * 4
    assert len(estimator.told) == len(replayed.predictions)
    # ...in time order, each outcome told once its in-stock instant had come on the replay
    # clock: after every promise made before it, before every promise made after it
    assert estimator.asked == sorted(estimator.asked)
    assert all(made_at < in_stock_at for made_at, in_stock_at in estimator.told)
    for i, (kind, instant) in enumerate(estimator.log):
        if kind == "tell":
            assert all(t <= instant for k, t in estimator.log[:i] if k == "ask")
            assert all(t >= instant for k, t in estimator.log[i:] if k == "ask")


def test_the_report_has_overall_bucket_and_season_rows_with_targets() -> None:
    replayed = replay(HISTORY, train_fraction=0.75)

    rows = rows_of(replayed, 0.97)
    targets = targets_of(rows, 0.97, replayed.fit_seconds)

    names = [r.name for r in rows]
    assert names[:3] == ["overall", "parcel", "ltl"]
    assert "ocean at sea peak" in names
    assert rows[0].model.count == len(replayed.predictions)
    assert {t.name for t in targets} >= {"coverage overall", "pinball gain vs per-lane quantile"}


def test_ocean_is_reported_at_sea_until_it_reaches_the_destination_port() -> None:
    ocean = shipment(
        1, mode="ocean", origin="CN-SHA", transit_days=30.0, receiving_days=2.0,
        milestones=("departed_origin", "arrived_port"), program="global_logistics",
    )  # fmt: skip
    port = ocean.events[1].occurred_at

    assert bucket_of(_at(ocean, port - DAY)) == "ocean at sea"
    assert bucket_of(_at(ocean, port)) == OCEAN_BERTHED
    assert bucket_of(_at(ocean, ocean.in_stock_at - DAY)) == OCEAN_BERTHED


def _at(s: ClosedShipment, at: datetime) -> ShipmentProgress:
    return progress_at(s, at)


def test_baselines_promise_eta_plus_fixed_receiving_and_static_quantiles() -> None:
    baselines = Baselines.fit(HISTORY, 0.97)
    probe = shipment(9, transit_days=3.0, receiving_days=1.0, shipped_at=SPRING + 90 * DAY)
    at = probe.events[0].occurred_at
    progress = _at(probe, at)

    eta_promise = baselines.promise("carrier_eta", progress, at)
    static = baselines.promise("mode_quantile", progress, at)
    lane = baselines.promise("lane_quantile", progress, at)

    assert eta_promise == probe.delivered_at + timedelta(days=3)  # type: ignore[operator]
    totals = sorted(s.in_stock_at - s.shipped_at for s in HISTORY)
    assert totals[0] < static - probe.shipped_at <= totals[-1]
    assert lane - probe.shipped_at == static - probe.shipped_at  # one lane: the same pool


def test_scheduled_refits_learn_from_shipments_closed_during_the_replay() -> None:
    once = replay(HISTORY, train_fraction=0.5, refit_days=0)
    weekly = replay(HISTORY, train_fraction=0.5, refit_days=3)

    assert once.estimator.model.history_count == once.train_count
    assert weekly.estimator.model.history_count > weekly.train_count
    assert weekly.estimator.version != once.estimator.version


def test_with_overdue_a_miss_is_told_when_its_promised_date_passes_and_again_when_it_closes() -> (
    None
):
    estimator = RecordingCalibration()

    # A history whose replayed half takes three times as long to receive: many misses
    slow = [
        s if k < 120 else replace(s, in_stock_at=s.in_stock_at + 3 * DAY)
        for k, s in enumerate(HISTORY)
    ]
    replayed = calibrate(record(slow, train_fraction=0.75), estimator, overdue=True)

    misses = [p for p in replayed.predictions if p.actual_hours > p.promised_hours]
    assert misses and len(estimator.overdue) == len(misses)
    for key, passed_at in estimator.overdue.items():
        # told at the promised date, before the shipment came into stock, then closed by key
        assert passed_at < estimator.closed[key]
    promised_dates = sorted((p.made_at + timedelta(hours=p.promised_hours)) for p in misses)
    told_dates = sorted(estimator.overdue.values())
    assert [t.timestamp() for t in told_dates] == pytest.approx(
        [t.timestamp() for t in promised_dates], abs=1e-3
    )


def test_a_recording_calibrated_again_promises_what_the_replay_promised() -> None:
    recording = record(HISTORY, train_fraction=0.5, refit_days=3)
    once = calibrate(recording, copy.deepcopy(recording.calibration), overdue=True)

    again = calibrate(recording, copy.deepcopy(recording.calibration), overdue=True)
    direct = replay(HISTORY, train_fraction=0.5, refit_days=3, overdue=True)

    assert again.predictions == once.predictions == direct.predictions
    assert once.estimator.version == direct.estimator.version


def test_a_recording_saved_and_loaded_calibrates_to_the_same_promises(tmp_path: Path) -> None:
    recording = record(HISTORY, train_fraction=0.5, refit_days=3)
    path = tmp_path / "recording.npz"

    save_recording(recording, path)
    loaded = load_recording(path)

    assert [s.raw for s in loaded.snapshots] == [s.raw for s in recording.snapshots]
    assert loaded.model.version == recording.model.version
    kept = calibrate(recording, copy.deepcopy(recording.calibration), overdue=True)
    reloaded = calibrate(loaded, loaded.calibration, overdue=True)
    assert [p.actual_hours for p in reloaded.predictions] == [
        p.actual_hours for p in kept.predictions
    ]
    # the stored calibration's scores are rounded to 1e-5 on a log scale
    assert [p.promised_hours for p in reloaded.predictions] == pytest.approx(
        [p.promised_hours for p in kept.predictions], rel=1e-4
    )
