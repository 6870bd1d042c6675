"""Re-promising waiting orders when supply changes (R9, R9a, R10).

One pass over a SKU's waiting head-start orders in order of placement: each
keeps its promise if R6 still allows it (checked against the q_low dates, the
hysteresis of R9), else gets the earliest date R6 allows at any FC serving
its region, never earlier than before; past the maximum slip it is cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from headstart.domain.atp import Entry, earliest_date, is_feasible
from headstart.domain.placement import SkuAtFc, confidence
from headstart.domain.policy import Policy
from headstart.domain.promise import Promise, make_promise


@dataclass(frozen=True)
class WaitingOrder:
    order_id: str
    quantity: int
    region: str
    promise: Promise
    first_promise: Promise
    slips: int = 0  # revisions that moved the promise so far


@dataclass(frozen=True)
class Keep:
    order_id: str


@dataclass(frozen=True)
class Revise:
    order_id: str
    old: Promise
    new: Promise
    requires_consent: bool  # R9a: silence is not consent to this slip


@dataclass(frozen=True)
class Cancel:
    order_id: str
    old: Promise
    reason: str


Decision = Keep | Revise | Cancel


def _curve(at_fc: SkuAtFc, now: datetime, *, keep: bool, counted_only: bool = False) -> list[Entry]:
    """Supply for existing orders: every lot still coming (R10: "re-promised later"),
    or, for re-sourcing to another FC, only lots that count for new orders."""
    today = at_fc.fc.local_date(now)
    entries = [Entry(today, at_fc.on_hand)] if at_fc.on_hand > 0 else []
    return entries + [
        Entry(lot.keep_date if keep else lot.in_stock_date, lot.quantity)
        for lot in at_fc.lots
        if (lot.counted if counted_only else lot.usable)
    ]


def slip_days(order: WaitingOrder, new: Promise) -> int:
    return (new.promised_delivery_date - order.first_promise.promised_delivery_date).days


def plan_repromise(
    orders: Sequence[WaitingOrder], at_fcs: Sequence[SkuAtFc], policy: Policy, now: datetime
) -> list[Decision]:
    """R9/R10: decide, first come first served, what happens to each waiting order.

    ``orders`` must be in placement order; ``at_fcs`` give on-hand and lots
    (their ``demand`` is ignored: the pass rebuilds it order by order).
    """
    by_code = {a.fc.code: a for a in at_fcs}
    keep_curve = {code: _curve(a, now, keep=True) for code, a in by_code.items()}
    new_curve = {code: _curve(a, now, keep=False) for code, a in by_code.items()}
    resource_curve = {
        code: _curve(a, now, keep=False, counted_only=True) for code, a in by_code.items()
    }
    demand: dict[str, list[Entry]] = {code: [] for code in by_code}
    decisions: list[Decision] = []
    for order in orders:
        home = order.promise.fc
        entry = Entry(order.promise.promised_in_stock_date, order.quantity)
        if home in by_code and is_feasible(keep_curve[home], [*demand[home], entry]):
            demand[home].append(entry)
            decisions.append(Keep(order.order_id))
            continue
        new = _best_new_promise(order, by_code, new_curve, resource_curve, demand, now)
        if new is None:
            decisions.append(Cancel(order.order_id, order.promise, "no_supply"))
        elif slip_days(order, new) > policy.max_slip_days:
            decisions.append(Cancel(order.order_id, order.promise, "max_slip_exceeded"))
        else:
            demand[new.fc].append(Entry(new.promised_in_stock_date, order.quantity))
            consent = order.slips > 0 or slip_days(order, new) > policy.consent_slip_days
            decisions.append(Revise(order.order_id, order.promise, new, requires_consent=consent))
    return decisions


def _best_new_promise(
    order: WaitingOrder,
    by_code: dict[str, SkuAtFc],
    home_curves: dict[str, list[Entry]],
    other_curves: dict[str, list[Entry]],
    demand: dict[str, list[Entry]],
    now: datetime,
) -> Promise | None:
    options: list[tuple[tuple[object, ...], Promise]] = []
    for code, at_fc in by_code.items():
        fc = at_fc.fc
        if not fc.serves(order.region):
            continue
        same_fc = code == order.promise.fc
        not_before = order.promise.promised_in_stock_date if same_fc else fc.local_date(now)
        curve = home_curves[code] if same_fc else other_curves[code]
        day = earliest_date(curve, demand[code], order.quantity, not_before)
        if day is None:
            continue
        certainty = confidence(at_fc, day, counted_only=False)
        promise = make_promise(fc, day, order.region, now, confidence=certainty, on_hand=False)
        # R9: a revision never moves the buyer's date earlier.
        if promise.promised_delivery_date < order.promise.promised_delivery_date:
            promise = replace(promise, promised_delivery_date=order.promise.promised_delivery_date)
        options.append(((promise.promised_delivery_date, not same_fc, code), promise))
    return min(options, key=lambda pair: pair[0])[1] if options else None
