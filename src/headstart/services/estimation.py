"""The estimator in use: refitted whenever the set of closed shipments changes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from headstart.domain.estimate import ClosedShipment, EmpiricalEstimator, InStockEstimator
from headstart.store.mappers import closed_of
from headstart.store.tables import ShipmentLineRow, ShipmentRow

EstimatorFactory = Callable[[Sequence[ClosedShipment]], InStockEstimator]


def _empirical(history: Sequence[ClosedShipment]) -> InStockEstimator:
    return EmpiricalEstimator(history)


class EstimatorCache:
    """Holds the fitted model; refits only when a shipment closed since the last fit."""

    def __init__(self, factory: EstimatorFactory = _empirical) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._estimator: InStockEstimator | None = None

    def current(self, session: Session) -> InStockEstimator:
        key = tuple(
            session.execute(
                select(func.count(), func.max(ShipmentRow.closed_at)).where(
                    ShipmentRow.status == "closed"
                )
            ).one()
        )
        with self._lock:
            if self._estimator is None or key != self._key:
                self._estimator = self._factory(load_history(session))
                self._key = key
            return self._estimator


def load_history(session: Session) -> list[ClosedShipment]:
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
        .order_by(ShipmentRow.closed_at)
    ).all()
    history = [closed_of(row, int(shipped), int(received)) for row, shipped, received in rows]
    return [item for item in history if item is not None]
