"""R16/R17: publish a SKU's offer whenever it changes, with the inputs behind it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from headstart.domain.notifications import offer_changed
from headstart.domain.placement import availability_by_fc, quote
from headstart.domain.policy import Policy
from headstart.services.outbox import OutboxBuffer, enqueue
from headstart.services.sku_state import SkuState
from headstart.store.offer_changes import declare_changed_skus
from headstart.store.plain_sql import insert_row, update_row
from headstart.store.tables import OfferDecisionRow


def offer_summary(state: SkuState, now: datetime) -> dict[str, object]:
    fcs = availability_by_fc(state.supply(), now)
    sources = {str(item["source"]) for item in fcs}
    source = "in_stock" if "in_stock" in sources else "head_start" if fcs else "none"
    return {"buyable": bool(fcs), "source": source, "fcs": fcs}


def publish_if_changed(
    session: Session,
    state: SkuState,
    policy: Policy,
    now: datetime,
    *,
    outbox: OutboxBuffer | None = None,
) -> bool:
    """Compare with the last published offer; on a change store the decision and emit R16
    (buffered in ``outbox`` when given, for the caller to write).

    Every change to a SKU's supply or demand comes here: this is where the transaction
    names the SKU whose offers every process must forget at commit, published summary
    changed or not (an offer for more units may have changed all the same).
    """
    product = state.product
    declare_changed_skus(session, (product.sku,))
    summary = offer_summary(state, now)
    if product.offer == summary:
        return False
    seq = product.offer_seq + 1
    published = {"offer_seq": seq, "offer": summary, "updated_at": now}
    inputs = quote(state.supply(), 1, "", policy, now).inputs
    decision = OfferDecisionRow(sku=product.sku, at=now, offer=summary, inputs=inputs)
    notice = offer_changed(product.sku, summary, seq, seller_id=product.seller_id)
    if outbox is None:
        # One SKU (an order, a cancel): plain statements, cheaper than the flush's
        # bookkeeping of each object (store/plain_sql.py).
        update_row(session, product, published)
        insert_row(session, decision)
        enqueue(session, notice, now)
    else:  # many SKUs: the caller's one flush writes them all
        for name, value in published.items():
            setattr(product, name, value)
        session.add(decision)
        outbox.add(notice)
    return True
