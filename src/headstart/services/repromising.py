"""Apply R9/R10 decisions to stored orders, with revisions and notices (R15, R17)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Insert, bindparam, insert, select
from sqlalchemy.orm import Session

from headstart.domain import notifications
from headstart.domain.notifications import Notification
from headstart.domain.policy import Policy
from headstart.domain.promise import Promise
from headstart.domain.repromise import (
    Cancel,
    Decision,
    Keep,
    Revise,
    WaitingOrder,
    plan_repromise,
)
from headstart.services.outbox import OutboxBuffer, enqueue
from headstart.services.sku_state import SkuState
from headstart.services.waiting_orders import (
    ALIKE_CHUNK,
    WaitingRow,
    store_cancelled,
    store_revised,
)
from headstart.store.json_text import JsonCodec, encode, json_param
from headstart.store.tables import OrderRevisionRow, OrderRow, ProductRow, metadata

CONSENT_MINIMUM = timedelta(hours=48)
_REVISIONS = metadata.tables["order_revisions"]
_ORDERS = metadata.tables["orders"]
# One revision row per order in ``ids``, in placement order, all with the same values.
_INSERT_REVISIONS: dict[str, Insert] = {
    dialect: insert(_REVISIONS).from_select(
        ["order_id", "at", "reason", "old", "new", "inputs"],
        select(
            _ORDERS.c.id,
            bindparam("at", type_=_REVISIONS.c.at.type),
            bindparam("reason", type_=_REVISIONS.c.reason.type),
            *(json_param(name, dialect) for name in ("old", "new", "inputs")),
        )
        .where(_ORDERS.c.id.in_(bindparam("ids", expanding=True)))
        .order_by(_ORDERS.c.seq),
    )
    for dialect in ("sqlite", "postgresql")
}


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

    With ``outbox``, notices are buffered there for the caller to write; else written
    here. A delay may move tens of thousands of orders: the revised orders, the
    cancelled ones and the revision rows are each written in one statement.
    """
    if not state.waiting:
        return []
    orders = {order.id: order for order in state.waiting}
    waiting = [
        WaitingOrder(
            order_id=order.id,
            quantity=order.quantity,
            region=order.region,
            promise=order.promise,
            first_promise=order.first_promise,
            slips=order.slips,
        )
        for order in state.waiting
    ]
    decisions = plan_repromise(waiting, state.supply(with_demand=False).at_fcs, policy, now)
    if all(isinstance(decision, Keep) for decision in decisions):
        return decisions
    codec = JsonCodec()
    revision = _Revisions(codec, now, reason, _inputs(state, policy, reason))
    notices = outbox if outbox is not None else OutboxBuffer()
    seller_id = state.product.seller_id
    revised: list[WaitingRow] = []
    cancelled: dict[str, str] = {}
    for decision in decisions:
        order = orders[decision.order_id]
        if isinstance(decision, Revise):
            _revise(order, decision, state, now)
            revised.append(order)
            revision.add(order.id, decision.old, decision.new)
            notices.add(_delay_notice(order, decision, seller_id))
        elif isinstance(decision, Cancel):
            order.status = "cancelled"
            cancelled[order.id] = decision.reason
            revision.add(order.id, decision.old, None, decision.reason)
            notices.add(
                notifications.order_cancelled(
                    order.id, order.buyer_ref, decision.reason, seller_id=seller_id
                )
            )
    store_revised(session, revised, codec)
    store_cancelled(session, (orders[order_id] for order_id in cancelled), cancelled, now)
    revision.write(session)
    if outbox is None:
        notices.write(session, now)
    state.waiting = [order for order in state.waiting if order.status == "promised"]
    return decisions


def _inputs(state: SkuState, policy: Policy, reason: str) -> dict[str, object]:
    """What every revision of the pass rests on (R17): the lots and the policy."""
    lots = {code: [lot.to_record() for lot in lots] for code, lots in state.lots.items()}
    return {"reason": reason, "lots": lots, "policy": policy.to_dict()}


class _Revisions:
    """The pass's revision rows (R17). Orders revised alike (same old and new promise,
    same reason) are written by one INSERT ... SELECT per few hundred of them; the
    inputs, shared by every row, and each distinct promise are encoded to JSON once."""

    def __init__(
        self, codec: JsonCodec, now: datetime, reason: str, inputs: dict[str, object]
    ) -> None:
        self._codec = codec
        self._now = now
        self._reason = reason
        self._inputs = encode(inputs)
        self._alike: dict[tuple[str, str, str], list[str]] = {}

    def add(
        self, order_id: str, old: Promise, new: Promise | None, reason: str | None = None
    ) -> None:
        """A revision from ``old`` to ``new``; a cancel has no ``new`` and its own reason."""
        key = (
            self._codec.promise(old),
            self._codec.promise(new) if new is not None else encode(None),  # JSON null
            self._reason if reason is None else reason,
        )
        self._alike.setdefault(key, []).append(order_id)

    def write(self, session: Session) -> None:
        statement = _INSERT_REVISIONS[session.get_bind().dialect.name]
        for (old, new, reason), order_ids in self._alike.items():
            values = {
                "at": self._now,
                "reason": reason,
                "old": old,
                "new": new,
                "inputs": self._inputs,
            }
            for start in range(0, len(order_ids), ALIKE_CHUNK):
                ids = order_ids[start : start + ALIKE_CHUNK]
                session.execute(statement, values | {"ids": ids})


def _revise(order: WaitingRow, decision: Revise, state: SkuState, now: datetime) -> None:
    """Move the order's promise (R9); ``store_revised`` writes it."""
    new = decision.new
    order.promise = new
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


def _delay_notice(order: WaitingRow, decision: Revise, seller_id: str) -> Notification:
    """R9a/R15: the buyer hears of the slip, with one-step cancellation."""
    return notifications.delay_notice(
        order.id,
        order.buyer_ref,
        decision.old,
        decision.new,
        requires_consent=decision.requires_consent,
        seq=order.slips,
        seller_id=seller_id,
    )


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
    if outbox is None:
        enqueue(session, notice, now)
    else:
        outbox.add(notice)
