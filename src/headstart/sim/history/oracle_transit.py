"""The oracle's futures of a parcel, LTL, FTL or air shipment until delivery at the FC.

Each draws delivery instants from ``transit.py``'s law given what the record has
shown by ``now`` (``Seen``): legs completed are kept, the leg under way is
conditioned on not having ended, the rest are drawn fresh, and what the carrier's
scans and notices say (their times, the ETA they carry) enters as a likelihood
weight. The literal shares below are ``transit.py``'s own.

Domestic: the transit is one draw (delivery = shipped + planned - early + border +
late), revealed by the scans along the way: departed_origin (pickup), the border
crossing at 20-40% of the way to out-for-delivery, ``zone`` scans uniform on that
stretch, a ``delayed`` notice (late and noticed) at 30-90% of it. Its ETA gives the
delivery within 0.2 d: from a notice on, the oracle takes the drawn delivery as
known (an approximation that favours the oracle by at most 0.2 d). From
out-for-delivery on, delivery is 0.05-0.3 d later, within the 0.15 d its ETA allows.

Air: four legs share the actual door-to-door time A (planned x noise) in jittered
proportions; the completed legs tell about A and about the shares still ahead
(``AirFutures._given_legs``). ``planned`` is known once any ETA has been seen, the
late day(s) once the ``delayed`` notice is (its ETA says how many).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from headstart.sim.history.draft import Draft
from headstart.sim.history.oracle_law import Array, Seen, normal_pdf, uniform
from headstart.sim.history.parameters import GeneratorParameters
from headstart.sim.history.transit import AIR_LEGS, AirTransit, DomesticTransit

# transit.py's literals: pickup within 0.2 d; out-for-delivery 0.05-0.3 d before delivery;
# the notice at 30-90% and the crossing at 20-40% of the way; ETAs within 0.15 d.
_PICKUP = 0.2
_LAST_MILE = (0.05, 0.3)
_NOTICE = (0.3, 0.9)
_CROSSING = (0.2, 0.4)
_OUT_ETA = 0.15
_AIR_BOOKED = 0.3  # booked within the first 30% of the origin leg
_AIR_NOTICE = (0.1, 0.5)  # a late flight's notice, as a share of the flight leg


def _late_days(
    rng: np.random.Generator, n: int, share: float, one_day: float, extra: tuple[float, float]
) -> Array:
    late = rng.random(n) < share
    days = np.where(rng.random(n) < one_day, 1.0, uniform(rng, extra, n))
    return np.where(late, days, 0.0)


class DomesticFutures(DomesticTransit):
    """Parcel, LTL and FTL futures, from the generator's own figures (``DomesticTransit``)."""

    def __init__(self, parameters: GeneratorParameters, is_peak: Callable[[float], bool]) -> None:
        super().__init__(parameters)
        self._is_peak = is_peak

    def delivered(
        self, rng: np.random.Generator, n: int, d: Draft, seen: Seen, now: float
    ) -> tuple[Array, Array]:
        if "delayed" in seen:
            return np.full(n, d.delivered), np.ones(n)
        if "out_for_delivery" in seen:
            out, eta = seen["out_for_delivery"][0]
            lo, hi = out + _LAST_MILE[0], out + _LAST_MILE[1]
            if eta is not None:
                lo, hi = max(lo, eta - _OUT_ETA), min(hi, eta)
            lo = max(lo, now)
            if not lo < hi:  # rounding at the minute: what was seen pins it
                return np.full(n, d.delivered), np.ones(n)
            return uniform(rng, (lo, hi), n), np.ones(n)
        zone = self._zones[f"{d.origin}.{d.fc}"]
        crosses = d.origin.startswith("MX-")
        border = uniform(rng, self._border, n) if crosses else 0.0
        share = self._late[(d.mode, self._is_peak(d.shipped))]
        late = _late_days(rng, n, share, self._one_day, self._extra)
        early = self._early * rng.random(n)
        delivered = d.shipped + self._planned[(d.mode, zone)] - early + border + late
        weights = np.ones(n)
        if "departed_origin" in seen:
            pickup: Array | float = seen["departed_origin"][0][0]
        else:
            pickup = d.shipped + _PICKUP * rng.random(n)
            weights = weights * (pickup > now)
        out = delivered - uniform(rng, _LAST_MILE, n)
        way = np.maximum(out - pickup, 1e-9)
        done = (now - pickup) / way  # share of the way behind us
        weights = weights * (out > now)
        noticed = (late > 0) & (rng.random(n) < self._noticed)
        notice_at = uniform(rng, _NOTICE, n)
        weights = weights * ~(noticed & (notice_at <= done))  # no notice seen yet
        if crosses:
            low, high = _CROSSING
            if "customs_released" in seen:
                share_at = (seen["customs_released"][0][0] - pickup) / way
                weights = weights * ((share_at >= low) & (share_at <= high)) / way
            else:
                weights = weights * np.clip((high - done) / (high - low), 0.0, 1.0)
        scans = len(seen.get("in_transit", ()))
        weights = weights * way ** (-scans) * np.clip(1.0 - done, 0.0, 1.0) ** (zone - scans)
        return delivered, weights


