"""A shipment while it is being drawn: plain floats, turned into records at the end."""

from __future__ import annotations

from dataclasses import dataclass, field

# (event type, days since the history's start, carrier's ETA for delivery at the FC or None)
Event = tuple[str, float, float | None]


@dataclass(slots=True)
class Draft:
    """Times are days since the history's start; the legs fill in the rest as they go."""

    mode: str
    carrier_program: str
    carrier: str
    origin: str
    fc: str
    seller: int
    created: float
    shipped: float
    quantity: int
    events: list[Event] = field(default_factory=list)
    delivered: float = 0.0
    in_stock: float = 0.0
    received: int = 0
    customs_exam: bool = False
    # Draws the records never show, kept for the oracle (``oracle.py``): ocean ``express``
    # (1.0 or 0.0), ``scheduled`` sailing days and ``planned`` ETA; air ``planned`` and ``late``
    # days.
    hidden: dict[str, float] = field(default_factory=dict)

    def add(self, event_type: str, at: float, eta: float | None = None) -> None:
        self.events.append((event_type, at, eta))
