"""Web sign-in (issue 5): an API key becomes a server-side session behind an opaque cookie.

The cookie holds a random token; only its keyed digest is stored (the same
HMAC-SHA256 as API keys), so a database dump signs nobody in. Each session has
its own CSRF token, which every form carries.
Sessions expire by the real clock, never the sandbox clock: moving sandbox time
must not sign anyone out or keep anyone signed in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete

from headstart.domain.errors import InvalidRequest
from headstart.services.keys import Principal, authenticate, digest_token
from headstart.store.tables import WebSessionRow
from headstart.store.uow import UnitOfWork

DEFAULT_TIME_ZONE = "UTC"


@dataclass(frozen=True)
class WebSession:
    principal: Principal
    csrf_token: str
    time_zone: str
    expires_at: datetime


def checked_time_zone(name: str) -> str:
    """An IANA zone name the server knows, or InvalidRequest."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidRequest(f"unknown time zone {name!r}", {"time_zone": name}) from error
    return name


def sign_in(
    uow: UnitOfWork,
    reader: UnitOfWork,
    key: str,
    *,
    operator_key: str | None,
    hours: float,
    time_zone: str,
) -> tuple[str, WebSession]:
    """Check the API key as the API does, then open a session; returns (cookie token, session)."""
    principal = authenticate(reader, key, operator_key)
    zone = checked_time_zone(time_zone or DEFAULT_TIME_ZONE)
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with uow:
        now = uow.real_now()
        # Expired sessions are swept here, the one place sessions are created.
        uow.session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
        row = WebSessionRow(
            token_hash=digest_token(uow.key_secret, token),
            role=principal.role,
            principal_id=principal.id,
            seller_id=principal.seller_id,
            csrf_token=csrf,
            time_zone=zone,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
        uow.session.add(row)
        uow.commit()
        return token, _session_of(row)


def _session_of(row: WebSessionRow) -> WebSession:
    return WebSession(
        principal=Principal(role=row.role, id=row.principal_id, seller_id=row.seller_id),
        csrf_token=row.csrf_token,
        time_zone=row.time_zone,
        expires_at=row.expires_at,
    )


def find_session(uow: UnitOfWork, token: str) -> WebSession | None:
    """The live session of this cookie token; None when unknown or expired."""
    with uow:
        row = uow.session.get(WebSessionRow, digest_token(uow.key_secret, token))
        if row is None or row.expires_at <= uow.real_now():
            return None
        return _session_of(row)


def sign_out(uow: UnitOfWork, token: str) -> None:
    with uow:
        uow.session.execute(
            delete(WebSessionRow).where(
                WebSessionRow.token_hash == digest_token(uow.key_secret, token)
            )
        )
        uow.commit()


def set_time_zone(uow: UnitOfWork, token: str, time_zone: str) -> None:
    zone = checked_time_zone(time_zone)
    with uow:
        row = uow.session.get(WebSessionRow, digest_token(uow.key_secret, token))
        if row is not None:
            row.time_zone = zone
            uow.commit()
