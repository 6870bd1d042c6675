"""The prior: transit and receiving times drawn from published figures (PARAMETERS.md).

With little or no history a shipment's estimate rests on this alone, so every
number sits in one table with its source beside it, as PARAMETERS.md asks, and a
reader can check each one. Rows marked "assumed" have no public figure; change
them here and bump ``PRIOR_VERSION`` so stored estimates (R17) show the change.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import NormalDist
from types import MappingProxyType

from headstart.domain.estimate.errors import InvalidEstimateInput


@dataclass(frozen=True)
class Figure:
    """One published (or openly assumed) number and where it comes from."""

    value: float
    source: str


PRIOR_VERSION = "prior-1"
_SM = "ShipMatrix via logisticsmgmt, freightwaves"
_SI = "Sea-Intelligence via seanews.com.tr, JOC"
_AS = "assumed (no public figure)"
FIGURES: Mapping[str, Figure] = MappingProxyType(
    {
        # Domestic modes: base transit, then a late tail of mostly one day.
        "parcel.transit_days.min": Figure(3, _SM),
        "parcel.transit_days.max": Figure(5, _SM),
        "parcel.late_share": Figure(0.04, _SM + " (90-99% on time)"),
        "parcel.late_share.peak": Figure(0.08, _SM + " (December peaks)"),
        "ltl.transit_days.min": Figure(2, _AS),
        "ltl.transit_days.max": Figure(6, _AS),
        "ltl.late_share": Figure(0.06, "nuvocargo.com LTL benchmarks (93-95% on time)"),
        "ltl.late_share.peak": Figure(0.10, "nuvocargo.com LTL benchmarks, peak"),
        "ftl.transit_days.min": Figure(1, _AS),
        "ftl.transit_days.max": Figure(4, _AS),
        "ftl.late_share": Figure(0.08, "project44 (69-77% appointments on time)"),
        "ftl.late_share.peak": Figure(0.12, "project44, peak"),
        "late.one_day_share": Figure(0.85, "ShipMatrix via supplychain247 (FedEx Dec 2021)"),
        "late.extra_days.min": Figure(2, "ShipMatrix via supplychain247 (+2-3 d otherwise)"),
        "late.extra_days.max": Figure(3, "ShipMatrix via supplychain247 (+2-3 d otherwise)"),
        # Air, China -> US door to door.
        "air.transit_days.median": Figure(6, "freight guides (3-10 d)"),
        "air.transit_days.p90": Figure(9, "freight guides (3-10 d)"),
        "air.late_share": Figure(0.225, "Cargo iQ via clecat.org (77-81% punctual)"),
        # Ocean, China -> US: the sum of legs.
        "ocean.origin_days.min": Figure(2, _AS + ": pickup to vessel departure"),
        "ocean.origin_days.max": Figure(5, _AS + ": pickup to vessel departure"),
        "ocean.express_share": Figure(0.3, _AS),
        "ocean.express_days.min": Figure(11, "56ok.com freight guides"),
        "ocean.express_days.max": Figure(13, "56ok.com freight guides"),
        "ocean.standard_days.min": Figure(14, "56ok.com freight guides"),
        "ocean.standard_days.max": Figure(18, "56ok.com freight guides"),
        "ocean.regime.normal.weight": Figure(0.55, _AS + ": share of weeks per regime"),
        "ocean.regime.normal.on_time": Figure(0.70, _SI),
        "ocean.regime.normal.late_mean_days": Figure(4.5, _SI),
        "ocean.regime.strained.weight": Figure(0.25, _AS + ": share of weeks per regime"),
        "ocean.regime.strained.on_time": Figure(0.55, _SI),
        "ocean.regime.strained.late_mean_days": Figure(4.6, _SI),
        "ocean.regime.disrupted.weight": Figure(0.15, _AS + ": share of weeks per regime"),
        "ocean.regime.disrupted.on_time": Figure(0.45, _SI),
        "ocean.regime.disrupted.late_mean_days": Figure(5.3, _SI),
        "ocean.regime.crisis.weight": Figure(0.05, _AS + ": share of weeks per regime"),
        "ocean.regime.crisis.on_time": Figure(0.25, _SI),
        "ocean.regime.crisis.late_mean_days": Figure(7.0, _SI),
        "ocean.late_share_of_off_schedule": Figure(0.8, "porttechnology.org (Q1 2023)"),
        "ocean.late_sigma": Figure(0.6, _AS + ": lognormal shape of days late"),
        "ocean.early_days.min": Figure(1, _AS),
        "ocean.early_days.max": Figure(2, _AS),
        "ocean.rail_share": Figure(0.2, _AS),
        "ocean.dwell_truck.mean_days": Figure(2.7, "PMSA via pacmar.com, freightwaves"),
        "ocean.dwell_truck.share_over_5_days": Figure(0.06, "PMSA via pacmar.com"),
        "ocean.dwell_rail.mean_days": Figure(5.0, "PMSA"),
        "ocean.dwell_rail.sigma": Figure(0.5, _AS),
        "ocean.customs_exam_share": Figure(0.04, "forwarder guides, 56ok.com (3-5%)"),
        "ocean.customs_exam_days.min": Figure(3, "forwarder guides, 56ok.com"),
        "ocean.customs_exam_days.max": Figure(7, "forwarder guides, 56ok.com"),
        "ocean.drayage_days.fixed": Figure(1, _AS + ": drayage + FC appointment"),
        "ocean.drayage_days.exp_mean": Figure(1.5, _AS + ": drayage + FC appointment"),
        "ocean.east_coast_share": Figure(0.3, _AS),
        "ocean.east_coast_extra_days.min": Figure(
            7, "56ok.com door to door: West 18-30, East 25-40"
        ),
        "ocean.east_coast_extra_days.max": Figure(
            10, "56ok.com door to door: West 18-30, East 25-40"
        ),
        # At the FC: delivered -> sellable.
        "receiving.median_days": Figure(1.5, "marketplace seller help (within 3 business days)"),
        "receiving.p90_days": Figure(4, "marketplace seller help (within 3 business days)"),
        "receiving.peak.median_days": Figure(4, "prep4fba.com, initiativedistribution.com"),
        "receiving.peak.p90_days": Figure(14, "prep4fba.com, palletfly.com (2+ weeks, to 30 d)"),
        "peak.start_month": Figure(10, "PARAMETERS.md: peak mid-Oct -> Dec"),
        "peak.start_day": Figure(15, "PARAMETERS.md: peak mid-Oct -> Dec"),
    }
)
_REGIMES = ("normal", "strained", "disrupted", "crisis")
_HOURS_PER_DAY = 24.0
# The table read once into plain floats: sampling runs tens of thousands of times.
_V: dict[str, float] = {key: float(figure.value) for key, figure in FIGURES.items()}


# Every "<name>.min" / "<name>.max" pair of the table as a (low, high) range under <name>.
_RANGES: dict[str, tuple[float, float]] = {
    key.removesuffix(".min"): (value, _V[key.removesuffix(".min") + ".max"])
    for key, value in _V.items()
    if key.endswith(".min")
}


def _lognormal_from_median_p90(median: float, p90: float) -> tuple[float, float]:
    return math.log(median), math.log(p90 / median) / NormalDist().inv_cdf(0.90)


def _lognormal_from_mean_tail(mean: float, over: float, share: float) -> tuple[float, float]:
    """(mu, sigma) with the given mean and P(X > over) = share (the smaller sigma)."""
    z = NormalDist().inv_cdf(1.0 - share)
    sigma = z - math.sqrt(z * z - 2.0 * (math.log(over) - math.log(mean)))
    return math.log(mean) - sigma * sigma / 2.0, sigma


def _lognormal_from_mean(mean: float, sigma: float) -> tuple[float, float]:
    return math.log(mean) - sigma * sigma / 2.0, sigma


# (base transit range, late share off-peak, late share in peak) per domestic mode.
_DOMESTIC = {
    mode: (_RANGES[f"{mode}.transit_days"], _V[f"{mode}.late_share"], _V[f"{mode}.late_share.peak"])
    for mode in ("parcel", "ltl", "ftl")
}
_AIR = _lognormal_from_median_p90(_V["air.transit_days.median"], _V["air.transit_days.p90"])
_RECEIVING = {
    False: _lognormal_from_median_p90(_V["receiving.median_days"], _V["receiving.p90_days"]),
    True: _lognormal_from_median_p90(
        _V["receiving.peak.median_days"], _V["receiving.peak.p90_days"]
    ),
}
# (cumulative share of weeks, on-time share, lognormal of days late beyond the first).
_REGIME_TABLE = tuple(
    (
        sum(_V[f"ocean.regime.{r}.weight"] for r in _REGIMES[: i + 1]),
        _V[f"ocean.regime.{name}.on_time"],
        _lognormal_from_mean(
            _V[f"ocean.regime.{name}.late_mean_days"] - 1.0, _V["ocean.late_sigma"]
        ),
    )
    for i, name in enumerate(_REGIMES)
)
_DWELL_TRUCK = _lognormal_from_mean_tail(
    _V["ocean.dwell_truck.mean_days"], 5.0, _V["ocean.dwell_truck.share_over_5_days"]
)
_DWELL_RAIL = _lognormal_from_mean(_V["ocean.dwell_rail.mean_days"], _V["ocean.dwell_rail.sigma"])
_PEAK_START = (int(_V["peak.start_month"]), int(_V["peak.start_day"]))


def is_peak(at: datetime) -> bool:
    """Peak receiving season (mid-October through December, UTC calendar)."""
    at = at.astimezone(UTC)
    return (at.month, at.day) >= _PEAK_START


def _lognormal(rng: random.Random, mu_sigma: tuple[float, float]) -> float:
    return math.exp(rng.gauss(*mu_sigma))


def _uniform(rng: random.Random, name: str) -> float:
    low, high = _RANGES[name]
    return low + (high - low) * rng.random()


def _late_days(rng: random.Random, share: float) -> float:
    """The domestic and air late tail: mostly one day, else two to three."""
    if rng.random() >= share:
        return 0.0
    if rng.random() < _V["late.one_day_share"]:
        return 1.0
    return _uniform(rng, "late.extra_days")


def _ocean_schedule_days(rng: random.Random) -> float:
    """Days off the sailing schedule, under a regime drawn from its share of weeks."""
    u = rng.random()
    _, on_time, late = next((row for row in _REGIME_TABLE if u < row[0]), _REGIME_TABLE[-1])
    if rng.random() < on_time:
        return 0.0
    if rng.random() >= _V["ocean.late_share_of_off_schedule"]:
        return -_uniform(rng, "ocean.early_days")
    return 1.0 + _lognormal(rng, late)


def _ocean_days(rng: random.Random) -> float:
    """Door to door as the sum of legs: origin, sailing, schedule, coast, dwell, exam, drayage."""
    express = rng.random() < _V["ocean.express_share"]
    days = _uniform(rng, "ocean.origin_days")
    days += _uniform(rng, "ocean.express_days" if express else "ocean.standard_days")
    days += _ocean_schedule_days(rng)
    if rng.random() < _V["ocean.east_coast_share"]:
        days += _uniform(rng, "ocean.east_coast_extra_days")
    rail = rng.random() < _V["ocean.rail_share"]
    days += _lognormal(rng, _DWELL_RAIL if rail else _DWELL_TRUCK)
    if rng.random() < _V["ocean.customs_exam_share"]:
        days += _uniform(rng, "ocean.customs_exam_days")
    days += _V["ocean.drayage_days.fixed"]
    return days + rng.expovariate(1.0 / _V["ocean.drayage_days.exp_mean"])


def sample_transit(mode: str, rng: random.Random, peak: bool) -> float:
    """Hours from shipping to delivery at the FC, one draw."""
    if mode == "ocean":
        days = _ocean_days(rng)
    elif mode == "air":
        days = _lognormal(rng, _AIR) + _late_days(rng, _V["air.late_share"])
    elif mode in _DOMESTIC:
        (low, high), late_share, late_share_peak = _DOMESTIC[mode]
        days = (
            low
            + (high - low) * rng.random()
            + _late_days(rng, late_share_peak if peak else late_share)
        )
    else:
        raise InvalidEstimateInput(f"unknown mode {mode!r}", {"field": "mode", "value": mode})
    return days * _HOURS_PER_DAY


def sample_receiving(rng: random.Random, peak: bool) -> float:
    """Hours from delivery to sellable, one draw; the same for every mode (an FC matter)."""
    return _lognormal(rng, _RECEIVING[peak]) * _HOURS_PER_DAY


def sample_prior(mode: str, rng: random.Random, peak: bool) -> tuple[float, float]:
    """One draw of (transit hours shipped -> FC delivery, receiving hours delivery -> sellable).

    Transit and receiving are drawn independently: the published figures give
    no joint behaviour, and receiving depends on the FC, not on the voyage.
    """
    return sample_transit(mode, rng, peak), sample_receiving(rng, peak)
