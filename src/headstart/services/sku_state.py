"""Load what R6 needs about one SKU: stock, lots and waiting orders at every FC."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Integer, bindparam, literal_column, select
from sqlalchemy.orm import Session

from headstart.domain.atp import Entry
from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.estimate import InStockEstimate, InStockEstimator
from headstart.domain.placement import SkuAtFc, SkuSupply
from headstart.domain.policy import Policy
from headstart.domain.supply import (
    InboundLot,
    Participation,
    build_lot,
    head_start_quantity,
    is_suppressed,
    participation,
)
from headstart.services.waiting_orders import WaitingRow, waiting_of, waiting_of_skus
from headstart.store.mappers import (
    enrollment_of,
    estimate_of,
    facts_of,
    fc_from_row,
    progress_of,
    shrink_of,
)
from headstart.store.plain_sql import plain_rows
from headstart.store.tables import (
    FulfillmentCenterRow,
    OrderRow,
    ProductRow,
    SellerRow,
    ShipmentLineRow,
    ShipmentRow,
    StockRow,
)


@dataclass
class SkuState:
    product: ProductRow
    fcs: dict[str, FulfillmentCenter]
    stock: dict[str, StockRow]
    lots: dict[str, list[InboundLot]]
    waiting: list[WaitingRow]  # in placement order
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


# The statements of the hot paths, built once: SQLAlchemy then reuses their compiled form
# without rebuilding and re-keying each (placing an order runs all of them).
_ALL_FCS = select(FulfillmentCenterRow.__table__)
_SELLER = select(SellerRow).where(SellerRow.id == bindparam("id"))
_STOCK_OF_SKU = select(StockRow).where(StockRow.sku == bindparam("sku"))
_OPEN_LINES_OF_SKU = (
    select(ShipmentLineRow, ShipmentRow)
    .join(ShipmentRow, ShipmentRow.id == ShipmentLineRow.shipment_id)
    .where(ShipmentLineRow.sku == bindparam("sku"))
    .where(ShipmentRow.status.not_in(("closed", "working")))
    .order_by(ShipmentRow.created_at, ShipmentRow.id)
)


def load_fcs(session: Session) -> dict[str, FulfillmentCenter]:
    return {row.code: fc_from_row(row) for row in plain_rows(session, _ALL_FCS)}


def current_estimate(
    shipment: ShipmentRow, estimator: InStockEstimator, now: datetime
) -> InStockEstimate:
    stored = estimate_of(shipment)
    if stored is not None:
        return stored
    return estimator.estimate(progress_of(shipment), now)


def lots_of(
    sku: str,
    lines: Iterable[tuple[ShipmentLineRow, ShipmentRow]],
    fcs: dict[str, FulfillmentCenter],
    shrink: Decimal,
    participation_of: Callable[[ShipmentRow], Participation],
    estimate_of_shipment: Callable[[ShipmentRow], InStockEstimate],
    *,
    policy: Policy,
    now: datetime,
) -> dict[str, list[InboundLot]]:
    """The SKU's inbound lots by FC from its open shipment lines (shipped ones only)."""
    lots: dict[str, list[InboundLot]] = {}
    for line, shipment in lines:
        fc = fcs.get(shipment.destination_fc)
        if fc is None or shipment.shipped_at is None:
            continue
        lots.setdefault(fc.code, []).append(
            build_lot(
                shipment_id=shipment.id,
                sku=sku,
                fc=fc,
                quantity=head_start_quantity(line.quantity_shipped, line.quantity_received, shrink),
                participation=participation_of(shipment),
                estimate=estimate_of_shipment(shipment),
                policy=policy,
                now=now,
            )
        )
    return lots


