"""Inbound shipments of the simulated sellers, drawn with the history generator's own
drawing functions (``sim/history``): transit legs with milestones and carrier ETAs
(``DomesticTransit``, ``AirTransit``, ``OceanTransit``), receiving at the FC with peak
backlogs (``receive_bulk``) and shortfalls (``short_ship_bulk``).

Receiving depends on the FC's backlog, so each day's new shipments are drawn
together with a background of the world's other shipments (a synthetic history of
the same seed): the backlog a new shipment meets and the fit to the published
receiving figures come from that background plus what the sellers send.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from headstart.sim.history.arrivals import CARRIERS, IMPORT_MODES
from headstart.sim.history.conditions import Season
from headstart.sim.history.draft import Draft
from headstart.sim.history.generator import SyntheticHistory, synthesize_history
from headstart.sim.history.ocean import OceanTransit
from headstart.sim.history.parameters import GeneratorParameters
from headstart.sim.history.receiving import receive_bulk, short_ship_bulk
from headstart.sim.history.transit import AirTransit, DomesticTransit
from headstart.sim.market.streams import python_stream

_MINUTE = timedelta(minutes=1)
# A shipment lost or damaged in transit (assumed: rare, but it must happen in a year).
EXCEPTION_SHARE = 0.004
# Days from the last receipt until FC receiving closes the shipment (assumed).
CLOSE_AFTER_DAYS = (0.5, 3.0)
# Exceptions are written off after this many days (assumed).
WRITE_OFF_DAYS = 7.0
BACKGROUND_SHIPMENTS = 1000


@dataclass(frozen=True)
class PlannedEvent:
    at: datetime
    kind: str
    carrier_eta: datetime | None = None
    reason: str | None = None


@dataclass
class ShipmentPlan:
    """What will happen to one shipment, drawn when the seller creates it."""

    shipment_id: str
    seller: int
    mode: str
    carrier_program: str
    carrier: str
    origin: str
    fc: str
    created_at: datetime
    shipped_at: datetime
    lines: list[tuple[str, int]]  # (sku, units shipped)
    received: list[tuple[str, int]]  # (sku, units that will be received)
    events: list[PlannedEvent] = field(default_factory=list)
    in_stock_at: datetime | None = None  # None: lost in transit (an exception)
    close_at: datetime | None = None


class ShipmentDrawer:
    """Draws shipments from the history generator's figures, one seeded world per run."""

    def __init__(self, parameters: GeneratorParameters, seed: int, start: datetime) -> None:
        self._p = parameters
        self._seed = seed
        self._start = start.astimezone(UTC)
        world = synthesize_history(BACKGROUND_SHIPMENTS, seed, self._start, parameters)
        self.world: SyntheticHistory = world
        self._background = [replace(draft, events=[]) for draft in world._drafts]
        self._season = Season(parameters, self._start)
        self._domestic = DomesticTransit(parameters)
        self._air = AirTransit(parameters)
        self._ocean = OceanTransit(
            parameters, python_stream(seed, "vessels"), list(world.weekly_regimes)
        )
        mean = parameters.value("shortfall.seller_mean")
        concentration = parameters.value("shortfall.seller_concentration")
        self._shortfall_rng = python_stream(seed, "seller-shortfall")
        self._seller_share: dict[int, float] = {}
        self._share_shape = (mean * concentration, (1.0 - mean) * concentration)

    def days(self, at: datetime) -> float:
        return (at - self._start) / timedelta(days=1)

    def at(self, days: float) -> datetime:
        return self._start + _MINUTE * round(days * 1440)

    def shortfall_share(self, seller: int) -> float:
        """Each seller's receiving shortfall share (PARAMETERS.md: per seller ~ beta)."""
        if seller not in self._seller_share:
            rng = python_stream(self._seed, "seller-shortfall", seller)
            self._seller_share[seller] = rng.betavariate(*self._share_shape)
        return self._seller_share[seller]

    def draft(
        self,
        seller: int,
        number: int,
        mode: str,
        origin: str,
        fc: str,
        created_at: datetime,
        units: int,
    ) -> tuple[Draft, random.Random]:
        """The k-th shipment of a seller: its stream is keyed so paired runs draw alike."""
        rng = python_stream(self._seed, "shipment", seller, number)
        programs = [n for n in self._p.table if n.startswith(f"program.{mode}.")]
        weights = [self._p.value(n) for n in programs]
        program = rng.choices(programs, weights)[0].removeprefix(f"program.{mode}.")
        created = self.days(created_at)
        lead = self._p.span("created.lead_days")
        shipped = created + lead[0] + (lead[1] - lead[0]) * rng.random()
        draft = Draft(
            mode=mode,
            carrier_program=program,
            carrier=rng.choice(CARRIERS[mode]),
            origin=origin,
            fc=fc,
            seller=0,
            created=created,
            shipped=shipped,
            quantity=units,
        )
        if mode == "ocean":
            self._ocean.plan(draft, rng)
        elif mode == "air":
            self._air.plan(draft, rng)
        else:
            self._domestic.plan(draft, rng, self._season.is_peak(draft.shipped))
        return draft, rng

    def receive(self, drafts: Sequence[Draft], day: int) -> None:
        """Receiving for a day's new drafts, against the world's backlog at their FCs."""
        if not drafts:
            return
        background = [replace(d, events=[]) for d in self._background]
        receive_bulk(
            [*background, *drafts],
            self._p,
            python_stream(self._seed, "receiving", day),
            self._season,
        )

    def short_ship(self, draft: Draft, seller: int, rng: random.Random) -> None:
        """Units that never arrive, at the seller's own shortfall share."""
        one_seller = self._p.with_values(
            {
                "sellers.count": 1,
                "shortfall.seller_mean": max(self.shortfall_share(seller), 1e-6),
                "shortfall.seller_concentration": 1e7,
            }
        )
        short_ship_bulk([draft], one_seller, rng)

    def plan(
        self,
        shipment_id: str,
        seller: int,
        draft: Draft,
        rng: random.Random,
        lines: list[tuple[str, int]],
    ) -> ShipmentPlan:
        """Turn a drawn draft (transit, receiving, shortfall done) into timed actions."""
        received = _spread_shortfall(lines, draft.quantity - draft.received)
        events = [
            PlannedEvent(self.at(day), kind, None if eta is None else self.at(eta))
            for kind, day, eta in sorted(draft.events, key=lambda e: e[1])
        ]
        plan = ShipmentPlan(
            shipment_id=shipment_id,
            seller=seller,
            mode=draft.mode,
            carrier_program=draft.carrier_program,
            carrier=draft.carrier,
            origin=draft.origin,
            fc=draft.fc,
            created_at=self.at(draft.created),
            shipped_at=self.at(draft.shipped),
            lines=lines,
            received=received,
            events=events,
            in_stock_at=self.at(draft.in_stock),
        )
        close_low, close_high = CLOSE_AFTER_DAYS
        close_days = draft.in_stock + close_low + (close_high - close_low) * rng.random()
        if rng.random() < EXCEPTION_SHARE:
            # Lost on the way: an exception halfway through transit, then written off.
            lost = draft.shipped + (draft.delivered - draft.shipped) * rng.uniform(0.2, 0.8)
            plan.events = [e for e in events if e.at < self.at(lost)]
            reason = rng.choice(("lost", "damaged"))
            plan.events.append(PlannedEvent(self.at(lost), "exception", reason=reason))
            plan.received = [(sku, 0) for sku, _ in lines]
            plan.in_stock_at = None
            close_days = lost + WRITE_OFF_DAYS
        plan.close_at = self.at(close_days)
        return plan


def _spread_shortfall(lines: list[tuple[str, int]], missing: int) -> list[tuple[str, int]]:
    """The shipment's missing units, taken from its lines in proportion (largest first)."""
    total = sum(units for _, units in lines)
    received = []
    left = missing
    for sku, units in sorted(lines, key=lambda line: -line[1]):
        take = min(units, left, math.ceil(missing * units / total)) if total else 0
        received.append((sku, units - take))
        left -= take
    return sorted(received)


def origin_for(mode: str, rng: random.Random, parameters: GeneratorParameters) -> str:
    """A seller's origin: import origins for air and ocean, domestic ones otherwise."""
    kind = "import" if mode in IMPORT_MODES else "domestic"
    names = parameters.names(f"origin.{kind}", "share")
    weights = [parameters.value(f"origin.{kind}.{name}.share") for name in names]
    return rng.choices(names, weights)[0]
