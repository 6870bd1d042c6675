"""What the API and the worker count (issue 8), as Prometheus metrics.

The metric objects live here, once per process, as prometheus-client wants. When
``PROMETHEUS_MULTIPROC_DIR`` names a directory before this module is first imported
(``headstart serve --workers N`` sets one up for its processes), every process writes
its samples to files there and the process that answers ``GET /metrics`` sums them;
otherwise each process reports only its own (see README, "Running at scale").

Labels come from closed vocabularies only (route templates, offer sources, error
codes, R4 reasons), never from a raw path or a SKU, so a scanner cannot make the
series grow without bound.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Histogram

from headstart.services.tracking import AppliedHook, TrackingEvent

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# Fine around the offer target (p99 <= 20 ms), coarse beyond a second.
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.02,
    0.03,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
# Carriers report scans minutes to days late; a lag of weeks is a feed that stalled.
LAG_BUCKETS = (1, 10, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400)
_LABEL_VALUE = re.compile(r"[a-z][a-z0-9_]{0,63}")

REQUEST_SECONDS = Histogram(
    "headstart_http_request_duration_seconds",
    "Time from request to the end of the response, by route template",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
OFFERS = Counter(
    "headstart_offers",
    "Offers answered (GET /v1/offers/{sku}), by what the buyer is shown (R18)",
    ["outcome"],
)
ORDERS = Counter(
    "headstart_orders",
    "Order placements (POST /v1/orders): placed, replayed (Idempotency-Key) or refused",
    ["outcome", "source", "reason"],
)
NOT_BUYABLE_REASONS = Counter(
    "headstart_not_buyable_reasons",
    "Reasons (R4) given with a not-buyable offer or an order refused as unavailable",
    ["path", "reason"],
)
TRACKING_LAG = Histogram(
    "headstart_tracking_event_lag_seconds",
    "Clock at ingest minus the event's occurred_at, per event recorded",
    ["via"],
    buckets=LAG_BUCKETS,
)


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR_VARIABLE))


def label(value: object) -> str:
    """A label value from a closed vocabulary; anything else is counted as ``other``."""
    text = str(value) if value is not None else ""
    return text if text == "" or _LABEL_VALUE.fullmatch(text) else "other"


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(method, route, status_class(status)).observe(seconds)


def record_offer(view: Mapping[str, Any]) -> None:
    """One offer answered: ``in_stock``, ``head_start`` or ``not_buyable`` (with reasons)."""
    if view.get("buyable"):
        OFFERS.labels(label(view.get("source"))).inc()
        return
    OFFERS.labels("not_buyable").inc()
    _count_reasons("offer", view.get("reasons") or ())


def record_order_placed(view: Mapping[str, Any], *, created: bool) -> None:
    ORDERS.labels("placed" if created else "replayed", label(view.get("source")), "").inc()


def record_order_refused(code: str, details: object) -> None:
    """A refusal by its error code; an ``unavailable`` one also by the offer's reasons."""
    ORDERS.labels("refused", "", label(code)).inc()
    if code == "unavailable" and isinstance(details, Mapping):
        _count_reasons("order", details.get("reasons") or ())


def _count_reasons(path: str, reasons: Iterable[object]) -> None:
    for reason in reasons:
        NOT_BUYABLE_REASONS.labels(path, label(reason)).inc()


def tracking_lag_observer(via: str) -> AppliedHook:
    """An ``ingest_events`` hook: how late each recorded event reached us, on its clock."""

    def observe(events: Sequence[TrackingEvent], now: datetime) -> None:
        histogram = TRACKING_LAG.labels(via)
        for event in events:
            histogram.observe(max(0.0, (now - event.occurred_at).total_seconds()))

    return observe
