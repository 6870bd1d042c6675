"""Re-promising waiting orders when supply changes (R9, R9a, R10).

One pass over a SKU's waiting head-start orders in order of placement: each
keeps its promise if R6 still allows it (checked against the q_low dates, the
hysteresis of R9), else gets the earliest date R6 allows at any FC serving
its region, never earlier than before; past the maximum slip it is cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from headstart.domain.atp import Entry, SlackCalendar
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


@dataclass(frozen=True)
class _FcSlack:
    """One FC's three supply curves less the demand re-promised there so far."""

    keep: SlackCalendar  # existing promises are checked against the q_low dates (R9)
    new: SlackCalendar  # a revision at the order's own FC: every lot still coming (R10)
    resource: SlackCalendar  # re-sourcing from another FC: only its counted lots

    def add(self, entry: Entry) -> None:
        for calendar in (self.keep, self.new, self.resource):
            calendar.add_demand(entry)


def _fc_slack(at_fc: SkuAtFc, orders: Sequence[WaitingOrder], now: datetime) -> _FcSlack:
    keep = _curve(at_fc, now, keep=True)
    new = _curve(at_fc, now, keep=False)
    resource = _curve(at_fc, now, keep=False, counted_only=True)
    # Every day an order can be promised here: a supply day, the day it was promised
    # (kept, or where a revision starts looking), today (where re-sourcing starts).
    days = {entry.day for entry in (*keep, *new, *resource)}
    days.add(at_fc.fc.local_date(now))
    days.update(
        order.promise.promised_in_stock_date
        for order in orders
        if order.promise.fc == at_fc.fc.code
    )
    return _FcSlack(
        keep=SlackCalendar(days, keep),
        new=SlackCalendar(days, new),
        resource=SlackCalendar(days, resource),
    )


def plan_repromise(
    orders: Sequence[WaitingOrder], at_fcs: Sequence[SkuAtFc], policy: Policy, now: datetime
) -> list[Decision]:
    """R9/R10: decide, first come first served, what happens to each waiting order.

    ``orders`` must be in placement order; ``at_fcs`` give on-hand and lots
    (their ``demand`` is ignored: the pass rebuilds it order by order). Each order
    costs O(log d) in the number of days its SKU's supply and promises fall on.
    """
    by_code = {a.fc.code: a for a in at_fcs}
    slack = {code: _fc_slack(a, orders, now) for code, a in by_code.items()}
    promises = _Promises(by_code, now)
    decisions: list[Decision] = []
    for order in orders:
        home = order.promise.fc
        entry = Entry(order.promise.promised_in_stock_date, order.quantity)
        if home in slack and slack[home].keep.is_feasible_with(entry):
            slack[home].add(entry)
            decisions.append(Keep(order.order_id))
            continue
        new = _best_new_promise(order, by_code, slack, promises)
        if new is None:
            decisions.append(Cancel(order.order_id, order.promise, "no_supply"))
        elif slip_days(order, new) > policy.max_slip_days:
            decisions.append(Cancel(order.order_id, order.promise, "max_slip_exceeded"))
        else:
            slack[new.fc].add(Entry(new.promised_in_stock_date, order.quantity))
            consent = order.slips > 0 or slip_days(order, new) > policy.consent_slip_days
            decisions.append(Revise(order.order_id, order.promise, new, requires_consent=consent))
    return decisions


class _Promises:
    """The promise for a day and region at each FC, made once per pass: a delay moves
    thousands of orders onto the same few days."""

    def __init__(self, by_code: dict[str, SkuAtFc], now: datetime) -> None:
        self._by_code = by_code
        self.now = now
        self.today = {code: a.fc.local_date(now) for code, a in by_code.items()}
        self._made: dict[tuple[str, date, str], Promise] = {}

    def promise(self, code: str, day: date, region: str) -> Promise:
        key = (code, day, region)
        made = self._made.get(key)
        if made is None:
            at_fc = self._by_code[code]
            certainty = confidence(at_fc, day, counted_only=False)
            made = make_promise(
                at_fc.fc, day, region, self.now, confidence=certainty, on_hand=False
            )
            self._made[key] = made
        return made


def _best_new_promise(
    order: WaitingOrder,
    by_code: dict[str, SkuAtFc],
    slack: dict[str, _FcSlack],
    promises: _Promises,
) -> Promise | None:
    options: list[tuple[tuple[object, ...], Promise]] = []
    for code, at_fc in by_code.items():
        if not at_fc.fc.serves(order.region):
            continue
        same_fc = code == order.promise.fc
        not_before = order.promise.promised_in_stock_date if same_fc else promises.today[code]
        calendar = slack[code].new if same_fc else slack[code].resource
        day = calendar.earliest_date(order.quantity, not_before)
        if day is None:
            continue
        promise = promises.promise(code, day, order.region)
        # R9: a revision never moves the buyer's date earlier.
        if promise.promised_delivery_date < order.promise.promised_delivery_date:
            promise = replace(promise, promised_delivery_date=order.promise.promised_delivery_date)
        options.append(((promise.promised_delivery_date, not same_fc, code), promise))
    return min(options, key=lambda pair: pair[0])[1] if options else None
