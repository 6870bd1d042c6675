"""How every page route runs: the session is loaded, every POST's CSRF token is checked,
and errors become pages (the API's JSON error shape is for API clients, not people)."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from headstart.api.errors import STATUS_OF_CODE
from headstart.bootstrap import Runtime
from headstart.domain.errors import Forbidden, HeadStartError
from headstart.services import web_sessions
from headstart.services.web_sessions import WebSession
from headstart.web.rendering import PRE_SESSION_COOKIE, render, viewer

SESSION_COOKIE = "hs_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(Exception):
    """The page needs a signed-in viewer: the browser is sent to the sign-in page."""


class CsrfRejected(Exception):
    pass


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _load_session(request: Request) -> WebSession | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return web_sessions.find_session(runtime_of(request).reader(), token)


async def _check_csrf(request: Request) -> None:
    """Every POST carries the session's token (or, before sign-in, the pre-session cookie's)."""
    session = viewer(request)
    expected = session.csrf_token if session else request.cookies.get(PRE_SESSION_COOKIE)
    form = await request.form()
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected or not isinstance(given, str):
        raise CsrfRejected
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfRejected


def safe_next(path: str | None, default: str) -> str:
    """Only a path on this site (never ``//evil.example``): no open redirect."""
    if path and path.startswith("/") and not path.startswith(("//", "/\\")):
        return path
    return default


def error_page(request: Request, status_code: int, title: str, message: str) -> Response:
    return render(request, "error.html", status_code, title=title, message=message)


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_page(request: Request) -> Response:
            request.state.web_session = await run_in_threadpool(_load_session, request)
            try:
                if request.method == "POST":
                    await _check_csrf(request)
                response = await handle(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", 303)
            except CsrfRejected:
                return error_page(
                    request,
                    403,
                    "Form expired",
                    "This form's security token is missing or out of date. "
                    "Go back, reload the page and try again.",
                )
            except HeadStartError as error:
                status = STATUS_OF_CODE.get(error.code, 422)
                return error_page(request, status, _TITLES.get(status, "Error"), error.message)
            except RequestValidationError as error:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in item.get('loc', ())[1:])}: {item.get('msg')}"
                    for item in error.errors()
                )
                return error_page(request, 422, "Check the values", problems)
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return handle_page


_TITLES = {401: "Sign in", 403: "Not allowed", 404: "Not found", 409: "Not possible", 422: "Check"}


def current_viewer(request: Request) -> WebSession | None:
    return viewer(request)


def require_role(*roles: str) -> Callable[[Request], WebSession]:
    def dependency(request: Request) -> WebSession:
        session = viewer(request)
        if session is None:
            raise SignInRequired
        if session.principal.role not in roles:
            raise Forbidden(
                f"This page is for {' or '.join(roles)} sign-ins; you are signed in as "
                f"{session.principal.role}."
            )
        return session

    return dependency


Viewer = Annotated[WebSession | None, Depends(current_viewer)]


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as text fields (files are not accepted anywhere)."""
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]
