"""Apply R9/R10 decisions to stored orders, with revisions and notices (R15, R17)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from headstart.domain import notifications
from headstart.domain.notifications import Notification
from headstart.domain.policy import Policy
from headstart.domain.repromise import Cancel, Decision, Revise, WaitingOrder, plan_repromise
from headstart.services.outbox import OutboxBuffer, enqueue
from headstart.services.sku_state import SkuState
from headstart.store.mappers import first_promise_of, promise_of
from headstart.store.tables import OrderRevisionRow, OrderRow, ProductRow

CONSENT_MINIMUM = timedelta(hours=48)


def repromise(
    session: Session,
    state: SkuState,
    policy: Policy,
    now: datetime,
    reason: str,
    *,
    outbox: OutboxBuffer | None = None,
) -> list[Decision]:
    """R9/R10: re-run the first-come-first-served pass for one SKU and apply it.

    With ``outbox``, notices are buffered there for the caller to write; else enqueued."""
    if not state.waiting:
        return []
    orders = {order.id: order for order in state.waiting}
    waiting = [
        WaitingOrder(
            order_id=order.id,
            quantity=order.quantity,
            region=order.region,
            promise=promise_of(order),
            first_promise=first_promise_of(order),
            slips=order.slips,
        )
        for order in state.waiting
    ]
    decisions = plan_repromise(waiting, state.supply(with_demand=False).at_fcs, policy, now)
    inputs: dict[str, object] = {
        "reason": reason,
        "lots": _lot_records(state),
        "policy": policy.to_dict(),
    }
    for decision in decisions:
        order = orders[decision.order_id]
        if isinstance(decision, Revise):
            _revise(session, order, decision, state, reason, inputs, now, outbox)
        elif isinstance(decision, Cancel):
            cancel_order_row(session, order, decision.reason, now, inputs, outbox=outbox)
    state.waiting = [order for order in state.waiting if order.status == "promised"]
    return decisions


def _lot_records(state: SkuState) -> dict[str, object]:
    return {code: [lot.to_record() for lot in lots] for code, lots in state.lots.items()}


def _revise(
    session: Session,
    order: OrderRow,
    decision: Revise,
    state: SkuState,
    reason: str,
    inputs: dict[str, object],
    now: datetime,
    outbox: OutboxBuffer | None,
) -> None:
    new = decision.new
    order.promise = new.to_dict()
    order.fc = new.fc
    order.promised_in_stock_date = new.promised_in_stock_date
    order.promised_ship_date = new.promised_ship_date
    order.slips += 1
    if decision.requires_consent:
        # R9a: the buyer must say yes before the original date passes; never
        # less than two days to answer.
        fc = state.fcs[decision.old.fc]
        due = fc.end_of_local_day(decision.old.promised_ship_date)
        order.consent_due_at = max(due, now + CONSENT_MINIMUM)
    session.add(
        OrderRevisionRow(
            order_id=order.id,
            at=now,
            reason=reason,
            old=decision.old.to_dict(),
            new=new.to_dict(),
            inputs=inputs,
        )
    )
    notice = notifications.delay_notice(
        order.id,
        order.buyer_ref,
        decision.old,
        new,
        requires_consent=decision.requires_consent,
        seq=order.slips,
        seller_id=state.product.seller_id,
    )
    _notify(session, notice, now, outbox)


def cancel_order_row(
    session: Session,
    order: OrderRow,
    reason: str,
    now: datetime,
    inputs: dict[str, object] | None = None,
    *,
    outbox: OutboxBuffer | None = None,
) -> None:
    """Cancel an order, record the revision and tell the buyer (R10, R15)."""
    old = dict(order.promise)
    order.status = "cancelled"
    order.cancel_reason = reason
    order.cancelled_at = now
    order.consent_due_at = None
    session.add(
        OrderRevisionRow(order_id=order.id, at=now, reason=reason, old=old, new=None, inputs=inputs)
    )
    product = session.get(ProductRow, order.sku)
    assert product is not None  # an order's SKU is a foreign key
    notice = notifications.order_cancelled(
        order.id, order.buyer_ref, reason, seller_id=product.seller_id
    )
    _notify(session, notice, now, outbox)


def _notify(
    session: Session, notice: Notification, now: datetime, outbox: OutboxBuffer | None
) -> None:
    if outbox is None:
        enqueue(session, notice, now)
    else:
        outbox.add(notice)
