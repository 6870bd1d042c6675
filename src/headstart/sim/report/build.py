"""Pair the two runs into the report: headline, per-seller rows, worst promises, series."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from headstart.bootstrap import Runtime
from headstart.sim.market.run import MarketOutcome
from headstart.sim.report.metrics import (
    days_to_first_sale,
    load_run,
    run_metrics,
    worst_promises,
)


def _uplift(with_head_start: int, without: int) -> float | None:
    return round((with_head_start - without) / without, 4) if without else None


def _daily_units(outcome: MarketOutcome, facts: list[Any]) -> list[int]:
    units = [0] * outcome.config.days
    start = outcome.config.start
    for fact in facts:
        if fact.status == "cancelled":
            continue
        day = int((fact.placed_at - start).total_seconds() // 86400)
        if 0 <= day < len(units):
            units[day] += fact.quantity
    return units


def build_report(
    with_head_start: tuple[Runtime, MarketOutcome], without: tuple[Runtime, MarketOutcome]
) -> dict[str, Any]:
    """The JSON report of a paired run."""
    (hs_runtime, hs), (base_runtime, base) = with_head_start, without
    c = hs.config
    hs_loaded, base_loaded = load_run(hs_runtime), load_run(base_runtime)
    hs_facts, hs_reasons, base_facts = hs_loaded.facts, hs_loaded.reasons, base_loaded.facts
    runs = {
        "head_start": run_metrics(hs_loaded, hs),
        "without_head_start": run_metrics(base_loaded, base),
    }
    runs["head_start"]["days_from_shipment_to_first_sale"] = days_to_first_sale(hs, hs_facts)
    runs["without_head_start"]["days_from_shipment_to_first_sale"] = days_to_first_sale(
        base, base_facts
    )
    for name, outcome in (("head_start", hs), ("without_head_start", base)):
        runs[name]["buyer_arrivals"] = outcome.arrivals
        runs[name]["buyers_finding_nothing"] = outcome.lost_arrivals
        runs[name]["buyers_declining_a_head_start_date"] = outcome.declined_dates
        runs[name]["buyer_cancellations_on_delay"] = outcome.buyer_cancels
        runs[name]["delays_confirmed"] = outcome.delay_confirms
        runs[name]["shipments"] = len(outcome.shipments)
        runs[name]["seconds"] = round(outcome.seconds, 1)
    h, b = runs["head_start"], runs["without_head_start"]
    headline = {
        "stockout_days": h["stockout_days"],
        "days_buyable_thanks_to_head_start": h["days_buyable_thanks_to_head_start"],
        "head_start_orders": h["head_start_orders"],
        "head_start_revenue": h["head_start_revenue"],
        "units_sold": h["units_sold"],
        "units_sold_without_head_start": b["units_sold"],
        "sales_uplift_units": _uplift(h["units_sold"], b["units_sold"]),
        "revenue": h["revenue"],
        "revenue_without_head_start": b["revenue"],
        "sales_uplift_revenue": _uplift(h["revenue_minor"], b["revenue_minor"]),
        "median_days_shipment_to_first_sale": h["days_from_shipment_to_first_sale"]["median_days"],
        "median_days_shipment_to_first_sale_without": b["days_from_shipment_to_first_sale"][
            "median_days"
        ],
        "on_time_to_promise": h["on_time"]["on_time_rate"],
        "repromise_rate": h["repromise_rate"],
        "cancellations": h["cancellations_total"],
        "short_close_cancellations": h["short_close_cancellations"],
    }
    skus_of: dict[int, list[int]] = defaultdict(list)
    for index, seller in enumerate(hs.sku_seller):
        skus_of[seller].append(index)
    sellers = []
    for seller in hs.sellers:
        mine = skus_of[seller.index]
        with_hs = run_metrics(hs_loaded, hs, mine)
        base_row = run_metrics(base_loaded, base, mine)
        sellers.append(
            {
                "seller": seller.name,
                "mode": seller.mode,
                "fc": seller.fc,
                "skus": len(mine),
                "stockout_days": with_hs["stockout_days"],
                "days_buyable_thanks_to_head_start": with_hs["days_buyable_thanks_to_head_start"],
                "head_start_orders": with_hs["head_start_orders"],
                "head_start_revenue": with_hs["head_start_revenue"],
                "units_sold": with_hs["units_sold"],
                "units_sold_without_head_start": base_row["units_sold"],
                "sales_uplift_units": _uplift(with_hs["units_sold"], base_row["units_sold"]),
                "on_time_to_promise": with_hs["on_time"]["on_time_rate"],
                "repromise_rate": with_hs["repromise_rate"],
                "cancellations": with_hs["cancellations_total"],
                "short_close_cancellations": with_hs["short_close_cancellations"],
            }
        )
    return {
        "config": {
            "days": c.days,
            "sellers": c.sellers,
            "skus": c.skus,
            "seed": c.seed,
            "start": c.start.isoformat(),
            "steps_per_day": c.steps_per_day,
            "demand_per_sku": c.demand_per_sku,
            "peak_factor": c.peak_factor,
            "accept_head_start": c.accept_head_start,
            "cancel_on_delay": c.cancel_on_delay,
        },
        "headline": headline,
        "runs": runs,
        "sellers": sellers,
        "worst_promises": worst_promises(hs, hs_facts, hs_reasons),
        "series": {
            "units_sold": {
                "head_start": _daily_units(hs, hs_facts),
                "without_head_start": _daily_units(base, base_facts),
            },
            "sku_states": {
                "head_start": [list(day) for day in hs.daily_states],
                "without_head_start": [list(day) for day in base.daily_states],
            },
        },
    }
