"""Promised dates: in-stock, ship and delivery (R7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from headstart.domain.calendar import FulfillmentCenter


@dataclass(frozen=True)
class Promise:
    """What an order is told. Dates are FC-local calendar dates."""

    fc: str
    promised_in_stock_date: date
    promised_ship_date: date
    promised_delivery_date: date
    confidence: float

    def to_dict(self) -> dict[str, object]:
        return {
            "fc": self.fc,
            "promised_in_stock_date": self.promised_in_stock_date.isoformat(),
            "promised_ship_date": self.promised_ship_date.isoformat(),
            "promised_delivery_date": self.promised_delivery_date.isoformat(),
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Promise:
        return cls(
            fc=str(data["fc"]),
            promised_in_stock_date=date.fromisoformat(str(data["promised_in_stock_date"])),
            promised_ship_date=date.fromisoformat(str(data["promised_ship_date"])),
            promised_delivery_date=date.fromisoformat(str(data["promised_delivery_date"])),
            confidence=float(str(data["confidence"])),
        )


def ship_date(fc: FulfillmentCenter, in_stock_date: date, now: datetime, *, on_hand: bool) -> date:
    """R7: first operating day on or after in-stock date + handling days.

    Units already sellable (``on_hand``) leave the same day when the order
    beats the FC's cut-off on an operating day, else on the next operating
    day. Inbound units need the handling days after they become sellable.
    """
    if on_hand:
        today = fc.local_date(now)
        if fc.is_operating_day(today) and fc.is_before_cutoff(now):
            return today
        return fc.next_operating_day(today + timedelta(days=1))
    return fc.next_operating_day(in_stock_date + timedelta(days=fc.handling_days))


def delivery_date(fc: FulfillmentCenter, ship: date, region: str) -> date:
    """R7: ship date + outbound transit days from the FC to the buyer's region."""
    return ship + timedelta(days=fc.outbound_transit_days[region])


def make_promise(
    fc: FulfillmentCenter,
    in_stock_date: date,
    region: str,
    now: datetime,
    *,
    confidence: float,
    on_hand: bool,
) -> Promise:
    ship = ship_date(fc, in_stock_date, now, on_hand=on_hand)
    return Promise(
        fc=fc.code,
        promised_in_stock_date=in_stock_date,
        promised_ship_date=ship,
        promised_delivery_date=delivery_date(fc, ship, region),
        confidence=confidence,
    )
