"""Every default of the synthetic history generator, in one table with its source.

PARAMETERS.md asks that a reader can check each number: a row cites the published
figure it comes from, or says "assumed" where no public figure exists (then the
value is our guess, chosen to stay inside the published ranges). Durations are in
days, shares in 0..1. Origins, FCs and lanes are keys of the table too, so adding
an FC is adding its rows.

The generator's structure (which leg follows which, what the carrier knows when it
quotes an ETA) is documented in ``generator.py`` and its helper modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Parameter:
    """One number of the generator and where it comes from."""

    value: float
    source: str


_AS = "assumed"
_ISSUE = "assumed (issue 3's example)"
_SI = "Sea-Intelligence GLP via seanews.com.tr, JOC (transpacific regimes)"
_SI_GLOBAL = "Sea-Intelligence GLP via freightnews.co.za, shipco, asiacargonews"
_56 = "56ok.com freight guides"
_56_DOOR = "56ok.com; Flexport OTI (door to door: West 18-30 d, East 25-40 d)"
_PMSA = "PMSA dwell data via pacmar.com, freightwaves"
_SM = "ShipMatrix via logisticsmgmt, freightwaves (90-99% on time)"
_SM247 = "ShipMatrix via supplychain247 (FedEx Dec 2021: 97.1% with a day of grace)"
_NUVO = "nuvocargo.com LTL benchmarks (93-95% on time)"
_P44 = "project44 (69-77% appointments on time)"
_AIR = "freight guides (China -> US air 3-10 d)"
_CIQ = "Cargo iQ via clecat.org (77-81% punctual)"
_HELP = "marketplace seller help pages (sellable within three business days)"
_PEAK = "prep4fba.com, initiativedistribution.com, palletfly.com (2+ weeks, up to 30 d)"
_SELLER = "seller guides (receiving shortfall; per seller share ~ beta, mean 2-5%)"
_TZ = "standard-time UTC offset of the origin"

_TABLE: dict[str, Parameter] = {
    # ---- calendar and volume ------------------------------------------------------
    "history.days": Parameter(365, "issue 3: a 12-month history"),
    "weekday.0.weight": Parameter(1.2, _AS + ": Monday"),
    "weekday.1.weight": Parameter(1.2, _AS),
    "weekday.2.weight": Parameter(1.2, _AS),
    "weekday.3.weight": Parameter(1.15, _AS),
    "weekday.4.weight": Parameter(1.0, _AS),
    "weekday.5.weight": Parameter(0.25, _AS),
    "weekday.6.weight": Parameter(0.1, _AS + ": Sunday"),
    "volume.network.surge_sigma": Parameter(0.1, _AS + ": weekly log-volume swing, network"),
    "volume.fc.surge_sigma": Parameter(0.5, _AS + ": weekly log-volume swing of one FC"),
    "volume.surge_persistence": Parameter(0.5, _AS + ": AR(1) coefficient week to week"),
    "volume.build.factor": Parameter(1.4, _AS + ": sellers stock up before the holidays"),
    "volume.build.fc_surge_scale": Parameter(1.6, _AS + ": and lumpier (FC swings x 1.6)"),
    "volume.build.start_month": Parameter(9, _AS + ": shipped from September 1"),
    "volume.build.start_day": Parameter(1, _AS),
    "volume.build.end_month": Parameter(11, _AS + ": through November 30"),
    "volume.build.end_day": Parameter(30, _AS),
    "created.lead_days.min": Parameter(0.5, _AS + ": created_at a little before shipped_at"),
    "created.lead_days.max": Parameter(5, _AS),
    "shipped.local_hour.min": Parameter(9, _AS + ": pickups in local business hours"),
    "shipped.local_hour.max": Parameter(17, _AS),
    # ---- mode mix, carrier programs, quantities -------------------------------------
    "mode.parcel.share": Parameter(0.35, _ISSUE),
    "mode.ltl.share": Parameter(0.20, _ISSUE),
    "mode.ftl.share": Parameter(0.10, _ISSUE),
    "mode.air.share": Parameter(0.10, _ISSUE),
    "mode.ocean.share": Parameter(0.25, _ISSUE),
    "program.parcel.partnered_carrier": Parameter(0.7, _AS),
    "program.parcel.own_carrier": Parameter(0.3, _AS),
    "program.ltl.marketplace_freight": Parameter(0.5, _AS),
    "program.ltl.partnered_carrier": Parameter(0.3, _AS),
    "program.ltl.own_carrier": Parameter(0.2, _AS),
    "program.ftl.marketplace_freight": Parameter(0.5, _AS),
    "program.ftl.partnered_carrier": Parameter(0.3, _AS),
    "program.ftl.own_carrier": Parameter(0.2, _AS),
    "program.air.global_logistics": Parameter(0.6, _AS),
    "program.air.own_carrier": Parameter(0.4, _AS),
    "program.ocean.global_logistics": Parameter(0.6, _AS),
    "program.ocean.own_carrier": Parameter(0.4, _AS),
    "quantity.parcel.median": Parameter(40, _AS + ": units per shipment"),
    "quantity.ltl.median": Parameter(300, _AS),
    "quantity.ftl.median": Parameter(1200, _AS),
    "quantity.air.median": Parameter(250, _AS),
    "quantity.ocean.median": Parameter(2000, _AS),
    "quantity.sigma": Parameter(0.8, _AS + ": lognormal shape of units per shipment"),
    # ---- fulfillment centers ----------------------------------------------------------
    "fc.LAX1.share": Parameter(0.30, _AS + ": west coast, next to the LA/LB ports"),
    "fc.ONT8.share": Parameter(0.25, _AS + ": inland west (Inland Empire)"),
    "fc.EWR1.share": Parameter(0.25, _AS + ": east coast (NY/NJ)"),
    "fc.DFW6.share": Parameter(0.20, _AS + ": central (Dallas)"),
    "fc.LAX1.receiving_factor": Parameter(1.0, _AS + ": FC's receiving time, relative"),
    "fc.ONT8.receiving_factor": Parameter(0.75, _AS),
    "fc.EWR1.receiving_factor": Parameter(1.3, _AS),
    "fc.DFW6.receiving_factor": Parameter(0.9, _AS),
    # Ocean routing per FC: 1 = all-water to the east coast; 1 = inland by rail from LA/LB.
    "fc.EWR1.ocean_east_coast": Parameter(1, _56_DOOR),
    "fc.DFW6.ocean_rail": Parameter(1, _AS + ": inland point intermodal via LA/LB"),
    "fc.LAX1.air_extra_days": Parameter(0, _AS + ": airport (LAX) to FC"),
    "fc.ONT8.air_extra_days": Parameter(0.2, _AS),
    "fc.EWR1.air_extra_days": Parameter(0.3, _AS + ": fewer direct China -> EWR flights"),
    "fc.DFW6.air_extra_days": Parameter(0.3, _AS),
    # ---- origins ----------------------------------------------------------------------
    "origin.import.CN-SHA.share": Parameter(0.45, _AS + ": Shanghai/Ningbo"),
    "origin.import.CN-SZX.share": Parameter(0.35, _AS + ": Shenzhen/Yantian"),
    "origin.import.VN-SGN.share": Parameter(0.20, _AS + ": Ho Chi Minh City"),
    "origin.domestic.US-CA.share": Parameter(0.30, _AS),
    "origin.domestic.US-TX.share": Parameter(0.25, _AS),
    "origin.domestic.US-OH.share": Parameter(0.25, _AS),
    "origin.domestic.MX-MTY.share": Parameter(0.20, _AS + ": Monterrey, crosses at Laredo"),
    "origin.CN-SHA.utc_offset_hours": Parameter(8, _TZ),
    "origin.CN-SZX.utc_offset_hours": Parameter(8, _TZ),
    "origin.VN-SGN.utc_offset_hours": Parameter(7, _TZ),
    "origin.US-CA.utc_offset_hours": Parameter(-8, _TZ),
    "origin.US-TX.utc_offset_hours": Parameter(-6, _TZ),
    "origin.US-OH.utc_offset_hours": Parameter(-5, _TZ),
    "origin.MX-MTY.utc_offset_hours": Parameter(-6, _TZ),
    # Domestic distance zone per lane (1 near, 2 regional, 3 cross-country).
    "lane.US-CA.LAX1.zone": Parameter(1, _AS),
    "lane.US-CA.ONT8.zone": Parameter(1, _AS),
    "lane.US-CA.DFW6.zone": Parameter(2, _AS),
    "lane.US-CA.EWR1.zone": Parameter(3, _AS),
    "lane.US-TX.LAX1.zone": Parameter(2, _AS),
    "lane.US-TX.ONT8.zone": Parameter(2, _AS),
    "lane.US-TX.DFW6.zone": Parameter(1, _AS),
    "lane.US-TX.EWR1.zone": Parameter(3, _AS),
    "lane.US-OH.LAX1.zone": Parameter(3, _AS),
    "lane.US-OH.ONT8.zone": Parameter(3, _AS),
    "lane.US-OH.DFW6.zone": Parameter(2, _AS),
    "lane.US-OH.EWR1.zone": Parameter(1, _AS),
    "lane.MX-MTY.LAX1.zone": Parameter(2, _AS),
    "lane.MX-MTY.ONT8.zone": Parameter(2, _AS),
    "lane.MX-MTY.DFW6.zone": Parameter(1, _AS),
    "lane.MX-MTY.EWR1.zone": Parameter(3, _AS),
    # ---- domestic modes: planned days by zone, then the late tail -------------------
    "parcel.zone1.days": Parameter(3, _SM + ": parcel 3-5 d, split by distance (assumed)"),
    "parcel.zone2.days": Parameter(4, _SM),
    "parcel.zone3.days": Parameter(5, _SM),
    "ltl.zone1.days": Parameter(2, _AS),
    "ltl.zone2.days": Parameter(4, _AS),
    "ltl.zone3.days": Parameter(6, _AS),
    "ftl.zone1.days": Parameter(1, _AS),
    "ftl.zone2.days": Parameter(2, _AS),
    "ftl.zone3.days": Parameter(4, _AS),
    "domestic.early_days.max": Parameter(0.5, _AS + ": delivered up to half a day early"),
    "parcel.late_share": Parameter(0.04, _SM),
    "parcel.late_share.peak": Parameter(0.08, _SM + " (December peaks)"),
    "ltl.late_share": Parameter(0.06, _NUVO),
    "ltl.late_share.peak": Parameter(0.10, _NUVO + ", peak"),
    "ftl.late_share": Parameter(0.08, _P44),
    "ftl.late_share.peak": Parameter(0.12, _P44 + ", peak"),
    "late.one_day_share": Parameter(0.85, _SM247),
    "late.extra_days.min": Parameter(2, _SM247 + ": +2-3 d otherwise"),
    "late.extra_days.max": Parameter(3, _SM247),
    "late.noticed_share": Parameter(0.7, _AS + ": a late truck gets a 'delayed' scan"),
    "border.days.min": Parameter(0.25, _AS + ": Laredo crossing for MX-MTY"),
    "border.days.max": Parameter(1.5, _AS),
    "border.planned_days": Parameter(0.5, _AS),
    # ---- air, China/Vietnam -> US -------------------------------------------------------
    "air.transit_days.median": Parameter(6, _AIR + ": lognormal, median 6 d"),
    "air.transit_days.p90": Parameter(9, _AIR + ": lognormal, p90 9 d"),
    "air.plan_noise_sigma": Parameter(0.12, _AS + ": actual / planned, lognormal shape"),
    "air.plan_optimism": Parameter(1.08, _AS + ": actual runs 8% over plan (median)"),
    "air.late_share": Parameter(0.225, _CIQ + ": 20-25% late by about a day"),
    "air.origin.CN-SHA.factor": Parameter(1.0, _AS),
    "air.origin.CN-SZX.factor": Parameter(0.95, _AS + ": Hong Kong hub"),
    "air.origin.VN-SGN.factor": Parameter(1.15, _AS),
    "air.leg.origin.fraction": Parameter(0.2, _AS + ": pickup and handling to take-off"),
    "air.leg.flight.fraction": Parameter(0.3, _AS),
    "air.leg.customs.fraction": Parameter(0.2, _AS),
    "air.leg.delivery.fraction": Parameter(0.3, _AS),
    "air.leg.jitter": Parameter(0.2, _AS + ": each leg's share varies by +-20%"),
    # ---- ocean, China/Vietnam -> US ---------------------------------------------------
    "ocean.cutoff_days": Parameter(1.5, _AS + ": cargo at the terminal before the CY cutoff"),
    "ocean.sailings_per_week": Parameter(2, _AS + ": per origin, route and service"),
    "ocean.express_share": Parameter(0.3, _AS),
    "ocean.express_days.min": Parameter(11, _56 + ": Shanghai -> LA/LB express 11-13 d"),
    "ocean.express_days.max": Parameter(13, _56),
    "ocean.standard_days.min": Parameter(14, _56 + ": standard 14-18 d"),
    "ocean.standard_days.max": Parameter(18, _56),
    "ocean.origin.CN-SZX.extra_days.min": Parameter(0, _AS),
    "ocean.origin.CN-SZX.extra_days.max": Parameter(1, _AS),
    "ocean.origin.VN-SGN.extra_days.min": Parameter(2, _AS),
    "ocean.origin.VN-SGN.extra_days.max": Parameter(4, _AS),
    "ocean.east_coast_extra_days.min": Parameter(7, _56_DOOR),
    "ocean.east_coast_extra_days.max": Parameter(10, _56_DOOR),
    "ocean.on_time_window_days": Parameter(1, _SI_GLOBAL + ": on time = within +-1 d"),
    "ocean.late_share_of_off_schedule": Parameter(0.8, "porttechnology.org (Q1 2023)"),
    "ocean.early_days.min": Parameter(1, _AS),
    "ocean.early_days.max": Parameter(2, _AS),
    "ocean.late_sigma": Parameter(0.45, _AS + ": lognormal shape of days late beyond the first"),
    "ocean.regime.normal.on_time": Parameter(0.70, _SI),
    "ocean.regime.normal.late_mean_days": Parameter(4.5, _SI),
    "ocean.regime.strained.on_time": Parameter(0.55, _SI),
    "ocean.regime.strained.late_mean_days": Parameter(4.6, _SI),
    "ocean.regime.disrupted.on_time": Parameter(0.45, _SI),
    "ocean.regime.disrupted.late_mean_days": Parameter(5.3, _SI),
    "ocean.regime.crisis.on_time": Parameter(0.25, _SI + " (Mar 2022: 20.4%, 12.2 d late)"),
    "ocean.regime.crisis.late_mean_days": Parameter(7.0, _SI),
    # Weekly Markov chain; staying put takes what the row leaves.
    "ocean.regime.normal.to.strained": Parameter(0.06, _AS),
    "ocean.regime.normal.to.disrupted": Parameter(0.02, _AS),
    "ocean.regime.strained.to.normal": Parameter(0.12, _AS),
    "ocean.regime.strained.to.disrupted": Parameter(0.07, _AS),
    "ocean.regime.disrupted.to.normal": Parameter(0.04, _AS),
    "ocean.regime.disrupted.to.strained": Parameter(0.10, _AS),
    "ocean.regime.disrupted.to.crisis": Parameter(0.04, _AS),
    "ocean.regime.crisis.to.disrupted": Parameter(0.15, _AS),
    "ocean.dwell_truck.mean_days": Parameter(2.7, _PMSA + ": 2.5-3.0 d"),
    "ocean.dwell_truck.share_over_5_days": Parameter(0.06, _PMSA + ": 5-6% over 5 d"),
    "ocean.dwell_rail.sigma": Parameter(0.5, _AS),
    "ocean.regime.normal.dwell_rail_mean_days": Parameter(5, _PMSA + ": 4-8 d normal"),
    "ocean.regime.strained.dwell_rail_mean_days": Parameter(5.5, _AS),
    "ocean.regime.disrupted.dwell_rail_mean_days": Parameter(6.5, _AS),
    "ocean.regime.crisis.dwell_rail_mean_days": Parameter(10.5, _PMSA + ": 8-13 d, 2022 crisis"),
    "ocean.regime.normal.dwell_truck_factor": Parameter(1.0, _PMSA),
    "ocean.regime.strained.dwell_truck_factor": Parameter(1.1, _AS),
    "ocean.regime.disrupted.dwell_truck_factor": Parameter(1.3, _AS),
    "ocean.regime.crisis.dwell_truck_factor": Parameter(1.6, _AS),
    "ocean.rail_linehaul_days.min": Parameter(3, _AS + ": LA/LB -> Dallas intermodal"),
    "ocean.rail_linehaul_days.max": Parameter(5, _AS),
    "ocean.ramp_days.min": Parameter(0.2, _AS + ": rail ramp to drayage pickup"),
    "ocean.ramp_days.max": Parameter(1.0, _AS),
    "ocean.clearance_days.min": Parameter(0.1, _AS + ": entry filed ahead, release on arrival"),
    "ocean.clearance_days.max": Parameter(1.0, _AS),
    "ocean.customs_exam_share": Parameter(0.04, "forwarder guides, 56ok.com (3-5%)"),
    "ocean.customs_exam_days.min": Parameter(3, "forwarder guides, 56ok.com (adds 3-7 d)"),
    "ocean.customs_exam_days.max": Parameter(7, "forwarder guides, 56ok.com"),
    "ocean.drayage_days.fixed": Parameter(1, _AS + ": drayage + FC appointment, 1 + exp"),
    "ocean.drayage_days.exp_mean": Parameter(1.5, _AS),
    # ---- the carrier's ETA (for the delivery at the FC) ------------------------------
    "eta.missing_share": Parameter(0.1, _AS + ": events that carry no carrier_eta"),
    "eta.ocean.planned_dwell_truck_days": Parameter(2.0, _AS + ": quoted, below the 2.7 d mean"),
    "eta.ocean.planned_dwell_rail_days": Parameter(3.0, _AS + ": quoted, below the 5 d mean"),
    "eta.ocean.planned_rail_days": Parameter(3.0, _AS),
    "eta.ocean.planned_ramp_days": Parameter(0.5, _AS),
    "eta.ocean.planned_drayage_days": Parameter(1.0, _AS + ": the appointment wait is not quoted"),
    "eta.ocean.planned_exam_days": Parameter(3.0, _AS + ": quoted when an exam is ordered"),
    "eta.ocean.first_notice.min": Parameter(0.25, _AS + ": voyage share until a slip is seen"),
    "eta.ocean.first_notice.max": Parameter(0.75, _AS),
    "eta.ocean.first_notice_revealed.min": Parameter(0.5, _AS + ": slip share in that ETA"),
    "eta.ocean.first_notice_revealed.max": Parameter(1.0, _AS),
    "eta.ocean.final_update_days.min": Parameter(1, _AS + ": full slip published before berth"),
    "eta.ocean.final_update_days.max": Parameter(3, _AS),
    # ---- at the FC: delivered -> sellable -------------------------------------------
    "receiving.median_days": Parameter(1.5, _HELP + ": off-peak median 1.5 d"),
    "receiving.p90_days": Parameter(4, _HELP + ": off-peak p90 4 d"),
    "receiving.peak.median_days": Parameter(4, _PEAK + ": peak median 4 d"),
    "receiving.peak.p90_days": Parameter(14, _PEAK + ": peak p90 14 d"),
    "peak.start_month": Parameter(10, "PARAMETERS.md: peak mid-October to December"),
    "peak.start_day": Parameter(15, "PARAMETERS.md"),
    "receiving.backlog_window_days": Parameter(7, _AS + ": backlog = deliveries in 7 days"),
    "receiving.backlog_elasticity": Parameter(1.8, _AS + ": time ~ load^e (receiving.py)"),
    "receiving.backlog_load.min": Parameter(0.5, _AS + ": an idle FC is no faster than this"),
    "receiving.residual_sigma": Parameter(0.3, _AS + ": spread FC, mode, backlog leave"),
    "receiving.peak.residual_sigma": Parameter(0.3, _AS),
    "receiving.started.min": Parameter(0.3, _AS + ": share of receiving time spent waiting"),
    "receiving.started.max": Parameter(0.8, _AS),
    "receiving.checked_in_hours.min": Parameter(1, _AS + ": container checked in at the yard"),
    "receiving.checked_in_hours.max": Parameter(6, _AS),
    "mode.parcel.receiving_factor": Parameter(0.8, _AS + ": a few cartons"),
    "mode.ltl.receiving_factor": Parameter(1.0, _AS + ": pallets"),
    "mode.ftl.receiving_factor": Parameter(1.15, _AS),
    "mode.air.receiving_factor": Parameter(0.9, _AS),
    "mode.ocean.receiving_factor": Parameter(1.3, _AS + ": floor-loaded containers"),
    # ---- receiving shortfalls ---------------------------------------------------------
    "sellers.count": Parameter(400, _AS),
    "shortfall.seller_mean": Parameter(0.035, _SELLER),
    "shortfall.seller_concentration": Parameter(20, _AS + ": beta a + b"),
    "shortfall.shipment_share": Parameter(0.2, _AS + ": share of shipments that come up short"),
}


@dataclass(frozen=True)
class GeneratorParameters:
    """The generator's numbers: the default table, optionally with some values replaced."""

    table: Mapping[str, Parameter] = field(default_factory=lambda: MappingProxyType(_TABLE))

    def value(self, name: str) -> float:
        """The number called ``name``; a ``KeyError`` names a misspelt parameter."""
        return float(self.table[name].value)

    def span(self, name: str) -> tuple[float, float]:
        """The ``name.min`` and ``name.max`` pair, for a uniform draw."""
        return self.value(name + ".min"), self.value(name + ".max")

    def names(self, prefix: str, suffix: str) -> list[str]:
        """The middle parts of every name ``prefix.<middle>.suffix``, in table order."""
        head, tail = prefix + ".", "." + suffix
        return [
            name[len(head) : -len(tail)]
            for name in self.table
            if name.startswith(head) and name.endswith(tail) and len(name) > len(head + tail)
        ]

    def with_values(self, values: Mapping[str, float]) -> GeneratorParameters:
        """A copy with some values replaced; each new value is marked as overridden."""
        unknown = sorted(set(values) - set(self.table))
        if unknown:
            raise KeyError(f"unknown generator parameters: {', '.join(unknown)}")
        table = dict(self.table)
        for name, value in values.items():
            table[name] = Parameter(value, "overridden (default: " + table[name].source + ")")
        return GeneratorParameters(MappingProxyType(table))

    def __reduce__(self) -> tuple[Callable[..., GeneratorParameters], tuple[dict[str, Parameter]]]:
        # A read-only view does not pickle: a run played in another process sends a copy.
        return _parameters_of, (dict(self.table),)


def _parameters_of(table: dict[str, Parameter]) -> GeneratorParameters:
    return GeneratorParameters(MappingProxyType(table))


DEFAULTS = GeneratorParameters()