class AirFutures(AirTransit):
    """Air futures, from the generator's own figures (``AirTransit``)."""

    def __init__(self, parameters: GeneratorParameters) -> None:
        super().__init__(parameters)
        self._leg_fractions = np.array(self._fractions)

    def delivered(
        self, rng: np.random.Generator, n: int, d: Draft, seen: Seen, now: float
    ) -> tuple[Array, Array]:
        extra = self._fc_extra.get(d.fc, 0.0)
        shown = ("booked", "departed_origin", "delayed", "arrived_port", "customs_released")
        planned = (
            d.hidden["planned"]
            if any(eta is not None for kind in shown for _, eta in seen.get(kind, ()))
            else None
        )
        known_late = (
            d.hidden["late"] if "delayed" in seen else 0.0 if "arrived_port" in seen else None
        )
        if known_late is None:
            late: Array | float = _late_days(rng, n, self._late, self._one_day, self._extra)
        else:
            late = known_late
        f = self._leg_fractions[:, None]
        shares = f * (1.0 + self._jitter * (2.0 * rng.random((len(AIR_LEGS), n)) - 1.0))
        observed = self._legs_seen(seen, d.shipped, known_late or 0.0)
        if observed:
            actual, weights = self._given_legs(rng, observed, shares, planned, d.origin)
        else:
            base: Array | float = (
                planned
                if planned is not None
                else (np.exp(rng.normal(*self._plan, n)) * self._origin[d.origin])
            )
            actual = base * np.exp(rng.normal(self._optimism, self._noise, n))
            weights = np.ones(n)
        legs = actual * shares / shares.sum(axis=0)
        departed = d.shipped + legs[0]
        arrived = departed + legs[1] + late
        released = arrived + legs[2]
        delivered = released + legs[3] + extra
        if "departed_origin" not in seen:
            weights = weights * (departed > now)
            booked = self._booked_share(seen, d.shipped, now, legs[0])
            weights = weights * booked
        if "arrived_port" not in seen:
            weights = weights * (arrived > now) * self._notice(seen, now, departed, arrived, late)
        if "customs_released" not in seen:
            weights = weights * (released > now)
        return delivered, weights * (delivered > now)

    def _given_legs(
        self,
        rng: np.random.Generator,
        observed: list[float],
        shares: Array,
        planned: float | None,
        origin: str,
    ) -> tuple[Array, Array]:
        """The actual time A given the completed legs; fills in their shares; weights.

        With T = A / sum(shares) (days per unit of share), leg i = T x share i: the
        completed legs bound T (each share within its jitter), T is drawn uniform
        in those bounds, their shares solved as leg / T, the others drawn. The
        weight is the density of A = T x sum(shares) times the Jacobian sum / T^k.
        """
        k, n = len(observed), shares.shape[1]
        legs = np.array(observed)
        bounds = self._leg_fractions[:k] * (1.0 + self._jitter * np.array([[1.0], [-1.0]]))
        low, high = float(np.max(legs / bounds[0])), float(np.min(legs / bounds[1]))
        if not low < high:
            return np.ones(n), np.zeros(n)
        scale = uniform(rng, (low, high), n)
        shares[:k] = legs[:, None] / scale
        total = shares.sum(axis=0)
        actual = scale * total
        if planned is None:  # A is lognormal: the plan's spread and the noise together
            mu = self._plan[0] + math.log(self._origin[origin]) + self._optimism
            sigma = math.hypot(self._plan[1], self._noise)
        else:
            mu, sigma = math.log(planned) + self._optimism, self._noise
        density = normal_pdf((np.log(actual) - mu) / sigma) / actual
        return actual, density * total / scale**k

    @staticmethod
    def _legs_seen(seen: Seen, shipped: float, late: float) -> list[float]:
        """The completed legs: origin, flight (less the late days), customs."""
        legs: list[float] = []
        if "departed_origin" in seen:
            departed = seen["departed_origin"][0][0]
            legs.append(departed - shipped)
            if "arrived_port" in seen:
                arrived = seen["arrived_port"][0][0]
                legs.append(arrived - departed - late)
                if "customs_released" in seen:
                    legs.append(seen["customs_released"][0][0] - arrived)
        return legs

    @staticmethod
    def _booked_share(seen: Seen, shipped: float, now: float, origin_leg: Array) -> Array:
        """Likelihood of the booking (at a uniform share of the first 30% of the origin leg)."""
        window = _AIR_BOOKED * origin_leg
        if "booked" in seen:
            at = seen["booked"][0][0] - shipped
            return (at <= window) / window
        return 1.0 - np.clip((now - shipped) / window, 0.0, 1.0)

    @staticmethod
    def _notice(
        seen: Seen, now: float, departed: Array, arrived: Array, late: Array | float
    ) -> Array:
        """Likelihood of the late notice (seen at its time, or not seen by ``now``)."""
        flight = np.maximum(arrived - departed, 1e-9)
        low, high = _AIR_NOTICE
        if "delayed" in seen:
            at = (seen["delayed"][0][0] - departed) / flight
            return ((at >= low) & (at <= high)) / flight
        passed = np.clip(((now - departed) / flight - low) / (high - low), 0.0, 1.0)
        return np.where(np.asarray(late) > 0, 1.0 - passed, 1.0)
