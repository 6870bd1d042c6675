"""What a seller reads before reordering (the R13 view): per SKU, sellable units, units
inbound on open shipments, and units promised to waiting head-start orders."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from headstart.store.tables import OrderRow, ProductRow, ShipmentLineRow, ShipmentRow, StockRow
from headstart.store.uow import UnitOfWork

OPEN_SHIPMENTS = ("working", "shipped", "in_transit", "delivered", "checked_in", "receiving")


def inventory_positions(uow: UnitOfWork) -> dict[str, int]:
    """Sellable + inbound - waiting, per SKU, in three queries."""
    position: dict[str, int] = defaultdict(int)
    with uow:
        session = uow.session
        for sku, sellable in session.execute(
            select(StockRow.sku, func.sum(StockRow.sellable)).group_by(StockRow.sku)
        ):
            position[sku] += int(sellable or 0)
        for sku, inbound in session.execute(
            select(
                ShipmentLineRow.sku,
                func.sum(ShipmentLineRow.quantity_shipped - ShipmentLineRow.quantity_received),
            )
            .join(ShipmentRow, ShipmentRow.id == ShipmentLineRow.shipment_id)
            .where(ShipmentRow.status.in_(OPEN_SHIPMENTS))
            .group_by(ShipmentLineRow.sku)
        ):
            position[sku] += max(int(inbound or 0), 0)
        for sku, waiting in session.execute(
            select(OrderRow.sku, func.sum(OrderRow.quantity))
            .where(OrderRow.status == "promised")
            .group_by(OrderRow.sku)
        ):
            position[sku] -= int(waiting or 0)
    return dict(position)


def offer_sources(uow: UnitOfWork) -> dict[str, str]:
    """Every SKU's published source: in_stock, head_start or none."""
    with uow:
        return {
            sku: str(offer.get("source", "none")) if offer else "none"
            for sku, offer in uow.session.execute(select(ProductRow.sku, ProductRow.offer))
        }
