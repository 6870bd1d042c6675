"""R11: sellable units at an FC go to the orders waiting there first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from headstart.domain.receiving import WaitingForStock, fill_waiting_orders
from headstart.store.tables import OrderRow, StockRow


def fill_from_stock(session: Session, stock: StockRow, now: datetime) -> list[OrderRow]:
    """Allocate waiting orders from the stock row's sellable units (caller holds the SKU lock)."""
    waiting = list(
        session.scalars(
            select(OrderRow).where(
                OrderRow.sku == stock.sku, OrderRow.fc == stock.fc, OrderRow.status == "promised"
            )
        )
    )
    if not waiting:
        return []
    by_id = {order.id: order for order in waiting}
    fill = fill_waiting_orders(
        stock.sellable,
        [WaitingForStock(o.id, o.quantity, o.promised_ship_date, o.seq) for o in waiting],
    )
    filled = [by_id[order_id] for order_id in fill.allocated]
    for order in filled:
        order.status = "allocated"
        order.allocated_at = now
        order.consent_due_at = None
        stock.allocated += order.quantity
    stock.sellable = fill.sellable
    return filled
