"""The sandbox clock (demo, simulation, tests): the operator sets or advances it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from headstart.domain.calendar import LATEST_INSTANT
from headstart.domain.errors import InvalidRequest
from headstart.services.estimation import EstimatorCache
from headstart.services.sweeps import run_sweeps
from headstart.store.tables import SettingRow
from headstart.store.uow import SANDBOX_CLOCK_KEY, UnitOfWork


def move_clock(
    uow: UnitOfWork,
    estimators: EstimatorCache,
    *,
    now: datetime | None = None,
    advance_hours: float | None = None,
    rate: float | None = None,
) -> dict[str, Any]:
    """Set or advance the clock, then run what the passing time makes due."""
    if (now is None) == (advance_hours is None) and rate is None:
        raise InvalidRequest("give exactly one of now or advance_hours (or a rate)")
    if now is not None and advance_hours is not None:
        raise InvalidRequest("give now or advance_hours, not both")
    if advance_hours is not None and advance_hours < 0:
        raise InvalidRequest("the clock never runs backwards", {"advance_hours": advance_hours})
    with uow:
        current = uow.now()
        row = uow.session.get(SettingRow, SANDBOX_CLOCK_KEY)
        old_rate = float(str(row.value.get("rate", 0.0))) if row else 0.0
        target = now if now is not None else current + timedelta(hours=advance_hours or 0.0)
        if target >= LATEST_INSTANT:  # advancing past it would overflow every date after
            raise InvalidRequest(
                "the clock cannot pass the latest supported instant",
                {"requested": target.isoformat(), "latest": LATEST_INSTANT.isoformat()},
            )
        if target < current and now is not None and row is not None:
            raise InvalidRequest(
                "the clock never runs backwards",
                {"now": current.isoformat(), "requested": target.isoformat()},
            )
        value = {
            "now": target.isoformat(),
            "set_at": uow.real_now().isoformat(),
            "rate": old_rate if rate is None else rate,
        }
        uow.session.merge(SettingRow(key=SANDBOX_CLOCK_KEY, value=value))
        uow.commit()
    swept = run_sweeps(uow, estimators)
    return {"now": swept["now"], "rate": value["rate"], "sweep": swept}
