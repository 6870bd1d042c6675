"""The numbers of a simulated marketplace, per run and per seller, read from its database
through the services' own queries (``services.accuracy``) and from the run's outcome.

Money is integer minor units (cents) inside and a decimal string outside; never float.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from headstart.bootstrap import Runtime
from headstart.services.accuracy import judged_orders, summarize
from headstart.services.catalog import price_text
from headstart.services.sku_state import load_fcs
from headstart.sim.market.run import STOREFRONT, MarketOutcome
from headstart.store.tables import OrderRevisionRow, OrderRow

WORST = 20


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    sku: str
    quantity: int
    source: str
    status: str
    cancel_reason: str | None
    slips: int
    placed_at: datetime
    promised_in_stock: date | None
    in_stock: date | None  # the FC-local date its units were allocated
    backing_shipment: str | None
    fc: str


def _backing(decision: Any, fc: str, promised: date) -> str | None:
    """The lot the first promise rested on (R17's stored inputs)."""
    fcs = decision.get("fcs") if isinstance(decision, dict) else None
    lots = (fcs or {}).get(fc, {}).get("lots", []) if isinstance(fcs, dict) else []
    due = [
        lot
        for lot in lots
        if isinstance(lot, dict)
        and lot.get("counted")
        and date.fromisoformat(str(lot["in_stock_date"])) <= promised
    ]
    return str(max(due, key=lambda lot: str(lot["in_stock_date"]))["shipment_id"]) if due else None


def load_orders(runtime: Runtime) -> tuple[list[OrderFacts], dict[str, list[str]]]:
    """Every order the simulated buyers placed, and each one's revision reasons."""
    with runtime.reader() as uow:
        fcs = load_fcs(uow.session)
        facts = []
        for order in uow.session.scalars(
            select(OrderRow).where(OrderRow.placed_by == STOREFRONT).order_by(OrderRow.seq)
        ):
            promised = date.fromisoformat(str(order.first_promise["promised_in_stock_date"]))
            facts.append(
                OrderFacts(
                    order_id=order.id,
                    sku=order.sku,
                    quantity=order.quantity,
                    source=order.source,
                    status=order.status,
                    cancel_reason=order.cancel_reason,
                    slips=order.slips,
                    placed_at=order.placed_at,
                    promised_in_stock=promised,
                    in_stock=fcs[order.fc].local_date(order.allocated_at)
                    if order.allocated_at
                    else None,
                    backing_shipment=_backing(order.decision, order.fc, promised)
                    if order.source == "head_start"
                    else None,
                    fc=order.fc,
                )
            )
        reasons: dict[str, list[str]] = defaultdict(list)
        for order_id, reason in uow.session.execute(
            select(OrderRevisionRow.order_id, OrderRevisionRow.reason).order_by(OrderRevisionRow.id)
        ):
            reasons[order_id].append(reason)
    return facts, reasons


def _money(minor: int) -> str:
    return price_text(minor)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class LoadedRun:
    facts: list[OrderFacts]
    reasons: dict[str, list[str]]
    judged: list[Any]


def load_run(runtime: Runtime) -> LoadedRun:
    facts, reasons = load_orders(runtime)
    with runtime.reader() as uow:
        judged = judged_orders(uow.session, limit=10**9)
    return LoadedRun(facts, reasons, judged)


def run_metrics(
    loaded: LoadedRun, outcome: MarketOutcome, skus: Iterable[int] | None = None
) -> dict[str, Any]:
    """The headline numbers of one run (or of the SKUs of one seller)."""
    facts = loaded.facts
    chosen = set(range(len(outcome.sku_ids)) if skus is None else skus)
    sku_ids = {outcome.sku_ids[i]: i for i in chosen}
    price = {outcome.sku_ids[i]: outcome.prices[i] for i in chosen}
    mine = [f for f in facts if f.sku in sku_ids]
    kept = [f for f in mine if f.status != "cancelled"]
    head_start = [f for f in mine if f.source == "head_start"]
    head_start_kept = [f for f in head_start if f.status != "cancelled"]
    cancels = Counter(f.cancel_reason for f in mine if f.status == "cancelled")
    judged_ids = {f.order_id for f in head_start}
    judged = [j for j in loaded.judged if j.order_id in judged_ids]
    by_mode: dict[str, list[Any]] = defaultdict(list)
    for item in judged:
        by_mode[item.mode].append(item)
    return {
        "skus": len(chosen),
        "sku_days": len(chosen) * outcome.config.days,
        "stockout_days": sum(outcome.days_head_start[i] + outcome.days_out[i] for i in chosen),
        "days_buyable_thanks_to_head_start": sum(outcome.days_head_start[i] for i in chosen),
        "days_not_buyable": sum(outcome.days_out[i] for i in chosen),
        "orders": len(mine),
        "orders_kept": len(kept),
        "units_sold": sum(f.quantity for f in kept),
        "revenue": _money(sum(price[f.sku] * f.quantity for f in kept)),
        "revenue_minor": sum(price[f.sku] * f.quantity for f in kept),
        "head_start_orders": len(head_start),
        "head_start_orders_kept": len(head_start_kept),
        "head_start_units": sum(f.quantity for f in head_start_kept),
        "head_start_revenue": _money(sum(price[f.sku] * f.quantity for f in head_start_kept)),
        "head_start_revenue_minor": sum(price[f.sku] * f.quantity for f in head_start_kept),
        "on_time": summarize(judged),
        "on_time_by_mode": {mode: summarize(items) for mode, items in sorted(by_mode.items())},
        "repromised_orders": sum(1 for f in head_start if f.slips > 0),
        "repromise_rate": _rate(sum(1 for f in head_start if f.slips > 0), len(head_start)),
        "cancellations": dict(sorted((str(k), v) for k, v in cancels.items())),
        "cancellations_total": sum(cancels.values()),
        "short_close_cancellations": cancels.get("short_close", 0),
    }


def days_to_first_sale(outcome: MarketOutcome, facts: list[OrderFacts]) -> dict[str, Any]:
    """Per shipment: days from shipping to the first sale of its units (a head-start order
    placed after it shipped, or any order placed once it was in stock)."""
    by_sku: dict[str, list[OrderFacts]] = defaultdict(list)
    for fact in facts:
        by_sku[fact.sku].append(fact)
    spans = []
    for plan in outcome.shipments.values():
        firsts = []
        for sku, _ in plan.lines:
            for fact in by_sku.get(sku, []):
                if fact.placed_at < plan.shipped_at:
                    continue
                if fact.source == "head_start" or (
                    plan.in_stock_at is not None and fact.placed_at >= plan.in_stock_at
                ):
                    firsts.append(fact.placed_at)
                    break
        if firsts:
            spans.append((min(firsts) - plan.shipped_at).total_seconds() / 86400)
    return {
        "shipments_with_a_sale": len(spans),
        "mean_days": round(statistics.fmean(spans), 2) if spans else None,
        "median_days": round(statistics.median(spans), 2) if spans else None,
    }


def worst_promises(
    outcome: MarketOutcome, facts: list[OrderFacts], reasons: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """The head-start promises missed by the most days (cancelled ones first), with causes."""
    scored = []
    for fact in facts:
        if fact.source != "head_start" or fact.promised_in_stock is None:
            continue
        if fact.in_stock is not None:
            late = (fact.in_stock - fact.promised_in_stock).days
        elif fact.cancel_reason in ("no_supply", "max_slip_exceeded", "short_close"):
            late = 10**6  # never filled: worse than any late fill
        else:
            continue
        if late > 0 or fact.slips:
            scored.append((late, fact.slips, fact))
    # Ties in the order placed, not by order id: ids are random, the report must not be.
    scored.sort(key=lambda item: (-item[0], -item[1], item[2].placed_at, item[2].sku))
    worst = []
    for late, _, fact in scored[:WORST]:
        plan = outcome.shipments.get(fact.backing_shipment or "")
        worst.append(
            {
                "order_id": fact.order_id,
                "sku": fact.sku,
                "placed_at": fact.placed_at.isoformat(),
                "promised_in_stock_date": fact.promised_in_stock.isoformat()
                if fact.promised_in_stock
                else None,
                "in_stock_date": fact.in_stock.isoformat() if fact.in_stock else None,
                "days_late": None if late >= 10**6 else late,
                "status": fact.status,
                "cancel_reason": fact.cancel_reason,
                "revisions": reasons.get(fact.order_id, []),
                "shipment": fact.backing_shipment,
                "mode": plan.mode if plan else None,
                "causes": _causes(plan, fact, reasons.get(fact.order_id, [])),
            }
        )
    return worst


def _causes(plan: Any, fact: OrderFacts, revisions: list[str]) -> list[str]:
    causes = []
    if plan is None:
        return ["backing shipment unknown"]
    kinds = {event.kind for event in plan.events}
    if "exception" in kinds:
        causes.append("shipment lost or damaged in transit")
    if "delayed" in kinds:
        causes.append("carrier delay")
    delivered = next((e.at for e in plan.events if e.kind == "delivered"), None)
    if delivered and plan.in_stock_at and (plan.in_stock_at - delivered).days >= 4:
        causes.append(f"slow FC receiving ({(plan.in_stock_at - delivered).days} d)")
    if any(
        received < shipped
        for (_, shipped), (_, received) in zip(sorted(plan.lines), plan.received, strict=True)
    ):
        causes.append("shipment arrived short")
    if fact.cancel_reason:
        causes.append(f"cancelled: {fact.cancel_reason}")
    if revisions and not causes:
        causes.append("re-promised: " + ", ".join(sorted(set(revisions))))
    return causes or ["estimate too optimistic"]
