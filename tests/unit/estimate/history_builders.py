"""Tiny hand-made histories for the milestone model's and the evaluation's tests.

Every shipment is stated by the few numbers a test cares about (transit and
receiving days, how far the carrier's ETA is off); the rest is filled in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from headstart.domain.estimate import ClosedShipment, HistoryEvent

DAY = timedelta(days=1)
SPRING = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)  # off-peak


def shipment(
    i: int,
    *,
    transit_days: float,
    receiving_days: float,
    mode: str = "parcel",
    origin: str = "US-OH",
    fc: str = "EWR1",
    shipped_at: datetime = SPRING,
    eta_error_days: float | None = 0.0,
    milestones: tuple[str, ...] = ("departed_origin", "out_for_delivery"),
    program: str = "partnered_carrier",
) -> ClosedShipment:
    """One closed shipment; the carrier's ETA (on every transit event) is off by
    ``eta_error_days`` (positive: it arrived later than quoted; None: no ETA)."""
    delivered = shipped_at + transit_days * DAY
    eta = None if eta_error_days is None else delivered - eta_error_days * DAY
    events = [
        HistoryEvent(name, shipped_at + (k + 0.1) * transit_days / len(milestones) * DAY, eta)
        for k, name in enumerate(milestones)
    ]
    events.append(HistoryEvent("delivered", delivered))
    return ClosedShipment(
        mode=mode,
        carrier_program=program,
        origin=origin,
        destination_fc=fc,
        shipped_at=shipped_at,
        delivered_at=delivered,
        in_stock_at=delivered + receiving_days * DAY,
        quantity_shipped=10,
        quantity_received=10,
        shipment_id=f"S{i:05d}",
        carrier="UPS",
        events=tuple(events),
    )


def spread(n: int, low: float, high: float) -> list[float]:
    """n values evenly spread over [low, high]."""
    return [low + (high - low) * k / max(n - 1, 1) for k in range(n)]


def parcel_history(n: int = 200, start: datetime = SPRING) -> list[ClosedShipment]:
    """n parcels, one every six hours: transit 2-4 days, receiving 0.5-1.5 days, exact ETAs."""
    transit = spread(n, 2.0, 4.0)
    receiving = spread(n, 0.5, 1.5)[::-1]
    return [
        shipment(
            i,
            transit_days=transit[i],
            receiving_days=receiving[(i * 7) % n],
            shipped_at=start + i * timedelta(hours=6),
        )
        for i in range(n)
    ]
