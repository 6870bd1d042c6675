"""The estimator the service uses: the milestone model behind an online conformal correction.

``fit_estimator(history)`` fits the milestone model, starts the calibration from
held-out outcomes (the latest quarter of the history by shipping time, scored
by a model fitted on the rest), then refits on everything. The service keeps
the result with ``to_dict()`` and, as each shipment comes into stock, feeds
every estimate a promise rested on back through ``observe``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from headstart.domain.estimate.calibration import (
    ConformalCalibration,
    group_of,
    outcome_group_of,
)
from headstart.domain.estimate.calibration_codec import calibration_from_dict, calibration_to_dict
from headstart.domain.estimate.distribution import LEVELS, InStockEstimate
from headstart.domain.estimate.errors import InvalidEstimateInput
from headstart.domain.estimate.fc_load import FcLoadIndex
from headstart.domain.estimate.instants import to_utc
from headstart.domain.estimate.milestone import MilestoneModel, MilestoneSettings
from headstart.domain.estimate.milestone_codec import milestone_from_dict, milestone_to_dict
from headstart.domain.estimate.milestone_fit import fit_milestone_model
from headstart.domain.estimate.progress import ClosedShipment, ShipmentProgress
from headstart.domain.estimate.stages import progress_at, snapshot_times

_MEDIAN = LEVELS.index(0.5)


class CalibratedEstimator:
    """Implements ``InStockEstimator``. ``observe`` is the only thing that changes it."""

    def __init__(self, model: MilestoneModel, calibration: ConformalCalibration) -> None:
        self.model = model
        self.calibration = calibration

    @property
    def version(self) -> str:
        """The fitted model's version; online calibration moves within one version."""
        return self.model.version

    def estimate(self, progress: ShipmentProgress, now: datetime) -> InStockEstimate:
        return self.estimate_both(progress, now)[1]

    def refitted(self, model: MilestoneModel) -> CalibratedEstimator:
        """A scheduled refit: the new model behind the calibration state learned so far.

        The online correction is kept, not restarted: its scores and levels carry
        what recent outcomes said, and a refit on those same outcomes moves the
        model only part of the way.
        """
        return CalibratedEstimator(model, self.calibration)

    def estimate_both(
        self, progress: ShipmentProgress, now: datetime
    ) -> tuple[InStockEstimate, InStockEstimate]:
        """(the model's own estimate, the corrected one); what ``observe_both`` takes back."""
        now = to_utc("now", now)
        hours, behind = self.model.hours(progress, now)
        corrected = self.calibration.adjust_hours(hours, group_of(progress, now, hours[_MEDIAN]))
        raw = self.model.estimate_of(now, hours, behind)
        return raw, self.model.estimate_of(now, corrected, behind)

    def observe(
        self,
        progress: ShipmentProgress,
        predicted: InStockEstimate,
        in_stock_at: datetime,
        weight: float = 1.0,
        key: str | None = None,
    ) -> float:
        """One outcome: the shipment known as ``progress`` when ``predicted`` was made (by
        ``estimate``, at ``predicted.computed_at``) came into stock at ``in_stock_at``.

        Call it once in stock, for each estimate a promise rested on; ``weight`` 1/k for
        each of a shipment's k estimates counts the shipment once. The model's own
        estimate is recomputed (it is deterministic) to score the outcome. ``key`` as in
        ``observe_both``. Returns the group's new offset; see
        ``ConformalCalibration.observe``.
        """
        raw = self.model.estimate(progress, predicted.computed_at)
        return self.observe_both(progress, raw, predicted, in_stock_at, weight, key)

    def observe_both(
        self,
        progress: ShipmentProgress,
        raw: InStockEstimate,
        predicted: InStockEstimate,
        in_stock_at: datetime,
        weight: float = 1.0,
        key: str | None = None,
    ) -> float:
        """``observe`` with the model's own estimate kept from ``estimate_both``; ``key``
        names a promise told to ``observe_overdue`` before, whose miss counted then."""
        group = outcome_group_of(progress, in_stock_at)
        return self.calibration.observe(group, raw, predicted, in_stock_at, weight, key)

    def observe_overdue(
        self,
        progress: ShipmentProgress,
        raw: InStockEstimate,
        key: str,
        now: datetime,
        weight: float = 1.0,
    ) -> float:
        """The promise ``key`` (the model's own estimate ``raw``, from ``estimate_both``)
        passed its promised date ``now`` with the shipment not in stock: a miss known
        now. Tell its outcome later through ``observe_both`` with the same ``key``."""
        group = outcome_group_of(progress, now)
        return self.calibration.observe_overdue(group, key, raw, now, weight)

    def forget_overdue(self, progress: ShipmentProgress, key: str, now: datetime) -> None:
        """The overdue promise ``key`` will never have an outcome (known at ``now``): its
        miss stands, its lower-bound score goes."""
        self.calibration.forget_overdue(outcome_group_of(progress, now), key)

    def to_dict(self) -> dict[str, object]:
        return {
            "model": milestone_to_dict(self.model),
            "calibration": calibration_to_dict(self.calibration),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> CalibratedEstimator:
        model, calibration = d.get("model"), d.get("calibration")
        if not isinstance(model, Mapping) or not isinstance(calibration, Mapping):
            raise InvalidEstimateInput("a stored estimator needs its model and calibration")
        return cls(milestone_from_dict(model), calibration_from_dict(calibration))


def fit_estimator(
    history: Sequence[ClosedShipment],
    settings: MilestoneSettings | None = None,
    *,
    calibration: ConformalCalibration | None = None,
    holdout_fraction: float = 0.25,
    max_holdout: int = 1500,
    now: datetime | None = None,
    load_index: FcLoadIndex | None = None,
) -> CalibratedEstimator:
    """Fit the model and warm-start its calibration; deterministic for a given history
    (and ``now``: a live fit's moment, see ``fit_milestone_model``). ``load_index``: the
    FCs' deliveries, open ones included (default: counted from ``history``, closed only);
    a live fit passes the one a replay's refit has (``FcLoadIndex.of``)."""
    settings = settings or MilestoneSettings()
    calibration = calibration or ConformalCalibration(quantile=settings.quantile)
    ordered = sorted(history, key=lambda s: (s.shipped_at, s.shipment_id))
    cut = int(len(ordered) * (1.0 - holdout_fraction))
    if 0 < cut < len(ordered) and len(ordered) - cut >= 30:
        early = fit_milestone_model(ordered[:cut], settings)
        held = ordered[cut:]
        step = max(1, len(held) // max_holdout)
        index = FcLoadIndex.of(ordered)
        raw = ConformalCalibration(
            quantile=calibration.quantile, floor_hours=calibration.floor_hours
        )
        calibration.warm_start(_scores(early, raw, replay_snapshots(held[::step], index)))
    model = fit_milestone_model(ordered, settings, load_index=load_index, now=now)
    return CalibratedEstimator(model, calibration)


def _scores(
    model: MilestoneModel,
    raw: ConformalCalibration,
    snapshots: Iterator[tuple[ClosedShipment, datetime, ShipmentProgress]],
) -> Iterator[tuple[str, float]]:
    for shipment, at, progress in snapshots:
        estimate = model.estimate(progress, at)
        yield (
            outcome_group_of(progress, shipment.in_stock_at),
            raw.score(estimate, shipment.in_stock_at),
        )


def replay_snapshots(
    shipments: Sequence[ClosedShipment], index: FcLoadIndex
) -> Iterator[tuple[ClosedShipment, datetime, ShipmentProgress]]:
    """Each shipment at each of its snapshots, with its FC's load as a live service saw it."""
    for shipment in shipments:
        for at in snapshot_times(shipment):
            yield shipment, at, progress_seen(shipment, at, index)


def progress_seen(shipment: ClosedShipment, at: datetime, index: FcLoadIndex) -> ShipmentProgress:
    """``shipment`` as known at ``at``, with its FC's load then (``index``), as a live
    service would have told the estimator."""
    backlog, deliveries = index.load_at(shipment.destination_fc, at)
    progress = progress_at(
        shipment,
        at,
        fc_backlog=backlog,
        fc_deliveries_7d=deliveries,
        fc_arrivals=index.arrivals_at(shipment.destination_fc, at),
    )
    if progress.delivered_at is None:
        return progress
    then, recent = index.load_at(shipment.destination_fc, progress.delivered_at)
    return replace(progress, fc_backlog_at_delivery=then, fc_deliveries_7d_at_delivery=recent)
