"""Server-rendered pages for sellers, buyers and operators (issue 5): Jinja2 and htmx."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from headstart.web.rendering import HERE
from headstart.web.routers import auth, operator, seller, storefront
from headstart.web.security import SecurityHeaders


def install_web(app: FastAPI) -> None:
    """Mount the pages and their static files (vendored htmx, CSS) on the API's app."""
    for module in (auth, seller, storefront, operator):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(SecurityHeaders)
