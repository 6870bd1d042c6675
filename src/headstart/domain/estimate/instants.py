"""Aware instants and hour arithmetic, the estimator's only notion of time.

The domain never reads a clock (STYLE.md rule 4): every instant comes in as an
argument, and a naive one is refused here rather than guessed at, because a
guessed offset silently shifts every promise by hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from headstart.domain.estimate.errors import InvalidEstimateInput

_SECONDS_PER_HOUR = 3600.0


def to_utc(name: str, value: datetime) -> datetime:
    """Return ``value`` in UTC, refusing naive datetimes (ruff DTZ, DESIGN.md section 5)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidEstimateInput(f"{name} must be timezone-aware", {"field": name})
    return value.astimezone(UTC)


def hours_between(start: datetime, end: datetime) -> float:
    """Signed hours from ``start`` to ``end``."""
    return (end - start).total_seconds() / _SECONDS_PER_HOUR


def after_hours(start: datetime, hours: float) -> datetime:
    """The instant ``hours`` after ``start``."""
    return start + timedelta(hours=hours)
