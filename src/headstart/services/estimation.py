"""The in-stock model in use (section 4): stored, versioned, calibrated as outcomes arrive.

A fitted model lives in ``estimator_models``; the newest row is the one every
process uses. Fitting reads the whole history (tens of seconds for 30,000
shipments), so it runs on a schedule (``refit_model``, the worker's job), never
inside a request. Between fits the model's online calibration learns from each
shipment that comes into stock: the estimates a promise could have rested on are
kept as snapshots, their outcomes appended in the receipt's transaction, and
every process applies the outcomes it has not seen yet, in id order. A miss need
not wait for its shipment: once a snapshot's promise quantile passes with the
shipment not in stock, the sweep records it as overdue (``record_overdue``), and
the calibration moves then, weeks before an ocean shipment closes.

Before the first stored fit (a new installation, a test) the model is fitted in
memory from the closed shipments and refitted whenever they change, as they
are few.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from headstart.domain.estimate import ClosedShipment, InStockEstimate, InStockEstimator
from headstart.domain.estimate.calibrated import CalibratedEstimator, fit_estimator
from headstart.domain.estimate.calibration_codec import calibration_from_dict, calibration_to_dict
from headstart.domain.estimate.fc_load import FcLoadIndex
from headstart.domain.estimate.milestone import MilestoneSettings
from headstart.domain.estimate.progress import ShipmentProgress
from headstart.services.fc_load import OPEN_STATUSES
from headstart.store.mappers import closed_of, progress_from_dict, progress_to_dict
from headstart.store.tables import (
    CalibrationOutcomeRow,
    EstimateSnapshotRow,
    EstimatorModelRow,
    ShipmentLineRow,
    ShipmentRow,
    TrackingEventRow,
)
from headstart.store.uow import UnitOfWork

# An open delivery: (FC, delivered at) of a shipment at the FC whose units are not in stock.
OpenDelivery = tuple[str, datetime]
# (closed shipments, the moment of the fit or None, open deliveries) -> a fitted estimator
EstimatorFactory = Callable[
    [Sequence[ClosedShipment], datetime | None, Sequence[OpenDelivery]], CalibratedEstimator
]
# Outcomes a process re-reads below the highest it applied: on PostgreSQL a lower id can
# commit after a higher one, and such an outcome must not be skipped.
_LATE_COMMIT_WINDOW = 1000
# Without a stored model: refit in memory on every close up to this many closed
# shipments, then only when their number grew by this factor.
IN_MEMORY_EVERY_CLOSE = 200
IN_MEMORY_GROWTH = 1.25


def fit_on_history(
    history: Sequence[ClosedShipment], now: datetime | None, open_deliveries: Sequence[OpenDelivery]
) -> CalibratedEstimator:
    """The service's fit (an ``EstimatorFactory``): the model on ``history``, its FCs'
    load counted with the deliveries still open at ``now``."""
    # The load index a replay's refit fits on: every delivery made, the open ones censored
    # at ``now``, so a young peak's long receiving is read off its deliveries so far.
    index = FcLoadIndex.of(history, open_deliveries)
    return fit_estimator(history, now=now, load_index=index)


class EstimatorCache:
    """The model this process uses: the stored one with every outcome applied, or, before
    the first stored fit, one fitted from the closed shipments when they change."""

    def __init__(self, factory: EstimatorFactory = fit_on_history) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._key: tuple[int, object] | None = None
        self._estimator: CalibratedEstimator | None = None
        self._model_id: int | None = None
        self._applied: set[int] = set()
        self._applied_upto = 0
        self._fitted_upto = 0  # outcomes the stored model's history already held

    def current(self, session: Session) -> InStockEstimator:
        model_id, newest_outcome = session.execute(
            select(
                select(func.max(EstimatorModelRow.id)).scalar_subquery(),
                select(func.max(CalibrationOutcomeRow.id)).scalar_subquery(),
            )
        ).one()
        with self._lock:
            if model_id is None:
                return self._fitted_in_memory(session)
            if model_id != self._model_id or self._estimator is None:
                self._load(session, model_id)
            if newest_outcome is not None and newest_outcome > self._applied_upto:
                self._apply_outcomes(session)
            assert self._estimator is not None
            return self._estimator

    def learned(self, session: Session) -> tuple[CalibratedEstimator, int]:
        """The newest stored model (there must be one) with every outcome applied, and the
        highest outcome id applied: what a refit keeps (``CalibratedEstimator.refitted``).
        Its calibration is a copy taken under the lock, as the cache goes on learning."""
        self.current(session)
        with self._lock:
            estimator = self._estimator
            assert isinstance(estimator, CalibratedEstimator) and self._model_id is not None
            copy = calibration_from_dict(calibration_to_dict(estimator.calibration))
            return CalibratedEstimator(estimator.model, copy), self._applied_upto

    def _fitted_in_memory(self, session: Session) -> CalibratedEstimator:
        count, last_closed = session.execute(
            select(func.count(), func.max(ShipmentRow.closed_at)).where(
                ShipmentRow.status == "closed"
            )
        ).one()
        key = (count, last_closed)
        if self._estimator is None or self._model_id is not None or self._due(key):
            # No clock here: a small history before the first stored fit is taken as
            # complete; the scheduled refit (``refit_model``) passes the service's now.
            self._estimator = self._factory(load_history(session), None, ())
            self._key, self._model_id = key, None
        return self._estimator

    def _due(self, key: tuple[int, object]) -> bool:
        """Refit on every close while the history is small, then each time it grew by a
        quarter: the fits' total cost stays a small multiple of one fit."""
        if key == self._key:
            return False
        fitted = self._key[0] if self._key else 0
        return key[0] <= IN_MEMORY_EVERY_CLOSE or key[0] >= fitted * IN_MEMORY_GROWTH

    def _load(self, session: Session, model_id: int) -> None:
        row = session.get(EstimatorModelRow, model_id)
        assert row is not None
        self._estimator = CalibratedEstimator.from_dict(row.body)
        self._model_id = model_id
        self._applied = set()
        self._applied_upto = self._fitted_upto = row.outcomes_upto

    def _apply_outcomes(self, session: Session) -> None:
        assert self._estimator is not None and self._model_id is not None
        floor = self._applied_upto - _LATE_COMMIT_WINDOW
        # The window below the highest applied id is read as ids alone (cheap); only the
        # outcomes not applied yet are loaded with their snapshots, whose JSON is the cost.
        late = [
            outcome_id
            for outcome_id in session.scalars(
                select(CalibrationOutcomeRow.id).where(
                    CalibrationOutcomeRow.id > max(floor, self._fitted_upto),
                    CalibrationOutcomeRow.id <= self._applied_upto,
                )
            )
            if outcome_id not in self._applied
        ]
        unseen = CalibrationOutcomeRow.id > self._applied_upto
        rows = session.execute(
            select(CalibrationOutcomeRow, EstimateSnapshotRow)
            .join(EstimateSnapshotRow, EstimateSnapshotRow.id == CalibrationOutcomeRow.snapshot_id)
            .where(or_(unseen, CalibrationOutcomeRow.id.in_(late)) if late else unseen)
            .order_by(CalibrationOutcomeRow.id)
        ).all()
        for outcome, snapshot in rows:
            self._apply(outcome, snapshot)
            self._applied.add(outcome.id)
            self._applied_upto = max(self._applied_upto, outcome.id)
        self._applied = {i for i in self._applied if i > floor}

    def _apply(self, outcome: CalibrationOutcomeRow, snapshot: EstimateSnapshotRow) -> None:
        assert self._estimator is not None
        progress = progress_from_dict(snapshot.progress)
        predicted = InStockEstimate.from_dict(snapshot.estimate)
        key = str(snapshot.id)
        if outcome.kind == OVERDUE:
            raw = self._estimator.model.estimate(progress, predicted.computed_at)
            self._estimator.observe_overdue(progress, raw, key, outcome.in_stock_at, outcome.weight)
        elif outcome.kind == NEVER:
            self._estimator.forget_overdue(progress, key, outcome.in_stock_at)
        else:
            self._estimator.observe(progress, predicted, outcome.in_stock_at, outcome.weight, key)


