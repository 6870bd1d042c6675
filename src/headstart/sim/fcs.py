"""Opening a fulfillment center the way the demo, the simulator and the benchmarks do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time

from headstart.services import catalog
from headstart.store.uow import UnitOfWork


def open_fc(
    uow: Callable[[], UnitOfWork],
    code: str,
    time_zone: str,
    region: str,
    outbound_transit_days: dict[str, int],
) -> None:
    """An FC with one handling day, a 14:00 cut-off, no holidays, open Monday to Saturday."""
    catalog.create_fc(
        uow(),
        code=code,
        time_zone=time_zone,
        region=region,
        handling_days=1,
        cutoff_local_time=time(14, 0),
        holidays=[],
        outbound_transit_days=outbound_transit_days,
        operating_weekdays=[0, 1, 2, 3, 4, 5],
    )
