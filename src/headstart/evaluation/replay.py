"""Replaying history as if live: what each promise would have rested on, and what came of it.

The history is split by ``shipped_at``: the earliest ``train_fraction`` fits
the model and the baselines; every later shipment is then replayed event by
event in time order. At each snapshot (shipping, then each tracking event) the
estimator is asked exactly what the service would ask: the shipment's progress
at that instant, with its FC's load counted from shipments delivered and in
stock by then. Outcomes are fed back to the online calibration only when the
shipment's ``in_stock_at`` has passed on the replay clock, so late labels are
as late as they would be live. With ``overdue``, a promise whose date passes with
the shipment not in stock is told to the calibration then, as a miss known
(``ConformalCalibration.observe_overdue``), and its outcome again once in stock.

Like the live service, the replay refits the model on a schedule (every
``refit_days``) from what has closed by then: the training shipments and every
replayed shipment already in stock. Receiving outcomes count at once (weighted
for those still open, ``MilestoneFitter.model``); a shipment's transit counts
only once its whole shipping cohort has had ``TRANSIT_HOLD_DAYS`` to close, so
the quick ones of a recent cohort are not taken for all of it. The online
calibration state carries across refits.

The model's estimates do not depend on the online correction, so the replay is
two passes: ``record`` asks the model at every snapshot, ``calibrate`` then
promises through the correction and tells it the outcomes. One recording can be
calibrated again with the correction's settings changed (``eta recalibrate``),
in seconds rather than the minutes of a fit and a model pass.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from headstart.domain.estimate.calibrated import (
    CalibratedEstimator,
    fit_estimator,
    progress_seen,
)
from headstart.domain.estimate.calibration import (
    ConformalCalibration,
    estimate_group,
    group_in_season,
    kind_of,
)
from headstart.domain.estimate.distribution import LEVELS, InStockEstimate
from headstart.domain.estimate.fc_load import FcLoadIndex
from headstart.domain.estimate.instants import hours_between
from headstart.domain.estimate.milestone import MilestoneModel, MilestoneSettings
from headstart.domain.estimate.milestone_fit import MilestoneFitter
from headstart.domain.estimate.prior import is_peak
from headstart.domain.estimate.progress import ClosedShipment, ShipmentProgress
from headstart.domain.estimate.stages import snapshot_times
from headstart.evaluation.baselines import BASELINES, Baselines

OCEAN_AT_SEA = "ocean at sea"
OCEAN_BERTHED = "ocean berthed"
BUCKETS: tuple[str, ...] = ("parcel", "ltl", "ftl", "air", OCEAN_AT_SEA, OCEAN_BERTHED)
TRANSIT_HOLD_DAYS = 45.0
_DAY = 86400.0
_MEDIAN = LEVELS.index(0.5)


@dataclass(frozen=True)
class Prediction:
    """One promise: made at ``made_at`` for ``bucket``; hours are counted from ``made_at``."""

    shipment_id: str
    bucket: str
    peak: bool
    made_at: datetime
    actual_hours: float
    promised_hours: float
    raw_hours: float  # the model's own q-quantile, before the online correction
    baseline_hours: dict[str, float]


@dataclass(frozen=True)
class Replay:
    predictions: list[Prediction]
    train_count: int
    test_count: int
    split_at: datetime
    fit_seconds: float
    estimator: CalibratedEstimator


def bucket_of(progress: ShipmentProgress) -> str:
    """The reporting bucket: the mode, with ocean split at arrival in the destination port."""
    return bucket_of_kind(kind_of(progress))


def bucket_of_kind(kind: str) -> str:
    """``bucket_of`` a shipment of ``kind`` (``calibration.kind_of``: ``mode|phase``)."""
    mode, _, phase = kind.partition("|")
    if mode != "ocean":
        return mode
    return OCEAN_AT_SEA if phase == "en_route" else OCEAN_BERTHED


def split_history(
    history: Sequence[ClosedShipment], train_fraction: float
) -> tuple[list[ClosedShipment], list[ClosedShipment]]:
    """The earliest ``train_fraction`` by ``shipped_at``, and the rest."""
    ordered = sorted(history, key=lambda s: (s.shipped_at, s.shipment_id))
    cut = int(len(ordered) * train_fraction)
    return ordered[:cut], ordered[cut:]


@dataclass(frozen=True)
class Snapshot:
    """One promise's raw material: the model's own estimate, before the online correction."""

    shipment: int  # index among the replayed shipments
    shipment_id: str
    kind: str  # ``kind_of`` its progress: the calibration group but for its season
    raw: InStockEstimate
    in_stock_at: datetime
    baseline_hours: dict[str, float]

    @property
    def group(self) -> str:
        """The calibration group that corrects it (``group_of``)."""
        return estimate_group(self.kind, self.raw.computed_at, self.raw.hours[_MEDIAN])

    @property
    def bucket(self) -> str:
        return bucket_of_kind(self.kind)


@dataclass(frozen=True)
class Recording:
    """The model's pass over the replayed shipments: every snapshot in replay-clock order.

    The model's estimates do not depend on the online correction, so one recording
    can be calibrated many times (``calibrate``) with the correction's settings changed.
    """

    snapshots: list[Snapshot]
    calibration: ConformalCalibration  # warm-started by the fit, before any outcome
    model: MilestoneModel  # the last refit's
    train_count: int
    test_count: int
    split_at: datetime
    fit_seconds: float
    quantile: float


def replay(
    history: Sequence[ClosedShipment],
    *,
    train_fraction: float = 0.6,
    quantile: float = 0.97,
    fit: Callable[[Sequence[ClosedShipment]], CalibratedEstimator] | None = None,
    clock: Callable[[], float] | None = None,
    stride: int = 1,
    refit_days: float = 7.0,
    overdue: bool = False,
) -> Replay:
    """Fit on the early part, replay the rest; ``clock`` (seconds) times the fit if given.

    ``stride`` > 1 replays only every stride-th later shipment (a quicker look);
    FC loads are still counted from the whole history, as a live service sees them.
    ``refit_days`` > 0 refits the model that often (see the module's note); 0 never,
    nor when ``fit`` supplies the estimator. ``overdue`` tells misses at their
    promised date (see the module's note).
    """
    recording = record(
        history,
        train_fraction=train_fraction,
        quantile=quantile,
        fit=fit,
        clock=clock,
        stride=stride,
        refit_days=refit_days,
    )
    return calibrate(recording, recording.calibration, overdue=overdue)


def record(
    history: Sequence[ClosedShipment],
    *,
    train_fraction: float = 0.6,
    quantile: float = 0.97,
    fit: Callable[[Sequence[ClosedShipment]], CalibratedEstimator] | None = None,
    clock: Callable[[], float] | None = None,
    stride: int = 1,
    refit_days: float = 7.0,
) -> Recording:
    """The model's half of ``replay`` (same arguments): fit, then estimate at every snapshot."""
    train, test = split_history(history, train_fraction)
    test = test[::stride]
    if not train or not test:
        raise ValueError("the history is too small to split into training and replay")
    started = clock() if clock else 0.0
    estimator = fit(train) if fit else fit_estimator(train, MilestoneSettings(quantile=quantile))
    fit_seconds = (clock() - started) if clock else 0.0
    baselines = Baselines.fit(train, quantile)
    index = FcLoadIndex.of(history)
    # The replay clock: (instant, order, kind, shipment index); refits (order 0) before
    # promises (order 1) at one instant.
    queue: list[tuple[float, int, int, int]] = []
    for i, shipment in enumerate(test):
        queue.extend((at.timestamp(), 1, 1, i) for at in snapshot_times(shipment))
    refits = (
        _Refits(train, test, index, estimator.model.settings)
        if refit_days > 0 and fit is None
        else None
    )
    if refits is not None and queue:
        first, last = test[0].shipped_at.timestamp(), max(queue)[0]
        count = int((last - first) // (refit_days * _DAY))
        queue.extend((first + (k + 1) * refit_days * _DAY, 0, 2, k) for k in range(count))
    heapq.heapify(queue)
    model = estimator.model
    snapshots: list[Snapshot] = []
    while queue:
        stamp, _, kind, i = heapq.heappop(queue)
        if kind == 2 and refits is not None:
            model = refits.model_at(stamp)
            continue
        shipment = test[i]
        at = datetime.fromtimestamp(stamp, UTC)
        progress = progress_seen(shipment, at, index)
        raw = model.estimate(progress, at)
        snapshots.append(
            Snapshot(
                shipment=i,
                shipment_id=shipment.shipment_id,
                kind=kind_of(progress),
                raw=raw,
                in_stock_at=shipment.in_stock_at,
                baseline_hours={
                    name: hours_between(at, baselines.promise(name, progress, at))
                    for name in BASELINES
                },
            )
        )
    return Recording(
        snapshots=snapshots,
        calibration=estimator.calibration,
        model=model,
        train_count=len(train),
        test_count=len(test),
        split_at=test[0].shipped_at,
        fit_seconds=fit_seconds,
        quantile=quantile,
    )


def calibrate(
    recording: Recording, calibration: ConformalCalibration, *, overdue: bool = False
) -> Replay:
    """The online correction's half of ``replay``: promise at each recorded snapshot through
    ``calibration`` (changed in place: pass a copy to keep one), telling it each outcome
    once in stock on the replay clock, and each miss at its promised date with ``overdue``."""
    quantile = recording.quantile
    snapshots = recording.snapshots
    # (instant, order, kind, shipment index, snapshot or promise index); outcomes (0) and
    # overdue promises (3) before promises (1) at one instant.
    queue: list[tuple[float, int, int, int, int]] = []
    closes: dict[int, datetime] = {}
    for k, snapshot in enumerate(snapshots):
        queue.append((snapshot.raw.computed_at.timestamp(), 1, 1, snapshot.shipment, k))
        closes[snapshot.shipment] = snapshot.in_stock_at
    queue.extend((at.timestamp(), 0, 0, i, 0) for i, at in closes.items())
    heapq.heapify(queue)
    pending: dict[int, list[tuple[Snapshot, InStockEstimate]]] = {}
    predictions: list[Prediction] = []
    while queue:
        stamp, _, kind, i, j = heapq.heappop(queue)
        if kind == 3:
            # A promise's date passed with the shipment not in stock: a miss known now.
            snapshot = pending[i][j][0]
            now = datetime.fromtimestamp(stamp, UTC)
            group = group_in_season(snapshot.kind, now)
            key = f"{snapshot.shipment_id}#{j}"
            calibration.observe_overdue(group, key, snapshot.raw, now, 1.0 / (j + 1))
            continue
        if kind == 0:
            done = pending.pop(i, [])
            for j, (snapshot, estimate) in enumerate(done):
                # One shipment is one outcome, however many promises rested on it.
                at = snapshot.in_stock_at
                calibration.observe(
                    group_in_season(snapshot.kind, at),
                    snapshot.raw,
                    estimate,
                    at,
                    1.0 / len(done),
                    f"{snapshot.shipment_id}#{j}" if overdue else None,
                )
            continue
        snapshot = snapshots[j]
        estimate = calibration.adjust(snapshot.raw, snapshot.group)
        promises = pending.setdefault(i, [])
        promises.append((snapshot, estimate))
        at = snapshot.raw.computed_at
        deadline = estimate.quantile(quantile)
        if overdue and snapshot.in_stock_at > deadline:
            heapq.heappush(queue, (deadline.timestamp(), 0, 3, i, len(promises) - 1))
        predictions.append(
            Prediction(
                shipment_id=snapshot.shipment_id,
                bucket=snapshot.bucket,
                peak=is_peak(at),
                made_at=at,
                actual_hours=hours_between(at, snapshot.in_stock_at),
                promised_hours=hours_between(at, deadline),
                raw_hours=hours_between(at, snapshot.raw.quantile(quantile)),
                baseline_hours=snapshot.baseline_hours,
            )
        )
    return Replay(
        predictions,
        recording.train_count,
        recording.test_count,
        recording.split_at,
        recording.fit_seconds,
        CalibratedEstimator(recording.model, calibration),
    )


class _Refits:
    """What a scheduled refit at each instant may learn from, added as it closes."""

    def __init__(
        self,
        train: Sequence[ClosedShipment],
        test: Sequence[ClosedShipment],
        index: FcLoadIndex,
        settings: MilestoneSettings,
    ) -> None:
        self.fitter = MilestoneFitter(settings, index)
        for shipment in train:
            self.fitter.add_transit(shipment)
            self.fitter.add_receiving(shipment)
        self.by_close = sorted(test, key=lambda s: s.in_stock_at)
        self.by_ship = sorted(test, key=lambda s: s.shipped_at)
        self.closed = 0
        self.shipped = 0
        self.closed_ids: set[str] = set()
        self.pending_transit: list[ClosedShipment] = []

    def model_at(self, stamp: float) -> MilestoneModel:
        """Add what closed by ``stamp`` (transit once its cohort had time to close); fit."""
        while self.closed < len(self.by_close) and (
            self.by_close[self.closed].in_stock_at.timestamp() <= stamp
        ):
            shipment = self.by_close[self.closed]
            self.fitter.add_receiving(shipment)
            self.closed_ids.add(shipment.shipment_id)
            self.closed += 1
        hold = stamp - TRANSIT_HOLD_DAYS * _DAY
        while self.shipped < len(self.by_ship) and (
            self.by_ship[self.shipped].shipped_at.timestamp() <= hold
        ):
            self.pending_transit.append(self.by_ship[self.shipped])
            self.shipped += 1
        waiting = []
        for shipment in self.pending_transit:
            if shipment.shipment_id in self.closed_ids:
                self.fitter.add_transit(shipment)
            else:
                waiting.append(shipment)
        self.pending_transit = waiting
        return self.fitter.model(datetime.fromtimestamp(stamp, UTC))