def load_sku_state(
    session: Session,
    product: ProductRow,
    *,
    now: datetime,
    policy: Policy,
    estimator: InStockEstimator,
    fcs: dict[str, FulfillmentCenter] | None = None,
    stock_rows: Iterable[StockRow] | None = None,
) -> SkuState:
    """``stock_rows``: the SKU's stock rows, when the caller holds them (locked)."""
    fcs = fcs if fcs is not None else load_fcs(session)
    sku = {"sku": product.sku}
    if stock_rows is None:
        stock_rows = session.scalars(_STOCK_OF_SKU, sku)
    stock = {row.fc: row for row in stock_rows}
    lines = session.execute(_OPEN_LINES_OF_SKU, sku).all()
    lots: dict[str, list[InboundLot]] = {}
    if lines:  # the seller's enrollment and shrink place the lots (R1, R5)
        seller = session.scalars(_SELLER, {"id": product.seller_id}).one()
        enrollment = enrollment_of(seller)
        lots = lots_of(
            product.sku,
            lines,
            fcs,
            shrink_of(seller),
            lambda shipment: participation(facts_of(shipment), enrollment, policy),
            lambda shipment: current_estimate(shipment, estimator, now),
            policy=policy,
            now=now,
        )
    waiting = waiting_of(session, product.sku)
    return SkuState(
        product=product,
        fcs=fcs,
        stock=stock,
        lots=lots,
        waiting=waiting,
        suppressed=has_counted_lots(lots)
        and is_suppressed(recent_on_time(session, product, fcs, policy), policy),
    )


def has_counted_lots(lots: dict[str, list[InboundLot]]) -> bool:
    """R4's suppression only holds back counted lots: without one it changes nothing, and
    the seller's record need not be read."""
    return any(lot.counted for at_fc in lots.values() for lot in at_fc)


def recent_on_time(
    session: Session, product: ProductRow, fcs: dict[str, FulfillmentCenter], policy: Policy
) -> list[bool]:
    """R4: were the seller's recent head-start orders in stock by their first promised date?"""
    return recent_on_time_of(session, product.seller_id, fcs, policy)


