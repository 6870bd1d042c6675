"""Ocean freight, China/Vietnam -> US: the sum of legs, with vessels shared by shipments.

Legs (PARAMETERS.md "sum of legs"):

1. origin: cargo reaches the terminal before the CY cutoff, then waits for the
   next sailing of its service (express or standard; two sailings a week);
2. sailing: the vessel's scheduled port-to-port days (express 11-13 d, standard
   14-18 d; Vietnam and the east coast add days), plus the vessel's deviation
   from schedule, drawn once per vessel under the regime of its departure week:
   on time (within +-1 d) with the regime's share R, else 80% late by
   1 + lognormal (mean mu_L - 1), 20% early by 1-2 d;
3. port: dwell (truck: lognormal mean 2.7 d, 6% over 5 d; rail: mean 5 d, 8-13 d
   in a crisis; both slower in worse regimes, under the regime of the arrival
   week); customs release inside the dwell, or an exam that adds 3-7 d;
4. inland: FCs served by rail (DFW6) ride 3-5 d of intermodal to a ramp;
5. drayage + FC appointment: 1 + exponential (mean 1.5 d).

Milestones: booked, departed_origin, [delayed, eta_update while at sea],
arrived_port, [delayed when an exam is ordered], customs_released,
[in_transit when the container leaves by rail], out_for_delivery, delivered.

The ETA is the carrier's: the known sailing plus *planned* (quoted) durations
for every leg still ahead, so it runs early. A slip at sea is noticed partway
through the voyage (``delayed``, revealing part of it) and published in full a
few days before berthing (``eta_update``); an early vessel gets an ``eta_update``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from headstart.sim.history.conditions import REGIMES
from headstart.sim.history.draft import Draft
from headstart.sim.history.parameters import GeneratorParameters
from headstart.sim.history.shapes import (
    draw_lognormal,
    draw_uniform,
    lognormal_from_mean,
    lognormal_from_mean_tail,
)

_DAYS_PER_WEEK = 7


class OceanTransit:
    """Plans ocean shipments; remembers each vessel so its shipments share the sailing."""

    def __init__(
        self, parameters: GeneratorParameters, vessel_rng: random.Random, regimes: Sequence[str]
    ) -> None:
        p = parameters
        self._regimes = regimes
        self._vessel_rng = vessel_rng
        self._vessels: dict[tuple[str, bool, bool, int], tuple[float, float]] = {}
        self._phases: dict[tuple[str, bool, bool], float] = {}
        self._gap = _DAYS_PER_WEEK / p.value("ocean.sailings_per_week")
        self._cutoff = p.value("ocean.cutoff_days")
        self._express_share = p.value("ocean.express_share")
        self._sailing = {True: p.span("ocean.express_days"), False: p.span("ocean.standard_days")}
        self._origin_extra = {
            o: p.span(f"ocean.origin.{o}.extra_days")
            for o in p.names("ocean.origin", "extra_days.min")
        }
        self._east_extra = p.span("ocean.east_coast_extra_days")
        self._east = {
            fc for fc in p.names("fc", "ocean_east_coast") if p.value(f"fc.{fc}.ocean_east_coast")
        }
        self._rail = {fc for fc in p.names("fc", "ocean_rail") if p.value(f"fc.{fc}.ocean_rail")}
        self._window = p.value("ocean.on_time_window_days")
        self._late_share = p.value("ocean.late_share_of_off_schedule")
        self._early = p.span("ocean.early_days")
        late_sigma = p.value("ocean.late_sigma")
        self._on_time = {r: p.value(f"ocean.regime.{r}.on_time") for r in REGIMES}
        self._late = {
            r: lognormal_from_mean(p.value(f"ocean.regime.{r}.late_mean_days") - 1.0, late_sigma)
            for r in REGIMES
        }
        self._truck = lognormal_from_mean_tail(
            p.value("ocean.dwell_truck.mean_days"),
            5.0,
            p.value("ocean.dwell_truck.share_over_5_days"),
        )
        self._truck_factor = {r: p.value(f"ocean.regime.{r}.dwell_truck_factor") for r in REGIMES}
        rail_sigma = p.value("ocean.dwell_rail.sigma")
        self._rail_dwell = {
            r: lognormal_from_mean(p.value(f"ocean.regime.{r}.dwell_rail_mean_days"), rail_sigma)
            for r in REGIMES
        }
        self._linehaul = p.span("ocean.rail_linehaul_days")
        self._ramp = p.span("ocean.ramp_days")
        self._clearance = p.span("ocean.clearance_days")
        self._exam_share = p.value("ocean.customs_exam_share")
        self._exam_days = p.span("ocean.customs_exam_days")
        self._dray_fixed = p.value("ocean.drayage_days.fixed")
        self._dray_mean = p.value("ocean.drayage_days.exp_mean")
        self._plan_truck = p.value("eta.ocean.planned_dwell_truck_days")
        self._plan_rail_dwell = p.value("eta.ocean.planned_dwell_rail_days")
        self._plan_rail = p.value("eta.ocean.planned_rail_days")
        self._plan_ramp = p.value("eta.ocean.planned_ramp_days")
        self._plan_dray = p.value("eta.ocean.planned_drayage_days")
        self._plan_exam = p.value("eta.ocean.planned_exam_days")
        self._notice = p.span("eta.ocean.first_notice")
        self._revealed = p.span("eta.ocean.first_notice_revealed")
        self._final_update = p.span("eta.ocean.final_update_days")

    def timetable(
        self,
    ) -> tuple[dict[tuple[str, bool, bool], float], dict[tuple[str, bool, bool, int], float]]:
        """What the oracle may know ahead: each route's sailing phase, each vessel's schedule.

        Routes are (origin, east coast, express); vessels add the sailing's number.
        """
        scheduled = {key: vessel[0] for key, vessel in self._vessels.items()}
        return dict(self._phases), scheduled

    def regime_at(self, day: float) -> str:
        week = min(max(int(day // _DAYS_PER_WEEK), 0), len(self._regimes) - 1)
        return self._regimes[week]

    def _departure(self, origin: str, east: bool, express: bool, ready: float) -> tuple[float, int]:
        route = (origin, east, express)
        if route not in self._phases:
            self._phases[route] = self._gap * self._vessel_rng.random()
        phase = self._phases[route]
        sailing = math.ceil((ready - phase) / self._gap)
        return phase + sailing * self._gap, sailing

    def _vessel(
        self, origin: str, east: bool, express: bool, sailing: int, departs: float
    ) -> tuple[float, float]:
        """(scheduled sailing days, deviation from schedule) of one vessel, drawn once."""
        key = (origin, east, express, sailing)
        if key not in self._vessels:
            rng, regime = self._vessel_rng, self.regime_at(departs)
            scheduled = draw_uniform(rng, self._sailing[express])
            if origin in self._origin_extra:
                scheduled += draw_uniform(rng, self._origin_extra[origin])
            if east:
                scheduled += draw_uniform(rng, self._east_extra)
            if rng.random() < self._on_time[regime]:
                deviation = self._window * (2 * rng.random() - 1)
            elif rng.random() < self._late_share:
                deviation = 1.0 + draw_lognormal(rng, self._late[regime])
            else:
                deviation = -draw_uniform(rng, self._early)
            self._vessels[key] = (scheduled, deviation)
        return self._vessels[key]

    def plan(self, d: Draft, rng: random.Random) -> None:
        east, rail = d.fc in self._east, d.fc in self._rail
        express = rng.random() < self._express_share
        departs, sailing = self._departure(d.origin, east, express, d.shipped + self._cutoff)
        scheduled, deviation = self._vessel(d.origin, east, express, sailing, departs)
        berths = departs + scheduled + deviation
        after_berth = (
            self._plan_rail_dwell + self._plan_rail + self._plan_ramp + self._plan_dray
            if rail
            else self._plan_truck + self._plan_dray
        )
        after_release = after_berth - (self._plan_rail_dwell if rail else self._plan_truck) + 0.5
        planned = departs + scheduled + after_berth
        d.hidden.update(express=float(express), scheduled=scheduled, planned=planned)
        d.add("booked", d.shipped + 0.5 * rng.random(), planned)
        d.add("departed_origin", departs, planned)
        self._at_sea(d, rng, departs, berths, planned, deviation)

        regime = self.regime_at(berths)
        if rail:
            dwell = draw_lognormal(rng, self._rail_dwell[regime])
        else:
            dwell = draw_lognormal(rng, self._truck) * self._truck_factor[regime]
        clearance = min(draw_uniform(rng, self._clearance), 0.8 * dwell)
        exam = draw_uniform(rng, self._exam_days) if rng.random() < self._exam_share else 0.0
        d.customs_exam = exam > 0
        d.add("arrived_port", berths, berths + after_berth)
        released = berths + clearance + exam
        if exam:
            ordered = berths + clearance
            d.add("delayed", ordered, ordered + self._plan_exam + after_release)
        d.add("customs_released", released, max(berths + after_berth, released + after_release))
        gate_out = berths + dwell + exam
        out = gate_out
        if rail:
            d.add(
                "in_transit",
                gate_out,
                gate_out + self._plan_rail + self._plan_ramp + self._plan_dray,
            )
            out = gate_out + draw_uniform(rng, self._linehaul) + draw_uniform(rng, self._ramp)
        d.add("out_for_delivery", out, out + self._plan_dray)
        d.delivered = out + self._dray_fixed + rng.expovariate(1.0 / self._dray_mean)
        d.add("delivered", d.delivered)

    def _at_sea(
        self,
        d: Draft,
        rng: random.Random,
        departs: float,
        berths: float,
        planned: float,
        deviation: float,
    ) -> None:
        """The carrier's revisions while the vessel sails: a slip noticed, then published."""
        if abs(deviation) < 1.0:
            return
        final = max(
            berths - draw_uniform(rng, self._final_update), departs + 0.25 * (berths - departs)
        )
        if deviation > 0:
            noticed = departs + (berths - departs) * draw_uniform(rng, self._notice)
            d.add("delayed", noticed, planned + deviation * draw_uniform(rng, self._revealed))
            final = max(final, noticed)
        d.add("eta_update", final, planned + deviation)
