"""Fulfillment centers, products and on-hand corrections."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from headstart.domain.errors import Conflict, Forbidden, InvalidRequest, NotFound
from headstart.services.estimation import EstimatorCache
from headstart.services.policy import load_policy
from headstart.services.receiving_fill import fill_from_stock
from headstart.services.refresh import refresh_skus
from headstart.store.tables import FulfillmentCenterRow, ProductRow, SellerRow, StockRow
from headstart.store.uow import UnitOfWork


def create_fc(
    uow: UnitOfWork,
    *,
    code: str,
    time_zone: str,
    region: str,
    handling_days: int,
    cutoff_local_time: time,
    holidays: list[date],
    outbound_transit_days: dict[str, int],
    operating_weekdays: list[int],
) -> dict[str, Any]:
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidRequest(
            f"unknown time zone {time_zone!r}", {"time_zone": time_zone}
        ) from error
    with uow:
        if uow.session.get(FulfillmentCenterRow, code) is not None:
            raise Conflict(f"FC {code!r} already exists", {"code": code})
        row = FulfillmentCenterRow(
            code=code,
            time_zone=time_zone,
            region=region,
            handling_days=handling_days,
            cutoff_local_time=cutoff_local_time.isoformat(timespec="minutes"),
            holidays=sorted(d.isoformat() for d in holidays),
            outbound_transit_days=dict(outbound_transit_days),
            operating_weekdays=sorted(set(operating_weekdays)),
        )
        uow.session.add(row)
        uow.commit()
        return fc_view(row)


def fc_view(row: FulfillmentCenterRow) -> dict[str, Any]:
    return {
        "code": row.code,
        "time_zone": row.time_zone,
        "region": row.region,
        "handling_days": row.handling_days,
        "cutoff_local_time": row.cutoff_local_time,
        "holidays": row.holidays,
        "outbound_transit_days": row.outbound_transit_days,
        "operating_weekdays": row.operating_weekdays,
    }


def list_fcs(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.scalars(select(FulfillmentCenterRow).order_by(FulfillmentCenterRow.code))
        return [fc_view(row) for row in rows]


def price_text(minor_units: int) -> str:
    """Money leaves as a decimal string with its cents: 2150 -> "21.50"."""
    whole, cents = divmod(minor_units, 100)
    return f"{whole}.{cents:02d}"


def product_view(row: ProductRow) -> dict[str, Any]:
    return {
        "sku": row.sku,
        "seller_id": row.seller_id,
        "title": row.title,
        "price": price_text(row.price_minor),
        "currency": row.currency,
        "head_start_excluded": row.head_start_excluded,
        "head_start_cap": row.head_start_cap,
    }


def put_product(
    uow: UnitOfWork,
    estimators: EstimatorCache,
    *,
    sku: str,
    seller_id: str,
    title: str,
    price: Decimal,
    currency: str,
    head_start_excluded: bool,
    head_start_cap: int | None,
) -> tuple[dict[str, Any], bool]:
    """Create or replace a product; R1a changes re-run the offer at once."""
    with uow:
        if uow.session.get(SellerRow, seller_id) is None:
            raise NotFound(f"no seller {seller_id!r}", {"seller_id": seller_id})
        now = uow.now()
        row = uow.lock_sku(sku)
        created = row is None
        if row is None:
            row = ProductRow(sku=sku, seller_id=seller_id, offer_seq=0, updated_at=now)
            uow.session.add(row)
        elif row.seller_id != seller_id:
            raise Forbidden(f"SKU {sku!r} belongs to another seller", {"sku": sku})
        row.title = title
        row.price_minor = int((price * 100).to_integral_value())
        row.currency = currency
        row.head_start_excluded = head_start_excluded
        row.head_start_cap = head_start_cap
        row.updated_at = now
        uow.session.flush()
        policy = load_policy(uow.session)
        refresh_skus(
            uow,
            [sku],
            now=now,
            policy=policy,
            estimator=estimators.current(uow.session),
            reason="product_changed",
        )
        view = product_view(row)
        uow.commit()
        return view, created


def get_product(uow: UnitOfWork, sku: str) -> ProductRow:
    product = uow.session.get(ProductRow, sku)
    if product is None:
        raise NotFound(f"no product with SKU {sku!r}", {"sku": sku})
    return product


def adjust_inventory(
    uow: UnitOfWork, estimators: EstimatorCache, *, sku: str, fc: str, delta: int, reason: str
) -> dict[str, Any]:
    """Correct on-hand units; found units fill waiting orders first (R11), lost ones re-promise."""
    if delta == 0:
        raise InvalidRequest("delta must not be zero", {"delta": delta})
    with uow:
        if uow.session.get(FulfillmentCenterRow, fc) is None:
            raise NotFound(f"no FC {fc!r}", {"fc": fc})
        product = uow.lock_sku(sku)
        if product is None:
            raise NotFound(f"no product with SKU {sku!r}", {"sku": sku})
        stock = uow.session.get(StockRow, (sku, fc))
        if stock is None:
            stock = StockRow(sku=sku, fc=fc, sellable=0, allocated=0)
            uow.session.add(stock)
        if stock.sellable + delta < 0:
            raise Conflict(
                f"only {stock.sellable} sellable unit(s) of {sku} at {fc}",
                {"sellable": stock.sellable, "delta": delta},
            )
        now = uow.now()
        stock.sellable += delta
        if delta > 0:
            fill_from_stock(uow.session, stock, now)
        uow.session.flush()
        refresh_skus(
            uow,
            [sku],
            now=now,
            policy=load_policy(uow.session),
            estimator=estimators.current(uow.session),
            reason=f"inventory_adjustment:{reason}",
        )
        result = {"sku": sku, "fc": fc, "sellable": stock.sellable, "allocated": stock.allocated}
        uow.commit()
        return result
