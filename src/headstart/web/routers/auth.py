"""Home, sign-in with an API key, sign-out and the viewer's time zone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from headstart.api.errors import retry_after_of
from headstart.domain.errors import InvalidRequest, TooManyAttempts, Unauthenticated
from headstart.services import web_sessions
from headstart.services.auth_failures import client_names
from headstart.services.keys import OPERATOR, SELLER, STOREFRONT
from headstart.web.pages import (
    SESSION_COOKIE,
    FormFields,
    PageRoute,
    SignInRequired,
    Viewer,
    runtime_of,
    safe_next,
)
from headstart.web.rendering import render, time_zones

router = APIRouter(route_class=PageRoute, include_in_schema=False)

HOME_OF_ROLE = {SELLER: "/seller", OPERATOR: "/operator", STOREFRONT: "/shop"}
Next = Annotated[str | None, Query(max_length=500)]


@router.get("/")
def home(request: Request, viewer: Viewer) -> Response:
    return render(request, "home.html")


@router.get("/sign-in")
def sign_in_page(request: Request, viewer: Viewer, next: Next = None) -> Response:
    return render(request, "sign_in.html", next=safe_next(next, ""), zones=time_zones())


@router.post("/sign-in")
def sign_in(request: Request, form: FormFields) -> Response:
    runtime = runtime_of(request)
    key = form.get("api_key", "").strip()
    zone = form.get("time_zone", "") or web_sessions.DEFAULT_TIME_ZONE
    next_path = form.get("next", "")
    clients = client_names(request.client.host if request.client else None, key)
    try:
        runtime.auth_failures.check(clients)
    except TooManyAttempts as error:
        response = render(
            request,
            "sign_in.html",
            429,
            next=safe_next(next_path, ""),
            zones=time_zones(),
            error="Too many failed sign-ins. Wait a minute and try again.",
            chosen_zone=zone,
        )
        response.headers["Retry-After"] = str(retry_after_of(error))
        return response
    try:
        if not key:
            raise Unauthenticated("Enter your API key.")
        token, session = web_sessions.sign_in(
            runtime.uow(),
            runtime.reader(),
            key,
            operator_key=runtime.settings.operator_key,
            hours=runtime.settings.session_hours,
            time_zone=zone,
        )
    except (Unauthenticated, InvalidRequest) as error:
        if isinstance(error, Unauthenticated):
            runtime.auth_failures.record_failure(clients)
        return render(
            request,
            "sign_in.html",
            401 if isinstance(error, Unauthenticated) else 422,
            next=safe_next(next_path, ""),
            zones=time_zones(),
            error=error.message,
            chosen_zone=zone,
        )
    target = safe_next(next_path, HOME_OF_ROLE[session.principal.role])
    response = RedirectResponse(target, 303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(runtime.settings.session_hours * 3600),
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
        path="/",
    )
    return response


@router.post("/sign-out")
def sign_out(request: Request, viewer: Viewer) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        web_sessions.sign_out(runtime_of(request).uow(), token)
    response = RedirectResponse("/", 303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/preferences")
def preferences(request: Request, viewer: Viewer, saved: bool = False) -> Response:
    if viewer is None:
        raise SignInRequired
    return render(request, "preferences.html", zones=time_zones(), saved=saved)


@router.post("/preferences")
def save_preferences(request: Request, viewer: Viewer, form: FormFields) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if viewer is None or not token:
        raise SignInRequired
    web_sessions.set_time_zone(runtime_of(request).uow(), token, form.get("time_zone", ""))
    return RedirectResponse("/preferences?saved=true", 303)
