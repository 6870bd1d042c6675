"""R13: the seller's inventory report says what is promised to whom."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select

from headstart.domain.errors import NotFound
from headstart.domain.placement import available_from_state
from headstart.domain.report import InboundLine, inventory_row
from headstart.services.estimation import EstimatorCache
from headstart.services.policy import load_policy
from headstart.services.sku_state import load_fcs, load_sku_state
from headstart.store.tables import OrderRow, ProductRow, SellerRow, ShipmentLineRow, ShipmentRow
from headstart.store.uow import UnitOfWork


def inventory_report(uow: UnitOfWork, estimators: EstimatorCache, seller_id: str) -> dict[str, Any]:
    with uow:
        if uow.session.get(SellerRow, seller_id) is None:
            raise NotFound(f"no seller {seller_id!r}", {"seller_id": seller_id})
        now = uow.now()
        policy = load_policy(uow.session)
        fcs = load_fcs(uow.session)
        estimator = estimators.current(uow.session)
        products = uow.session.scalars(
            select(ProductRow).where(ProductRow.seller_id == seller_id).order_by(ProductRow.sku)
        ).all()
        rows: list[dict[str, Any]] = []
        orders: list[dict[str, Any]] = []
        for product in products:
            state = load_sku_state(
                uow.session, product, now=now, policy=policy, estimator=estimator, fcs=fcs
            )
            supply = state.supply()
            inbound = uow.session.execute(
                select(ShipmentRow.destination_fc, ShipmentRow.status, ShipmentLineRow)
                .join(ShipmentLineRow, ShipmentLineRow.shipment_id == ShipmentRow.id)
                .where(ShipmentLineRow.sku == product.sku)
                .where(ShipmentRow.status.not_in(("closed", "cancelled")))
            ).all()
            for at_fc in supply.at_fcs:
                code = at_fc.fc.code
                stock = state.stock.get(code)
                lines = [
                    InboundLine(status, line.quantity_shipped, line.quantity_received)
                    for fc_code, status, line in inbound
                    if fc_code == code
                ]
                if stock is None and not lines and not at_fc.demand:
                    continue
                row = inventory_row(
                    sku=product.sku,
                    fc=code,
                    sellable=stock.sellable if stock else 0,
                    allocated=stock.allocated if stock else 0,
                    inbound=lines,
                    head_start_reserved=at_fc.head_start_demand,
                    head_start_available=available_from_state(at_fc, supply, now),
                )
                rows.append(row.to_dict())
            orders.extend(
                {
                    "order_id": order.id,
                    "sku": order.sku,
                    "fc": order.fc,
                    "quantity": order.quantity,
                    "buyer_ref": order.buyer_ref,
                    "status": order.status,
                    "promised_in_stock_date": order.promise["promised_in_stock_date"],
                    "promised_delivery_date": order.promise["promised_delivery_date"],
                }
                for order in uow.session.scalars(
                    select(OrderRow)
                    .where(OrderRow.sku == product.sku, OrderRow.source == "head_start")
                    .where(OrderRow.status.in_(("promised", "allocated")))
                    .order_by(OrderRow.seq)
                )
            )
        return {
            "seller_id": seller_id,
            "generated_at": now.isoformat(),
            "rows": rows,
            "head_start_orders": orders,
        }


REPORT_COLUMNS = (
    "sku",
    "fc",
    "sellable",
    "allocated",
    "inbound_working",
    "inbound_shipped",
    "inbound_receiving",
    "head_start_reserved",
    "head_start_available",
    "pilot_in_stock",
    "pilot_inbound",
    "fee_basis_units",
)


def report_csv(report: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in report["rows"]:
        writer.writerow({name: row[name] for name in REPORT_COLUMNS})
    return buffer.getvalue()
