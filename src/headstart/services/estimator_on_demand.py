"""The in-stock model, asked for only when an estimate must be made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from headstart.domain.estimate import InStockEstimate, InStockEstimator, ShipmentProgress
from headstart.services.estimation import EstimatorCache


class EstimatorOnDemand:
    """The model in use, read (``EstimatorCache.current``) only when a lot has no stored
    estimate. A shipment stores one when it ships, so deciding an order or an offer
    rarely needs the model at all."""

    def __init__(self, estimators: EstimatorCache, session: Session) -> None:
        self._estimators = estimators
        self._session = session
        self._current: InStockEstimator | None = None

    def _model(self) -> InStockEstimator:
        if self._current is None:
            self._current = self._estimators.current(self._session)
        return self._current

    @property
    def version(self) -> str:
        return self._model().version

    def estimate(self, progress: ShipmentProgress, now: datetime) -> InStockEstimate:
        return self._model().estimate(progress, now)
