"""The oracle's futures of an ocean shipment until delivery at the FC (``ocean.py``'s law).

By the furthest milestone seen at ``now``:

- before departure: the service (express or standard) is known once the booking's
  ETA is seen, else drawn (30% express); the sailing follows from the route's
  timetable, the vessel's scheduled days are the timetable's (drawn if no shipment
  of the history took that vessel); the vessel's deviation is drawn under the
  regime of its departure week, which may lie ahead (the regime chain runs on from
  the current week);
- at sea: the deviation is drawn conditioned on the vessel not having berthed and
  on the carrier's notices: none yet (no ``delayed`` notice, no ``eta_update``), a
  ``delayed`` notice seen (its ETA shows 50-100% of the slip, its time a uniform
  25-75% of the voyage: both enter as likelihoods), or the ``eta_update``, whose ETA
  gives the deviation exactly;
- berthed: the dwell is drawn under the regime of the berthing week, conditioned on
  the gate not yet passed, and on the customs release (or exam order) seen or not:
  clearance = min(U, 0.8 dwell), so a seen clearance c means either U = c with dwell
  >= 1.25 c, or dwell = 1.25 c exactly (both branches weighed);
- inland by rail, then drayage (1 + exponential, memoryless): conditioned on not
  having ended.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from headstart.sim.history.conditions import REGIMES
from headstart.sim.history.draft import Draft
from headstart.sim.history.oracle_law import (
    Array,
    RegimeChain,
    Seen,
    normal_above,
    normal_pdf,
    normal_sf,
    uniform,
)
from headstart.sim.history.parameters import GeneratorParameters
from headstart.sim.history.shapes import lognormal_from_mean, lognormal_from_mean_tail

_DAYS_PER_WEEK = 7
_CLEARANCE_SHARE = 0.8  # ocean.py: clearance = min(U, 0.8 dwell)


class OceanFutures:
    def __init__(
        self,
        parameters: GeneratorParameters,
        chain: RegimeChain,
        phases: Mapping[tuple[str, bool, bool], float],
        schedules: Mapping[tuple[str, bool, bool, int], float],
    ) -> None:
        p = parameters
        self._chain, self._phases, self._schedules = chain, phases, schedules
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
        late = [
            lognormal_from_mean(
                p.value(f"ocean.regime.{r}.late_mean_days") - 1.0, p.value("ocean.late_sigma")
            )
            for r in REGIMES
        ]
        self._late_mu = np.array([mu for mu, _ in late])
        self._late_sigma = np.array([sigma for _, sigma in late])
        self._on_time = np.array([p.value(f"ocean.regime.{r}.on_time") for r in REGIMES])
        truck_mu, truck_sigma = lognormal_from_mean_tail(
            p.value("ocean.dwell_truck.mean_days"),
            5.0,
            p.value("ocean.dwell_truck.share_over_5_days"),
        )
        factors = [p.value(f"ocean.regime.{r}.dwell_truck_factor") for r in REGIMES]
        rail = [
            lognormal_from_mean(
                p.value(f"ocean.regime.{r}.dwell_rail_mean_days"),
                p.value("ocean.dwell_rail.sigma"),
            )
            for r in REGIMES
        ]
        # log dwell ~ N(mu[route][regime], sigma[route]); the truck factor shifts mu.
        self._dwell_mu = {
            False: np.array([truck_mu + math.log(f) for f in factors]),
            True: np.array([mu for mu, _ in rail]),
        }
        self._dwell_sigma = {False: truck_sigma, True: rail[0][1]}
        self._linehaul = p.span("ocean.rail_linehaul_days")
        self._ramp = p.span("ocean.ramp_days")
        self._clearance = p.span("ocean.clearance_days")
        self._exam_share = p.value("ocean.customs_exam_share")
        self._exam_days = p.span("ocean.customs_exam_days")
        self._dray_fixed = p.value("ocean.drayage_days.fixed")
        self._dray_mean = p.value("ocean.drayage_days.exp_mean")
        self._notice = p.span("eta.ocean.first_notice")
        self._final_update = p.span("eta.ocean.final_update_days")

    def delivered(
        self, rng: np.random.Generator, n: int, d: Draft, seen: Seen, now: float
    ) -> tuple[Array, Array]:
        rail = d.fc in self._rail
        ones = np.ones(n)
        if "out_for_delivery" in seen:
            return self._drayage(rng, np.full(n, seen["out_for_delivery"][0][0]), now), ones
        if rail and "in_transit" in seen:
            out = self._inland(rng, np.full(n, seen["in_transit"][0][0]), rail)
            return self._drayage(rng, out, now), ones * (out > now)
        if "arrived_port" in seen:
            gate, weights = self._port(rng, n, d, seen, now, rail)
            return self._drayage(rng, self._inland(rng, gate, rail), now), weights
        if "departed_origin" in seen:
            berths, weights = self._at_sea(rng, n, d, seen, now)
            regime = self._chain.after(rng, now, berths)
        else:
            departs, scheduled = self._sailing_ahead(rng, n, d, seen)
            sailed = self._chain.after(rng, now, departs)
            berths = departs + scheduled + self._deviation(rng, sailed)
            weights = ones
            regime = self._chain.then(rng, now, departs, sailed, berths)
        gate = berths + self._dwell(rng, rail, regime) + self._exam(rng, n)
        return self._drayage(rng, self._inland(rng, gate, rail), now), weights

    # ---- before departure ----------------------------------------------------------
    def _sailing_ahead(
        self, rng: np.random.Generator, n: int, d: Draft, seen: Seen
    ) -> tuple[Array, Array]:
        """(departure, scheduled sailing days) of each future, the service known or drawn."""
        east = d.fc in self._east
        if any(eta is not None for _, eta in seen.get("booked", ())):
            express = np.full(n, d.hidden["express"] > 0.5)
        else:
            express = rng.random(n) < self._express_share
        departs, scheduled = np.empty(n), np.empty(n)
        for service in (False, True):
            chosen = express == service
            count = int(chosen.sum())
            if not count:
                continue
            route = (d.origin, east, service)
            phase = self._phases.get(route)
            phases = uniform(rng, (0.0, self._gap), count) if phase is None else phase
            sailing = np.ceil((d.shipped + self._cutoff - phases) / self._gap)
            departs[chosen] = phases + sailing * self._gap
            if phase is not None:
                known = self._schedules.get((d.origin, east, service, int(sailing)))
                if known is not None:
                    scheduled[chosen] = known
                    continue
            scheduled[chosen] = self._scheduled(rng, d.origin, east, service, count)
        return departs, scheduled

    def _scheduled(
        self, rng: np.random.Generator, origin: str, east: bool, express: bool, n: int
    ) -> Array:
        days = uniform(rng, self._sailing[express], n)
        if origin in self._origin_extra:
            days = days + uniform(rng, self._origin_extra[origin], n)
        if east:
            days = days + uniform(rng, self._east_extra, n)
        return days

    # ---- at sea --------------------------------------------------------------------
    def _deviation(self, rng: np.random.Generator, regime: Array) -> Array:
        """A vessel's deviation from schedule under each future's departure regime."""
        n = regime.size
        on_time = rng.random(n) < self._on_time[regime]
        late = rng.random(n) < self._late_share
        window = self._window * (2.0 * rng.random(n) - 1.0)
        slip = 1.0 + np.exp(
            self._late_mu[regime] + self._late_sigma[regime] * rng.standard_normal(n)
        )
        early = -uniform(rng, self._early, n)
        return np.where(on_time, window, np.where(late, slip, early))

    def _at_sea(
        self, rng: np.random.Generator, n: int, d: Draft, seen: Seen, now: float
    ) -> tuple[Array, Array]:
        """Berthing instants of the vessel, given the voyage so far; with weights."""
        departs = seen["departed_origin"][0][0]
        scheduled, planned = d.hidden["scheduled"], d.hidden["planned"]
        if "eta_update" in seen:
            eta = seen["eta_update"][0][1]
            assert eta is not None  # the update's whole point is its ETA
            return np.full(n, departs + scheduled + eta - planned), np.ones(n)
        regime = self._chain.known(departs)
        if "delayed" in seen:
            notice, eta = seen["delayed"][0]
            assert eta is not None
            shown = eta - planned  # 50-100% of the slip
            deviation = uniform(rng, (shown, 2.0 * shown), n)
            slip = np.maximum(deviation - 1.0, 1e-12)
            z = (np.log(slip) - self._late_mu[regime]) / self._late_sigma[regime]
            # the slip's lognormal density x the likelihood of the ETA's share (1 / deviation)
            weights = normal_pdf(z) / slip / deviation * (deviation > 1.0)
            voyage = scheduled + deviation
            share = (notice - departs) / voyage
            low, high = self._notice
            weights = weights * ((share >= low) & (share <= high)) / voyage
            noticed: Array | float = notice
        else:
            deviation = self._deviation(rng, np.full(n, regime))
            voyage = scheduled + deviation
            drawn = departs + voyage * uniform(rng, self._notice, n)
            slipped = deviation >= 1.0
            weights = (~slipped | (drawn > now)).astype(float)  # no notice seen yet
            noticed = np.where(slipped, drawn, -math.inf)
        berths = departs + voyage
        final = np.maximum(berths - uniform(rng, self._final_update, n), departs + 0.25 * voyage)
        final = np.maximum(final, noticed)
        updated = np.abs(deviation) >= 1.0
        weights = weights * (~updated | (final > now)) * (berths > now)
        return berths, weights

    # ---- in port ---------------------------------------------------------------------
    def _dwell(self, rng: np.random.Generator, rail: bool, regime: Array) -> Array:
        mu, sigma = self._dwell_mu[rail][regime], self._dwell_sigma[rail]
        return np.exp(mu + sigma * rng.standard_normal(regime.size))

    def _exam(self, rng: np.random.Generator, n: int) -> Array:
        exam = rng.random(n) < self._exam_share
        return np.where(exam, uniform(rng, self._exam_days, n), 0.0)

    def _port(
        self, rng: np.random.Generator, n: int, d: Draft, seen: Seen, now: float, rail: bool
    ) -> tuple[Array, Array]:
        """Gate-out instants once berthed, given the clearance and exam seen or not."""
        berths = seen["arrived_port"][0][0]
        regime = self._chain.known(berths)
        mu, sigma = float(self._dwell_mu[rail][regime]), self._dwell_sigma[rail]
        exams = [at for at, _ in seen.get("delayed", ()) if at >= berths]
        released = seen["customs_released"][0][0] if "customs_released" in seen else None
        if not exams and released is None:
            # Neither the exam order nor the release yet: clearance not over.
            dwell = np.exp(mu + sigma * rng.standard_normal(n))
            clearance = np.minimum(uniform(rng, self._clearance, n), _CLEARANCE_SHARE * dwell)
            exam = self._exam(rng, n)
            gate = berths + dwell + exam
            return gate, ((berths + clearance > now) & (gate > now)).astype(float)
        if exams:
            ordered = exams[0]
            clearance = ordered - berths
            if released is not None:
                exam = np.full(n, released - ordered)
            else:
                low = min(max(self._exam_days[0], now - ordered), self._exam_days[1])
                exam = uniform(rng, (low, self._exam_days[1]), n)
        else:
            assert released is not None
            clearance, exam = released - berths, np.zeros(n)
        dwell, weights = self._dwell_given_clearance(rng, clearance, now - berths - exam, mu, sigma)
        return berths + dwell + exam, weights

    def _dwell_given_clearance(
        self, rng: np.random.Generator, clearance: float, beyond: Array, mu: float, sigma: float
    ) -> tuple[Array, Array]:
        """Dwell given clearance = min(U, 0.8 dwell) = ``clearance`` and dwell > ``beyond``.

        Either U = clearance and dwell >= clearance / 0.8 (density of U times the
        dwell's tail), or dwell = clearance / 0.8 and U above it (the dwell's
        density, Jacobian 1 / 0.8, times U's tail).
        """
        low, high = self._clearance
        pinned = clearance / _CLEARANCE_SHARE
        floor = np.maximum(pinned, beyond)
        z_floor = np.where(floor > 0, (np.log(np.maximum(floor, 1e-12)) - mu) / sigma, -np.inf)
        uniform_branch = float(low <= clearance <= high) / (high - low) * normal_sf(z_floor)
        u_above = min(max((high - max(clearance, low)) / (high - low), 0.0), 1.0)
        z_pinned = (math.log(max(pinned, 1e-12)) - mu) / sigma
        pinned_density = float(normal_pdf(z_pinned)) / (sigma * pinned) / _CLEARANCE_SHARE
        pinned_branch = pinned_density * u_above * (pinned > beyond)
        total = uniform_branch + pinned_branch
        take_pinned = rng.random(beyond.size) * np.maximum(total, 1e-300) < pinned_branch
        drawn = np.exp(mu + sigma * normal_above(rng, z_floor))
        return np.where(take_pinned, pinned, drawn), total

    # ---- inland ------------------------------------------------------------------------
    def _inland(self, rng: np.random.Generator, gate: Array, rail: bool) -> Array:
        if not rail:
            return gate
        n = gate.size
        return gate + uniform(rng, self._linehaul, n) + uniform(rng, self._ramp, n)

    def _drayage(self, rng: np.random.Generator, out: Array, now: float) -> Array:
        """Delivery: 1 day + exponential after out-for-delivery, not yet by ``now``."""
        return np.maximum(out + self._dray_fixed, now) + rng.exponential(self._dray_mean, out.size)