def recent_on_time_of(
    session: Session, seller_id: str, fcs: dict[str, FulfillmentCenter], policy: Policy
) -> list[bool]:
    """R4: were the seller's recent head-start orders in stock by their first promised date?

    An order is judged once its units were allocated, or once it was cancelled
    for lack of supply (late by definition); oldest first.
    """
    rows = session.execute(
        _JUDGED_OF_SELLER, {"seller_id": seller_id, "window": policy.on_time_window}
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
# R4: a seller's judged head-start orders, newest first, straight from the partial index
# ix_orders_seller_id_seq_head_start, so the cost no longer grows with the seller's
# catalogue. The source is a literal, not a parameter, so that a generic plan (a
# prepared statement) can still prove the index's predicate.
HEAD_START_ORDERS = OrderRow.source == literal_column("'head_start'")
_JUDGED_OF_SELLER = (
    select(OrderRow.fc, OrderRow.allocated_at, OrderRow.first_promise)
    .where(OrderRow.seller_id == bindparam("seller_id"), HEAD_START_ORDERS)
    .where(OrderRow.allocated_at.is_not(None) | OrderRow.cancel_reason.in_(LATE_CANCELS))
    .order_by(OrderRow.seq.desc())
    .limit(bindparam("window", type_=Integer))
)


@dataclass
class SkuStates:
    """``load_sku_state`` for many SKUs of one use case, from a handful of queries.

    Stock, inbound lines and waiting orders of every SKU are read at once; each
    shipment's estimate and participation are worked out once however many of the
    SKUs it carries; R4's recent on-time record is read once per seller, again only
    after ``forget_on_time`` (an order of that seller was cancelled meanwhile).
    ``state(product)`` then equals what ``load_sku_state`` would return, as long as
    only the SKU's own orders and offer changed since (what refreshing a SKU does).
    """

    session: Session
    now: datetime
    policy: Policy
    estimator: InStockEstimator
    fcs: dict[str, FulfillmentCenter]
    sellers: dict[str, SellerRow]
    stock: dict[str, dict[str, StockRow]]
    lines: dict[str, list[tuple[ShipmentLineRow, ShipmentRow]]]
    waiting: dict[str, list[WaitingRow]]
    _estimates: dict[str, InStockEstimate] = field(default_factory=dict)
    _participation: dict[tuple[str, str], Participation] = field(default_factory=dict)
    _on_time: dict[str, bool] = field(default_factory=dict)
    _stale: bool = False  # orders changed since R4's record was last read

    @classmethod
    def load(
        cls,
        session: Session,
        products: Sequence[ProductRow],
        *,
        now: datetime,
        policy: Policy,
        estimator: InStockEstimator,
        fcs: dict[str, FulfillmentCenter],
        stock: Iterable[StockRow] | None = None,
    ) -> SkuStates:
        skus = sorted({product.sku for product in products})
        if stock is None:
            stock = [
                row
                for part in _chunks(skus)
                for row in session.scalars(select(StockRow).where(StockRow.sku.in_(part)))
            ]
        by_sku: dict[str, dict[str, StockRow]] = {}
        for row in stock:
            by_sku.setdefault(row.sku, {})[row.fc] = row
        seller_ids = sorted({product.seller_id for product in products})
        sellers = {
            seller.id: seller
            for seller in session.scalars(select(SellerRow).where(SellerRow.id.in_(seller_ids)))
        }
        lines: dict[str, list[tuple[ShipmentLineRow, ShipmentRow]]] = {}
        waiting: dict[str, list[WaitingRow]] = {}
        for part in _chunks(skus):
            for line, shipment in session.execute(
                select(ShipmentLineRow, ShipmentRow)
                .join(ShipmentRow, ShipmentRow.id == ShipmentLineRow.shipment_id)
                .where(ShipmentLineRow.sku.in_(part))
                .where(ShipmentRow.status.not_in(("closed", "working")))
                .order_by(ShipmentRow.created_at, ShipmentRow.id)
            ):
                lines.setdefault(line.sku, []).append((line, shipment))
            waiting.update(waiting_of_skus(session, part))
        return cls(session, now, policy, estimator, fcs, sellers, by_sku, lines, waiting)

    def forget_on_time(self, seller_id: str) -> None:
        self._on_time.pop(seller_id, None)
        self._stale = True

    def state(self, product: ProductRow) -> SkuState:
        seller = self.sellers[product.seller_id]
        enrollment = enrollment_of(seller)

        def taking_part(shipment: ShipmentRow) -> Participation:
            key = (shipment.id, seller.id)
            if key not in self._participation:
                self._participation[key] = participation(
                    facts_of(shipment), enrollment, self.policy
                )
            return self._participation[key]

        def estimate(shipment: ShipmentRow) -> InStockEstimate:
            if shipment.id not in self._estimates:
                self._estimates[shipment.id] = current_estimate(shipment, self.estimator, self.now)
            return self._estimates[shipment.id]

        lots = lots_of(
            product.sku,
            self.lines.get(product.sku, ()),
            self.fcs,
            shrink_of(seller),
            taking_part,
            estimate,
            policy=self.policy,
            now=self.now,
        )
        suppressed = self._on_time.get(product.seller_id) if has_counted_lots(lots) else False
        if suppressed is None:
            if self._stale:  # the caller may hold back autoflush: the query must see them
                self.session.flush()
                self._stale = False
            suppressed = is_suppressed(
                recent_on_time(self.session, product, self.fcs, self.policy), self.policy
            )
            self._on_time[product.seller_id] = suppressed
        return SkuState(
            product=product,
            fcs=self.fcs,
            stock=self.stock.get(product.sku, {}),
            lots=lots,
            waiting=list(self.waiting.get(product.sku, ())),
            suppressed=suppressed,
        )


_CHUNK = 500  # values per IN list


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
