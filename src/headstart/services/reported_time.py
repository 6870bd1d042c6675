"""Times reported by carriers and FCs: a little clock skew is forgiven, the future is not."""

from __future__ import annotations

from datetime import datetime, timedelta

from headstart.domain.errors import InvalidRequest

CLOCK_SKEW = timedelta(minutes=15)


def ensure_not_future(field: str, value: datetime, now: datetime, **details: object) -> None:
    """An event dated ahead of now would move estimates and promises on a guess."""
    if value > now + CLOCK_SKEW:
        raise InvalidRequest(
            f"{field} lies in the future",
            {field: value.isoformat(), "now": now.isoformat(), **details},
        )
