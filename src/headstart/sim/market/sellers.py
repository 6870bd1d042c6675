"""The simulated sellers: where they ship from and to, by which mode, and when they reorder.

Each seller sends every SKU by one mode from one origin to one FC (drawn from the
history generator's mode mix and FC shares). Sellers replenish with a reorder-point
policy: once a day they compare each SKU's inventory position (sellable + inbound
- units promised to waiting head-start orders, as the R13 report shows it) with
the reorder point ``demand over the lead time + z * sqrt(that demand)`` and, when
at or below it, order up to the reorder point plus ``cover days`` of demand. Lead
times are the history generator's: the mean time from creation to in stock, by
mode, over the synthetic world of the same seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from headstart.domain.estimate import ClosedShipment
from headstart.sim.history.draft import Draft
from headstart.sim.history.parameters import GeneratorParameters
from headstart.sim.market.demand import SeasonCurve

SAFETY_Z = 1.0  # sellers run lean (assumed): stockouts happen, and head start matters
COVER_DAYS = {"parcel": 21, "ltl": 30, "ftl": 45, "air": 30, "ocean": 60}  # assumed
UNITS_PER_ORDER = 1.2  # the mean of demand.QUANTITY_WEIGHTS


@dataclass(frozen=True)
class Seller:
    index: int
    name: str
    mode: str
    origin: str
    fc: str
    skus: tuple[int, ...]


def lead_times(drafts: Sequence[Draft]) -> dict[str, float]:
    """Mean days from creation to in stock, by mode, over the generator's drafts."""
    spans: dict[str, list[float]] = {}
    for draft in drafts:
        spans.setdefault(draft.mode, []).append(draft.in_stock - draft.created)
    return {mode: sum(values) / len(values) for mode, values in spans.items() if values}


def history_lead_times(history: Sequence[ClosedShipment]) -> dict[str, float]:
    """Mean days from creation (or shipping) to in stock, by mode, of real closed shipments."""
    spans: dict[str, list[float]] = {}
    for item in history:
        begun = item.created_at or item.shipped_at
        spans.setdefault(item.mode, []).append((item.in_stock_at - begun) / timedelta(days=1))
    return {mode: sum(values) / len(values) for mode, values in spans.items() if values}


def draw_sellers(
    parameters: GeneratorParameters,
    rng: random.Random,
    sellers: int,
    skus: int,
    origin_for: object,
) -> list[Seller]:
    """Sellers with their mode, origin and FC; SKUs dealt round-robin (every seller has one)."""
    p = parameters
    modes = p.names("mode", "share")
    mode_weights = [p.value(f"mode.{m}.share") for m in modes]
    fcs = p.names("fc", "share")
    fc_weights = [p.value(f"fc.{fc}.share") for fc in fcs]
    drawn = []
    for index in range(sellers):
        mode = rng.choices(modes, mode_weights)[0]
        origin = origin_for(mode, rng, p)  # type: ignore[operator]
        drawn.append(
            Seller(
                index=index,
                name=f"Seller {index + 1:03d}",
                mode=mode,
                origin=origin,
                fc=rng.choices(fcs, fc_weights)[0],
                skus=tuple(range(index, skus, sellers)),
            )
        )
    return drawn


def reorder_quantity(
    position: int, rate: float, mode: str, lead_days: float, today: int, season: SeasonCurve
) -> int:
    """Units to ship now (0: not yet), by the reorder-point, order-up-to policy; sellers
    know their season (``season`` is the demand multiplier by day)."""
    over_lead = rate * UNITS_PER_ORDER * season.total(today, lead_days + 1)
    reorder_point = over_lead + SAFETY_Z * math.sqrt(over_lead)
    if position > reorder_point:
        return 0
    cover = rate * UNITS_PER_ORDER * season.total(today + lead_days, COVER_DAYS[mode])
    return max(1, math.ceil(reorder_point + cover - position))