def load_history(session: Session) -> list[ClosedShipment]:
    """Every closed shipment with its quantities and tracking events, oldest close first."""
    totals = (
        select(
            ShipmentLineRow.shipment_id,
            func.sum(ShipmentLineRow.quantity_shipped).label("shipped"),
            func.sum(ShipmentLineRow.quantity_received).label("received"),
        )
        .group_by(ShipmentLineRow.shipment_id)
        .subquery()
    )
    rows = session.execute(
        select(ShipmentRow, totals.c.shipped, totals.c.received)
        .join(totals, totals.c.shipment_id == ShipmentRow.id)
        .where(ShipmentRow.status == "closed")
        .order_by(ShipmentRow.closed_at, ShipmentRow.id)
    ).all()
    events: dict[str, list[TrackingEventRow]] = {}
    for event in session.scalars(
        select(TrackingEventRow)
        .join(ShipmentRow, ShipmentRow.id == TrackingEventRow.shipment_id)
        .where(ShipmentRow.status == "closed")
    ):
        events.setdefault(event.shipment_id, []).append(event)
    history = [
        closed_of(row, int(shipped), int(received), events.get(row.id, ()))
        for row, shipped, received in rows
    ]
    return [item for item in history if item is not None]


def load_open_deliveries(session: Session, now: datetime) -> list[OpenDelivery]:
    """(FC, delivered at) of every shipment delivered by ``now`` whose units are not in stock
    yet, oldest first: what the closed history lacks of a season's receiving so far."""
    rows = session.execute(
        select(ShipmentRow.destination_fc, ShipmentRow.delivered_at)
        .where(
            ShipmentRow.delivered_at.is_not(None),
            ShipmentRow.delivered_at <= now,
            ShipmentRow.in_stock_at.is_(None),
            ShipmentRow.status.in_(OPEN_STATUSES),
        )
        .order_by(ShipmentRow.delivered_at, ShipmentRow.id)
    ).all()
    return [(fc, at) for fc, at in rows if at is not None]


