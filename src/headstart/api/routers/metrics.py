"""``GET /metrics``: Prometheus text for operators (issue 8).

Not public: the figures (order rates, refusal reasons, backlog) are the marketplace's
business. A scraper sends ``HEADSTART_METRICS_KEY`` as its bearer token, so it need
not hold the operator key, which works too. Failed attempts count against the same
per-client allowance as every other key (issue 7).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST

from headstart.api.deps import RuntimeDep, bearer, get_principal
from headstart.domain.errors import Forbidden
from headstart.observability.exposition import scrape
from headstart.services.keys import OPERATOR

router = APIRouter(tags=["operations"])

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def metrics_reader(request: Request, runtime: RuntimeDep, credentials: Credentials) -> None:
    """The metrics key, else an operator key (any other key: 403; none or a bad one: 401)."""
    expected = runtime.settings.metrics_key
    if (
        expected
        and credentials is not None
        and hmac.compare_digest(credentials.credentials.encode(), expected.encode())
    ):
        return
    principal = get_principal(request, runtime, credentials)
    if principal.role != OPERATOR:
        raise Forbidden("/metrics is for the operator or metrics key", {"role": principal.role})


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
    dependencies=[Depends(metrics_reader)],
)
def metrics(runtime: RuntimeDep) -> Response:
    """Latency per route, offers and orders by outcome, tracking lag, outbox backlog,
    estimate coverage (see README, "Running at scale")."""
    return Response(scrape(runtime), media_type=CONTENT_TYPE_LATEST)
