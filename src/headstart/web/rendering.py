"""Jinja2 templates and how values are shown: instants in the viewer's zone, dates as FC dates."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.responses import Response

from headstart.services.web_sessions import DEFAULT_TIME_ZONE, WebSession
from headstart.web.vocabulary import BUYER_STATES, ENROLLMENT_STATES, reason_text

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
PRE_SESSION_COOKIE = "hs_csrf"  # double-submit token of forms shown before sign-in


def _moment(value: str | datetime) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def instant_text(value: str | datetime | None, zone: str) -> str:
    """``Thu 5 Mar 2026, 07:00 PST`` in ``zone``."""
    if value is None or value == "":
        return "—"
    local = _moment(value).astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def day_text(value: str | date | None) -> str:
    """``Thu 12 Mar 2026``: a calendar date, as an FC or a buyer's region knows it."""
    if value is None or value == "":
        return "—"
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day:%a} {day.day} {day:%b %Y}"


def when(value: str | datetime | None, zone: str) -> Markup:
    """An instant as ``<time>`` with its machine-readable ISO form."""
    if value is None or value == "":
        return Markup("—")
    moment = _moment(value)
    return Markup('<time datetime="{}">{}</time>').format(
        moment.isoformat(), instant_text(moment, zone)
    )


def on_day(value: str | date | None) -> Markup:
    if value is None or value == "":
        return Markup("—")
    return Markup('<time datetime="{}">{}</time>').format(str(value), day_text(value))


def percent(value: float | str | None, digits: int = 1) -> str:
    return "—" if value is None else f"{float(value) * 100:.{digits}f}%"


@cache
def time_zones() -> tuple[str, ...]:
    """IANA zones a viewer may pick: the canonical Area/City names, and UTC."""
    names = {
        name
        for name in available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
    }
    return (DEFAULT_TIME_ZONE, *sorted(names))


templates.env.filters.update(day=day_text, percent=percent, reason=reason_text)
templates.env.globals.update(
    when=when,
    on_day=on_day,
    escape=escape,
    BUYER_STATES=BUYER_STATES,
    ENROLLMENT_STATES=ENROLLMENT_STATES,
)


def viewer(request: Request) -> WebSession | None:
    session: WebSession | None = getattr(request.state, "web_session", None)
    return session


def render(request: Request, template: str, status_code: int = 200, /, **context: Any) -> Response:
    """A page with what every page needs: who is signed in, their zone, the CSRF token."""
    session = viewer(request)
    fresh_token: str | None = None
    if session is not None:
        csrf = session.csrf_token
    else:
        csrf = request.cookies.get(PRE_SESSION_COOKIE) or ""
        if not csrf:
            csrf = fresh_token = secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "session": session,
            "role": session.principal.role if session else None,
            "tz": session.time_zone if session else DEFAULT_TIME_ZONE,
            "csrf_token": csrf,
            **context,
        },
        status_code=status_code,
    )
    if fresh_token is not None:
        response.set_cookie(
            PRE_SESSION_COOKIE,
            fresh_token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
    return response