# Kinds of calibration outcome, applied in id order. A snapshot is judged ``overdue`` when
# its promise quantile passes with the shipment not in stock; its ``in_stock`` outcome
# follows, or ``never`` when the shipment closes with nothing received.
IN_STOCK, OVERDUE, NEVER = "in_stock", "overdue", "never"
# The quantile whose passing makes a snapshot overdue: the calibration's promise quantile.
DEADLINE_QUANTILE = MilestoneSettings().quantile


def record_snapshot(
    session: Session, shipment_id: str, progress: ShipmentProgress, estimate: InStockEstimate
) -> None:
    """Keep an estimate a promise may rest on, to score it once the shipment is in stock."""
    session.add(
        EstimateSnapshotRow(
            shipment_id=shipment_id,
            computed_at=estimate.computed_at,
            progress=progress_to_dict(progress),
            estimate=estimate.to_dict(),
            deadline=estimate.quantile(DEADLINE_QUANTILE),
        )
    )


def _close_deadlines(session: Session, where: Any) -> list[int]:
    """Clear the deadlines of the snapshots ``where`` selects; returns those it cleared.

    The UPDATE takes the rows' locks first: the sweep (``record_overdue``) and a receipt
    judging one snapshot at once queue here, and the second finds nothing left to clear,
    so an overdue row is never written after its snapshot's outcome.
    """
    return list(
        session.scalars(
            update(EstimateSnapshotRow)
            .where(where, EstimateSnapshotRow.deadline.is_not(None))
            .values(deadline=None)
            .returning(EstimateSnapshotRow.id)
        )
    )


def record_outcomes(
    session: Session, shipment_id: str, in_stock_at: datetime, now: datetime
) -> int:
    """The shipment came into stock: each of its k snapshots becomes an outcome of weight 1/k,
    so a shipment counts once however many events it had. Returns k."""
    _close_deadlines(session, EstimateSnapshotRow.shipment_id == shipment_id)
    snapshots = list(
        session.scalars(
            select(EstimateSnapshotRow.id).where(
                EstimateSnapshotRow.shipment_id == shipment_id,
                EstimateSnapshotRow.computed_at <= in_stock_at,
            )
        )
    )
    for snapshot_id in snapshots:
        session.add(
            CalibrationOutcomeRow(
                snapshot_id=snapshot_id,
                kind=IN_STOCK,
                in_stock_at=in_stock_at,
                weight=1.0 / len(snapshots),
                recorded_at=now,
            )
        )
    # An overdue snapshot made after the in-stock time (a receipt dated back) has none.
    _end_overdue(session, shipment_id, now, judged=snapshots)
    return len(snapshots)


def record_overdue(session: Session, now: datetime) -> int:
    """Each snapshot whose promise quantile passed by ``now`` with its shipment not in stock
    is a miss known now (section 4): an ``overdue`` outcome at its deadline, of weight
    1/j for a shipment's j-th snapshot (its final k is not known yet). Returns how many."""
    due = session.execute(
        select(
            EstimateSnapshotRow.id, EstimateSnapshotRow.shipment_id, EstimateSnapshotRow.deadline
        )
        .where(EstimateSnapshotRow.deadline <= now)
        .order_by(EstimateSnapshotRow.deadline, EstimateSnapshotRow.id)
    ).all()
    if not due:
        return 0
    closed = set(_close_deadlines(session, EstimateSnapshotRow.id.in_([row.id for row in due])))
    for snapshot_id, shipment_id, deadline in due:
        if snapshot_id not in closed:
            continue  # judged meanwhile by its shipment's receipt
        earlier = session.scalar(
            select(func.count()).where(
                EstimateSnapshotRow.shipment_id == shipment_id,
                EstimateSnapshotRow.id <= snapshot_id,
            )
        )
        session.add(
            CalibrationOutcomeRow(
                snapshot_id=snapshot_id,
                kind=OVERDUE,
                in_stock_at=deadline,
                weight=1.0 / max(int(earlier or 1), 1),
                recorded_at=now,
            )
        )
    return len(closed)


