from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from headstart.api.deps import Estimators, Operator, Uow
from headstart.api.schemas import TrackingBatchIn, TrackingEventIn
from headstart.observability.metrics import tracking_lag_observer
from headstart.services.tracking import TrackingEvent, ingest_events

router = APIRouter(prefix="/v1/tracking-events", tags=["tracking events"])
observe_lag = tracking_lag_observer("http")


@router.post("")
def post_tracking_events(
    body: TrackingBatchIn | list[TrackingEventIn],
    uow: Uow,
    estimators: Estimators,
    _: Operator,
) -> dict[str, Any]:
    """A batch (a JSON array, or ``{"events": [...]}``); idempotent by ``event_id``."""
    items = body.events if isinstance(body, TrackingBatchIn) else body
    events = [TrackingEvent(**item.model_dump()) for item in items]
    return ingest_events(uow, estimators, events, on_applied=observe_lag)
