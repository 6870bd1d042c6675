"""The in-stock model in use (section 4): which version answers, and a refit on demand."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter

from headstart.api.deps import Estimators, Operator, Reader, Uow
from headstart.services import estimation

router = APIRouter(prefix="/v1/estimator", tags=["operations"])


@router.get("")
def get_estimator(uow: Reader, estimators: Estimators, _: Operator) -> dict[str, Any]:
    """The model's version, when it was fitted, on how many shipments, and the outcomes
    its online calibration has learned from since."""
    return estimation.model_info(uow, estimators)


@router.post("/refit")
def refit_estimator(uow: Uow, estimators: Estimators, _: Operator) -> dict[str, Any]:
    """Fit on every closed shipment now and put the model in use (the worker does this on a
    schedule). Takes seconds on a large history; holds no lock while fitting."""
    fitted = estimation.refit_model(uow, time.perf_counter, estimators=estimators)
    return {
        "version": fitted.version,
        "history_count": fitted.history_count,
        "fit_seconds": round(fitted.seconds, 3),
        "stored": fitted.stored,
    }