def record_never(session: Session, shipment_id: str, now: datetime) -> int:
    """The shipment closed with nothing received: its overdue snapshots will have no
    outcome (``never``), and the rest are no longer watched. Returns how many were overdue."""
    _close_deadlines(session, EstimateSnapshotRow.shipment_id == shipment_id)
    return _end_overdue(session, shipment_id, now, judged=())


def _end_overdue(session: Session, shipment_id: str, now: datetime, judged: Collection[int]) -> int:
    """A ``never`` outcome for each overdue snapshot of the shipment not in ``judged``."""
    overdue = session.scalars(
        select(CalibrationOutcomeRow.snapshot_id)
        .join(EstimateSnapshotRow, EstimateSnapshotRow.id == CalibrationOutcomeRow.snapshot_id)
        .where(
            EstimateSnapshotRow.shipment_id == shipment_id,
            CalibrationOutcomeRow.kind == OVERDUE,
        )
    )
    ended = sorted(set(overdue) - set(judged))
    for snapshot_id in ended:
        session.add(
            CalibrationOutcomeRow(
                snapshot_id=snapshot_id, kind=NEVER, in_stock_at=now, weight=0.0, recorded_at=now
            )
        )
    return len(ended)


@dataclass(frozen=True)
class FitResult:
    version: str
    history_count: int
    seconds: float
    stored: bool  # False: nothing closed since the model in use was fitted


def refit_model(
    uow: UnitOfWork,
    clock: Callable[[], float],
    *,
    factory: EstimatorFactory = fit_on_history,
    estimators: EstimatorCache | None = None,
) -> FitResult:
    """Fit on every closed shipment, with the deliveries still open as "receiving longer than
    so far" (``load_open_deliveries``), and store the model as the one in use.

    The history is read in one short transaction and the model stored in another;
    the fit itself (tens of seconds on a large history) holds no lock. When no
    shipment closed since the stored model was fitted, nothing is fitted. A refit
    keeps the online calibration learned so far (``CalibratedEstimator.refitted``),
    as the evaluation's replay does: only the first fit starts one from held-out
    outcomes. ``estimators``: the process's cache, whose calibration already holds the
    outcomes applied so far (else they are applied anew, a week's worth of re-estimates).
    """
    with uow:
        newest = uow.session.scalars(
            select(EstimatorModelRow).order_by(EstimatorModelRow.id.desc()).limit(1)
        ).first()
        closed = int(
            uow.session.scalar(
                select(func.count()).select_from(ShipmentRow).where(ShipmentRow.status == "closed")
            )
            or 0
        )
        if newest is not None and newest.history_count == closed:
            return FitResult(newest.version, newest.history_count, 0.0, stored=False)
        history = load_history(uow.session)
        fit_at = uow.now()
        open_deliveries = load_open_deliveries(uow.session, fit_at)
        learned: CalibratedEstimator | None = None
        if newest is None:
            outcomes_upto = uow.session.scalar(select(func.max(CalibrationOutcomeRow.id))) or 0
        else:
            so_far = estimators if estimators is not None else EstimatorCache()
            learned, outcomes_upto = so_far.learned(uow.session)
    started = clock()
    estimator = factory(history, fit_at, open_deliveries)
    if learned is not None:
        estimator = learned.refitted(estimator.model)
    seconds = clock() - started
    with uow:
        uow.session.add(
            EstimatorModelRow(
                version=estimator.version,
                fitted_at=uow.now(),
                history_count=closed,  # those it saw; ones without in-stock time teach nothing
                outcomes_upto=outcomes_upto,
                body=estimator.to_dict(),
            )
        )
        uow.commit()
    return FitResult(estimator.version, closed, seconds, stored=True)


def model_info(uow: UnitOfWork, estimators: EstimatorCache) -> dict[str, Any]:
    """What model answers now: its version, when it was fitted, what it learned since."""
    with uow:
        row = uow.session.scalars(
            select(EstimatorModelRow).order_by(EstimatorModelRow.id.desc()).limit(1)
        ).first()
        estimator = estimators.current(uow.session)
        outcomes = uow.session.scalar(
            select(func.count(CalibrationOutcomeRow.id)).where(
                CalibrationOutcomeRow.id > (row.outcomes_upto if row else 0),
                CalibrationOutcomeRow.kind == IN_STOCK,
            )
        )
        return {
            "version": estimator.version,
            "stored": row is not None,
            "fitted_at": row.fitted_at.isoformat() if row else None,
            "history_count": row.history_count if row else None,
            "outcomes_since_fit": int(outcomes or 0),
        }
