"""Every request gets an id and is timed (issue 8): pure ASGI, the outermost middleware.

The id is the caller's ``X-Request-ID`` when it looks like one (a load balancer's or a
storefront's, so one id follows a request across systems), else a new one; it is echoed
in the response and bound into structlog's context, so every line logged while the
request runs carries it. Latency is recorded per route template (``/v1/offers/{sku}``),
never per raw path.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from headstart.observability.metrics import observe_request

REQUEST_ID_HEADER = b"x-request-id"
# Ids from elsewhere are kept only when short and plain: they end up in logs and headers.
_ACCEPTABLE_ID = re.compile(rb"[A-Za-z0-9._:+=/-]{1,128}")
UNMATCHED = "<unmatched>"  # 404s of any path share one series

log = structlog.get_logger("headstart.request")


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == REQUEST_ID_HEADER and _ACCEPTABLE_ID.fullmatch(value):
            return value.decode("ascii")
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """The matched route's template; a mount (static files) by its prefix."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if "endpoint" in scope and scope.get("root_path"):
        return f"{scope['root_path']}/{{path}}"
    return UNMATCHED


class RequestObservation:
    """Request id, latency histogram and (``log_requests``) one JSON line per request."""

    def __init__(self, app: ASGIApp, *, log_requests: bool = False) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope.get("headers", []))
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                route = route_of(scope)
                observe_request(scope["method"], route, status, seconds)
                if self.log_requests:
                    log.info(
                        "request",
                        method=scope["method"],
                        route=route,
                        path=scope["path"],
                        status=status,
                        duration_ms=round(seconds * 1000, 2),
                    )
