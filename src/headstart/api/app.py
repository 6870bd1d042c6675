"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from headstart import __version__
from headstart.api.errors import install_error_handlers
from headstart.api.limits import BodySizeLimit
from headstart.api.observation import RequestObservation
from headstart.api.openapi import install_openapi
from headstart.api.routers import (
    estimator,
    fulfillment_centers,
    metrics,
    offers,
    operations,
    orders,
    products,
    reports,
    sellers,
    shipments,
    tracking,
    webhooks,
)
from headstart.bootstrap import Runtime
from headstart.services.offer_cache import OfferCache
from headstart.web import install_web
from headstart.workers.runner import in_process_worker


def create_app(runtime: Runtime) -> FastAPI:
    # Offers kept in this process, forgotten on every commit that changes them (issue 8).
    offer_cache = OfferCache.for_engine(runtime.engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        offer_cache.start()  # listening before the first request, if it can
        try:
            if runtime.settings.run_worker_in_process:
                # A laptop demo's scheduler (and NATS consumer) beside the API (issue 4).
                async with in_process_worker(app):
                    yield
            else:
                yield
        finally:
            offer_cache.close()

    app = FastAPI(
        title="Head Start",
        version=__version__,
        description=(
            "Keep a product buyable while its stock is still on the way to the warehouse, "
            "with delivery dates promised from a confident in-stock estimate."
        ),
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.offer_cache = offer_cache
    install_error_handlers(app)
    install_openapi(app)  # built on first request, so every route below is documented
    for module in (
        fulfillment_centers,
        sellers,
        products,
        shipments,
        tracking,
        offers,
        orders,
        reports,
        operations,
        estimator,
        webhooks,
        metrics,
    ):
        app.include_router(module.router)
    if runtime.settings.sandbox:
        app.include_router(operations.sandbox_router)
    install_web(app)  # the pages of issue 5, served by the same app

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "sandbox": runtime.settings.sandbox}

    app.add_middleware(BodySizeLimit, max_bytes=runtime.settings.max_body_bytes)
    # Added last, so outermost: BodySizeLimit's 413s are timed and carry a request id too.
    app.add_middleware(RequestObservation, log_requests=runtime.settings.log_json)
    return app
