"""Transit for parcel, LTL, FTL and air: the legs, their milestones and the carrier's ETA.

The carrier's ETA (``carrier_eta``) is always its estimate of delivery at the FC.
It is built from the carrier's *planned* durations for the legs still ahead, so it
is biased early wherever the actual legs run longer than planned, and it moves
toward the truth as legs are completed.

Domestic (parcel, LTL, FTL): the lane's distance zone sets the planned days
(parcel 3/4/5, PARAMETERS.md's 3-5 d); delivery comes up to half a day early, or
late with the mode's late share (higher for shipments sent in peak), mostly by one
day (ShipMatrix). Most late trucks get a ``delayed`` scan carrying a revised ETA.
Monterrey lanes cross the border (a ``customs_released`` event). Milestones:
departed_origin, in_transit (one per zone), out_for_delivery, delivered.

Air: the door-to-door time is lognormal (median 6 d, p90 9 d); the carrier plans a
time that runs 8% short on median with its own noise, and 20-25% of flights are
late by about a day (Cargo iQ) -- noticed by a ``delayed`` event just after
take-off. Milestones: booked, departed_origin, arrived_port (the airport),
customs_released, delivered.
"""

from __future__ import annotations

import math
import random

from headstart.sim.history.draft import Draft
from headstart.sim.history.parameters import GeneratorParameters
from headstart.sim.history.shapes import draw_lognormal, draw_uniform, lognormal_from_median_p90

AIR_LEGS = ("origin", "flight", "customs", "delivery")


class DomesticTransit:
    def __init__(self, parameters: GeneratorParameters) -> None:
        p = parameters
        self._planned = {
            (mode, zone): p.value(f"{mode}.zone{zone}.days")
            for mode in ("parcel", "ltl", "ftl")
            for zone in (1, 2, 3)
        }
        self._late = {
            (mode, peak): p.value(f"{mode}.late_share" + (".peak" if peak else ""))
            for mode in ("parcel", "ltl", "ftl")
            for peak in (False, True)
        }
        self._zones = {lane: int(p.value(f"lane.{lane}.zone")) for lane in p.names("lane", "zone")}
        self._early = p.value("domestic.early_days.max")
        self._one_day = p.value("late.one_day_share")
        self._extra = p.span("late.extra_days")
        self._noticed = p.value("late.noticed_share")
        self._border = p.span("border.days")
        self._border_planned = p.value("border.planned_days")

    def plan(self, d: Draft, rng: random.Random, shipped_in_peak: bool) -> None:
        zone = self._zones[f"{d.origin}.{d.fc}"]
        planned = self._planned[(d.mode, zone)]
        crosses_border = d.origin.startswith("MX-")
        border = draw_uniform(rng, self._border) if crosses_border else 0.0
        late = 0.0
        if rng.random() < self._late[(d.mode, shipped_in_peak)]:
            late = 1.0 if rng.random() < self._one_day else draw_uniform(rng, self._extra)
        d.delivered = d.shipped + planned - self._early * rng.random() + border + late
        pickup = d.shipped + 0.2 * rng.random()
        out = d.delivered - draw_uniform(rng, (0.05, 0.3))
        eta = d.shipped + planned + (self._border_planned if crosses_border else 0.0)
        notice = math.inf
        revised = d.delivered + 0.2 * rng.random()
        if late and rng.random() < self._noticed:
            notice = pickup + (out - pickup) * draw_uniform(rng, (0.3, 0.9))
            d.add("delayed", notice, revised)

        def eta_at(t: float) -> float:
            return revised if t >= notice else eta

        d.add("departed_origin", pickup, eta)
        if crosses_border:
            crossed = pickup + (out - pickup) * draw_uniform(rng, (0.2, 0.4))
            d.add("customs_released", crossed, eta_at(crossed))
        for _ in range(zone):
            scan = pickup + (out - pickup) * rng.random()
            d.add("in_transit", scan, eta_at(scan))
        d.add("out_for_delivery", out, d.delivered + 0.15 * rng.random())
        d.add("delivered", d.delivered)


class AirTransit:
    def __init__(self, parameters: GeneratorParameters) -> None:
        p = parameters
        mu, sigma = lognormal_from_median_p90(
            p.value("air.transit_days.median"), p.value("air.transit_days.p90")
        )
        self._noise = p.value("air.plan_noise_sigma")
        optimism = math.log(p.value("air.plan_optimism"))
        # Planned x noise = actual: the plan takes the spread the noise leaves.
        self._plan = (mu - optimism, math.sqrt(max(sigma * sigma - self._noise**2, 0.0)))
        self._optimism = optimism
        self._late = p.value("air.late_share")
        self._one_day = p.value("late.one_day_share")
        self._extra = p.span("late.extra_days")
        self._origin = {
            o: p.value(f"air.origin.{o}.factor") for o in p.names("air.origin", "factor")
        }
        self._fc_extra = {
            fc: p.value(f"fc.{fc}.air_extra_days") for fc in p.names("fc", "air_extra_days")
        }
        self._fractions = [p.value(f"air.leg.{leg}.fraction") for leg in AIR_LEGS]
        self._jitter = p.value("air.leg.jitter")

    def plan(self, d: Draft, rng: random.Random) -> None:
        factor, extra = self._origin[d.origin], self._fc_extra.get(d.fc, 0.0)
        planned = draw_lognormal(rng, self._plan) * factor
        actual = planned * math.exp(rng.gauss(self._optimism, self._noise))
        late = 0.0
        if rng.random() < self._late:
            late = 1.0 if rng.random() < self._one_day else draw_uniform(rng, self._extra)
        shares = [f * (1 + self._jitter * (2 * rng.random() - 1)) for f in self._fractions]
        legs = [actual * s / sum(shares) for s in shares]
        plan = [planned * f / sum(self._fractions) for f in self._fractions]

        d.hidden.update(planned=planned, late=late)
        departed = d.shipped + legs[0]
        arrived = departed + legs[1] + late
        released = arrived + legs[2]
        d.delivered = released + legs[3] + extra
        d.add("booked", d.shipped + legs[0] * 0.3 * rng.random(), d.shipped + planned + extra)
        d.add("departed_origin", departed, departed + sum(plan[1:]) + extra)
        if late:
            noticed = departed + (arrived - departed) * draw_uniform(rng, (0.1, 0.5))
            d.add("delayed", noticed, departed + sum(plan[1:]) + extra + late)
        d.add("arrived_port", arrived, arrived + sum(plan[2:]) + extra)
        d.add("customs_released", released, released + plan[3] + extra)
        d.add("delivered", d.delivered)
