"""Which shipments leave when: days, modes, lanes, programs, carriers, sellers, units.

Shipping days follow a weekly pattern times the network's volume surge, and a
build-up before the holidays (more is shipped September through November); each
shipment draws its mode from the mix, its origin from the mode's origins
(import origins for air and ocean, domestic ones for parcel and trucks) and its FC
from the FC shares times each FC's own surge that week. Pickups happen in the
origin's local business hours; ``created`` falls a little before.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import accumulate

from headstart.sim.history.draft import Draft
from headstart.sim.history.parameters import GeneratorParameters
from headstart.sim.history.shapes import draw_uniform

# Names, not figures: who carries each mode (cosmetic; the figures do not vary by carrier).
CARRIERS: dict[str, tuple[str, ...]] = {
    "parcel": ("UPS", "FedEx", "USPS"),
    "ltl": ("Estes", "Old Dominion", "XPO"),
    "ftl": ("J.B. Hunt", "Schneider", "Werner"),
    "air": ("DHL Global Forwarding", "Kuehne+Nagel", "Expeditors"),
    "ocean": ("COSCO", "Maersk", "ONE", "Evergreen", "CMA CGM"),
}
IMPORT_MODES = frozenset({"air", "ocean"})
DAYS_PER_WEEK = 7


class _Choice:
    """A weighted choice among names, by one uniform draw."""

    def __init__(self, names: Sequence[str], weights: Sequence[float]) -> None:
        self.names = list(names)
        self.cumulative = list(accumulate(weights))

    def draw(self, rng: random.Random) -> str:
        u = rng.random() * self.cumulative[-1]
        return self.names[min(bisect.bisect_right(self.cumulative, u), len(self.names) - 1)]


def _choice(parameters: GeneratorParameters, prefix: str, suffix: str) -> _Choice:
    names = parameters.names(prefix, suffix)
    return _Choice(names, [parameters.value(f"{prefix}.{name}.{suffix}") for name in names])


def _build_up(parameters: GeneratorParameters, start: datetime, day: int) -> float:
    """The volume factor of shipping ``day`` (days after ``start``'s date)."""
    p = parameters
    first = (int(p.value("volume.build.start_month")), int(p.value("volume.build.start_day")))
    last = (int(p.value("volume.build.end_month")), int(p.value("volume.build.end_day")))
    date = start.date() + timedelta(days=day)
    return p.value("volume.build.factor") if first <= (date.month, date.day) <= last else 1.0


def draft_shipments(
    count: int,
    parameters: GeneratorParameters,
    rng: random.Random,
    start: datetime,
    network_surge: Sequence[float],
    fc_surges: dict[str, list[float]],
) -> list[Draft]:
    """``count`` drafts sorted by ``shipped``, spread over ``history.days`` days."""
    p = parameters
    days = int(p.value("history.days"))
    weekday_weight = [p.value(f"weekday.{d}.weight") for d in range(DAYS_PER_WEEK)]
    day_weights = [
        weekday_weight[(start.weekday() + day) % DAYS_PER_WEEK]
        * network_surge[day // DAYS_PER_WEEK]
        * _build_up(p, start, day)
        for day in range(days)
    ]
    shipping_days = rng.choices(range(days), weights=day_weights, k=count)
    modes = _choice(p, "mode", "share")
    origins = {
        "import": _choice(p, "origin.import", "share"),
        "domestic": _choice(p, "origin.domestic", "share"),
    }
    programs = {
        mode: _Choice(
            [n for n in p.table if n.startswith(f"program.{mode}.")],
            [p.value(n) for n in p.table if n.startswith(f"program.{mode}.")],
        )
        for mode in CARRIERS
    }
    fc_names = p.names("fc", "share")
    # Holiday stock-ups are lumpier: in build-up weeks each FC's swing is scaled up.
    lumpier = p.value("volume.build.fc_surge_scale")
    fc_weekly = [
        _Choice(
            fc_names,
            [
                p.value(f"fc.{fc}.share")
                * fc_surges[fc][week] ** (lumpier if _build_up(p, start, week * 7) > 1 else 1.0)
                for fc in fc_names
            ],
        )
        for week in range(len(network_surge))
    ]
    offsets = {
        o: p.value(f"origin.{o}.utc_offset_hours") for o in p.names("origin", "utc_offset_hours")
    }
    hours = p.span("shipped.local_hour")
    lead = p.span("created.lead_days")
    sellers = int(p.value("sellers.count"))
    sigma = p.value("quantity.sigma")
    medians = {mode: p.value(f"quantity.{mode}.median") for mode in CARRIERS}

    drafts = []
    for day in shipping_days:
        mode = modes.draw(rng)
        origin = origins["import" if mode in IMPORT_MODES else "domestic"].draw(rng)
        program = programs[mode].draw(rng).removeprefix(f"program.{mode}.")
        shipped = day + (draw_uniform(rng, hours) - offsets[origin]) / 24.0
        drafts.append(
            Draft(
                mode=mode,
                carrier_program=program,
                carrier=rng.choice(CARRIERS[mode]),
                origin=origin,
                fc=fc_weekly[day // DAYS_PER_WEEK].draw(rng),
                seller=rng.randrange(sellers),
                created=shipped - draw_uniform(rng, lead),
                shipped=shipped,
                quantity=max(1, round(medians[mode] * math.exp(rng.gauss(0.0, sigma)))),
            )
        )
    drafts.sort(key=lambda d: d.shipped)
    return drafts
