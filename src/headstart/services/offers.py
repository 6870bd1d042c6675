"""What a buyer is shown (R18), answered from the same quote that places orders."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.errors import InvalidRequest, NotFound
from headstart.domain.placement import quote
from headstart.services.catalog import price_text
from headstart.services.estimation import EstimatorCache
from headstart.services.estimator_on_demand import EstimatorOnDemand
from headstart.services.policy import load_policy
from headstart.services.sku_state import load_fcs, load_sku_state
from headstart.store.tables import OfferDecisionRow, ProductRow
from headstart.store.uow import UnitOfWork

SEARCH_LIMIT = 50


def _offer(
    uow: UnitOfWork,
    estimators: EstimatorCache,
    product: ProductRow,
    region: str | None,
    quantity: int,
    *,
    explain: bool = False,
) -> dict[str, Any]:
    now = uow.now()
    policy = load_policy(uow.session)
    fcs = load_fcs(uow.session)
    region = region or _default_region(fcs)
    state = load_sku_state(
        uow.session,
        product,
        now=now,
        policy=policy,
        estimator=EstimatorOnDemand(estimators, uow.session),
        fcs=fcs,
    )
    result = quote(state.supply(), quantity, region, policy, now)
    promise = result.promise
    view: dict[str, Any] = {
        "sku": product.sku,
        "region": region,
        "quantity": quantity,
        "buyable": result.buyable,
        "buyer_state": result.buyer_state,
        "source": result.source,
        "fc": promise.fc if promise else None,
        "promised_in_stock_date": promise.promised_in_stock_date.isoformat() if promise else None,
        "promised_ship_date": promise.promised_ship_date.isoformat() if promise else None,
        "promised_delivery_date": promise.promised_delivery_date.isoformat() if promise else None,
        "available_quantity": result.available_quantity,
        "confidence": promise.confidence if promise else None,
        "reasons": list(result.reasons),
    }
    if explain:
        view["inputs"] = result.inputs  # R17: what this answer rests on
    return view


def _default_region(fcs: dict[str, FulfillmentCenter]) -> str:
    """Without a region, answer for the region of the first FC (by code)."""
    return fcs[min(fcs)].region if fcs else ""


def get_offer(
    uow: UnitOfWork,
    estimators: EstimatorCache,
    sku: str,
    *,
    region: str | None,
    quantity: int,
    explain: bool = False,
) -> dict[str, Any]:
    if quantity <= 0:
        raise InvalidRequest("quantity must be a positive number of units", {"quantity": quantity})
    with uow:
        product = uow.session.get(ProductRow, sku)
        if product is None:
            raise NotFound(f"no product with SKU {sku!r}", {"sku": sku})
        view = _offer(uow, estimators, product, region, quantity, explain=explain)
        if explain:
            last = uow.session.scalars(
                select(OfferDecisionRow)
                .where(OfferDecisionRow.sku == sku)
                .order_by(OfferDecisionRow.id.desc())
                .limit(1)
            ).one_or_none()
            view["last_published"] = (
                {"at": last.at.isoformat(), "offer": last.offer} if last else None
            )
        return view


def search(
    uow: UnitOfWork, estimators: EstimatorCache, text: str, *, region: str | None
) -> dict[str, Any]:
    """Head-start products appear in results with their date, like any other (R18)."""
    pattern = f"%{text.strip()}%"
    with uow:
        products = uow.session.scalars(
            select(ProductRow)
            .where(or_(ProductRow.title.ilike(pattern), ProductRow.sku.ilike(pattern)))
            .order_by(ProductRow.title, ProductRow.sku)
            .limit(SEARCH_LIMIT)
        ).all()
        results = []
        for product in products:
            offer = _offer(uow, estimators, product, region, 1)
            results.append(
                {
                    "sku": product.sku,
                    "title": product.title,
                    "price": price_text(product.price_minor),
                    "currency": product.currency,
                    "offer": offer,
                }
            )
        return {"query": text, "results": results}
