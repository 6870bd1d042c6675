"""Load what R6 needs about one SKU: stock, lots and waiting orders at every FC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from headstart.domain.atp import Entry
from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.estimate import InStockEstimate, InStockEstimator
from headstart.domain.placement import SkuAtFc, SkuSupply
from headstart.domain.policy import Policy
from headstart.domain.supply import (
    InboundLot,
    build_lot,
    head_start_quantity,
    is_suppressed,
    participation,
)
from headstart.store.mappers import (
    enrollment_of,
    estimate_of,
    facts_of,
    fc_from_row,
    progress_of,
    shrink_of,
)
from headstart.store.tables import (
    FulfillmentCenterRow,
    OrderRow,
    ProductRow,
    SellerRow,
    ShipmentLineRow,
    ShipmentRow,
    StockRow,
)

WAITING = "promised"  # a head-start order waiting for its units


@dataclass
class SkuState:
    product: ProductRow
    fcs: dict[str, FulfillmentCenter]
    stock: dict[str, StockRow]
    lots: dict[str, list[InboundLot]]
    waiting: list[OrderRow]  # in placement order
    suppressed: bool

    def supply(self, *, with_demand: bool = True) -> SkuSupply:
        at_fcs = tuple(
            SkuAtFc(
                fc=fc,
                on_hand=self.stock[code].sellable if code in self.stock else 0,
                lots=tuple(self.lots.get(code, ())),
                demand=tuple(
                    Entry(order.promised_in_stock_date, order.quantity)
                    for order in self.waiting
                    if order.fc == code
                )
                if with_demand
                else (),
            )
            for code, fc in sorted(self.fcs.items())
        )
        return SkuSupply(
            sku=self.product.sku,
            at_fcs=at_fcs,
            excluded=self.product.head_start_excluded,
            cap=self.product.head_start_cap,
            suppressed=self.suppressed,
        )


def load_fcs(session: Session) -> dict[str, FulfillmentCenter]:
    return {row.code: fc_from_row(row) for row in session.scalars(select(FulfillmentCenterRow))}


def current_estimate(
    shipment: ShipmentRow, estimator: InStockEstimator, now: datetime
) -> InStockEstimate:
    stored = estimate_of(shipment)
    if stored is not None:
        return stored
    return estimator.estimate(progress_of(shipment), now)


def load_sku_state(
    session: Session,
    product: ProductRow,
    *,
    now: datetime,
    policy: Policy,
    estimator: InStockEstimator,
    fcs: dict[str, FulfillmentCenter] | None = None,
) -> SkuState:
    fcs = fcs if fcs is not None else load_fcs(session)
    stock = {
        row.fc: row for row in session.scalars(select(StockRow).where(StockRow.sku == product.sku))
    }
    seller = session.get(SellerRow, product.seller_id)
    assert seller is not None
    enrollment = enrollment_of(seller)
    shrink = shrink_of(seller)
    lines = session.execute(
        select(ShipmentLineRow, ShipmentRow)
        .join(ShipmentRow, ShipmentRow.id == ShipmentLineRow.shipment_id)
        .where(ShipmentLineRow.sku == product.sku)
        .where(ShipmentRow.status.not_in(("closed", "working")))
        .order_by(ShipmentRow.created_at, ShipmentRow.id)
    ).all()
    lots: dict[str, list[InboundLot]] = {}
    for line, shipment in lines:
        fc = fcs.get(shipment.destination_fc)
        if fc is None or shipment.shipped_at is None:
            continue
        lots.setdefault(fc.code, []).append(
            build_lot(
                shipment_id=shipment.id,
                sku=product.sku,
                fc=fc,
                quantity=head_start_quantity(line.quantity_shipped, line.quantity_received, shrink),
                participation=participation(facts_of(shipment), enrollment, policy),
                estimate=current_estimate(shipment, estimator, now),
                policy=policy,
                now=now,
            )
        )
    waiting = list(
        session.scalars(
            select(OrderRow)
            .where(OrderRow.sku == product.sku, OrderRow.status == WAITING)
            .order_by(OrderRow.seq)
        )
    )
    return SkuState(
        product=product,
        fcs=fcs,
        stock=stock,
        lots=lots,
        waiting=waiting,
        suppressed=is_suppressed(recent_on_time(session, product, fcs, policy), policy),
    )


def recent_on_time(
    session: Session, product: ProductRow, fcs: dict[str, FulfillmentCenter], policy: Policy
) -> list[bool]:
    """R4: were the seller's recent head-start orders in stock by their first promised date?

    An order is judged once its units were allocated, or once it was cancelled
    for lack of supply (late by definition); oldest first.
    """
    rows = session.execute(
        select(OrderRow.fc, OrderRow.allocated_at, OrderRow.first_promise)
        .join(ProductRow, ProductRow.sku == OrderRow.sku)
        .where(ProductRow.seller_id == product.seller_id, OrderRow.source == "head_start")
        .where(OrderRow.allocated_at.is_not(None) | OrderRow.cancel_reason.in_(LATE_CANCELS))
        .order_by(OrderRow.seq.desc())
        .limit(policy.on_time_window)
    ).all()
    outcomes: list[bool] = []
    for fc_code, allocated_at, first_promise in reversed(rows):
        if allocated_at is None or fc_code not in fcs:
            outcomes.append(False)
            continue
        promised = date.fromisoformat(str(first_promise["promised_in_stock_date"]))
        outcomes.append(fcs[fc_code].local_date(allocated_at) <= promised)
    return outcomes


LATE_CANCELS = ("no_supply", "max_slip_exceeded", "short_close")
