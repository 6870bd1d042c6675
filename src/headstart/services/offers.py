"""What a buyer is shown (R18), answered from the same quote that places orders.

With an ``OfferCache`` an offer is answered from this process's memory while no commit
since changed it and time alone cannot have (``services/offer_cache.py``): an order
placed anywhere is in the very next offer, without the database's round trips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.errors import InvalidRequest, NotFound
from headstart.domain.placement import quote
from headstart.domain.policy import Policy
from headstart.services.catalog import price_text
from headstart.services.estimation import EstimatorCache
from headstart.services.estimator_on_demand import EstimatorOnDemand
from headstart.services.offer_cache import OfferCache, valid_until
from headstart.services.policy import load_policy
from headstart.services.sku_state import load_fcs, load_sku_state
from headstart.store.tables import OfferDecisionRow, ProductRow
from headstart.store.uow import UnitOfWork

SEARCH_LIMIT = 50


@dataclass(frozen=True)
class _Inputs:
    """What every offer of a transaction shares: the clock, the policy and the FCs."""

    now: datetime
    policy: Policy
    fcs: dict[str, FulfillmentCenter]


def _inputs(uow: UnitOfWork, now: datetime, cache: OfferCache | None, stamp: int | None) -> _Inputs:
    return _Inputs(now, *policy_and_fcs(uow, cache, stamp))


def policy_and_fcs(
    uow: UnitOfWork, cache: OfferCache | None, stamp: int | None
) -> tuple[Policy, dict[str, FulfillmentCenter]]:
    """The policy and the FCs: kept by ``cache`` since ``stamp`` (its ``catch_up`` before
    the transaction), else read and kept."""
    kept = cache.inputs() if cache is not None and stamp is not None else None
    if kept is not None:
        return kept
    policy, fcs = load_policy(uow.session), load_fcs(uow.session)
    if cache is not None and stamp is not None:
        cache.keep_inputs(stamp, policy, fcs)
    return policy, fcs


def _offer(
    uow: UnitOfWork,
    estimators: EstimatorCache,
    inputs: _Inputs,
    product: ProductRow,
    region: str | None,
    quantity: int,
    *,
    explain: bool = False,
) -> tuple[dict[str, Any], datetime]:
    """The offer and the first instant time alone could change it."""
    now, policy, fcs = inputs.now, inputs.policy, inputs.fcs
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
    lots = [lot for at_fc in state.lots.values() for lot in at_fc]
    return view, valid_until(now, fcs.values(), lots, policy, sku=product.sku)


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
    cache: OfferCache | None = None,
) -> dict[str, Any]:
    if quantity <= 0:
        raise InvalidRequest("quantity must be a positive number of units", {"quantity": quantity})
    if explain:
        cache = None  # R17 reads the inputs and the last published offer afresh
    # Before the transaction begins: every change committed before this request was heard.
    stamp = cache.catch_up() if cache is not None else None
    key = (sku, region, quantity)
    if cache is not None and stamp is not None and not uow.sandbox:
        kept = cache.offer(key, uow.real_now())  # no transaction at all
        if kept is not None:
            return kept
    with uow:
        now = uow.now()
        if cache is not None and stamp is not None and uow.sandbox:
            kept = cache.offer(key, now)  # the sandbox clock is read from the database
            if kept is not None:
                return kept
        product = uow.session.get(ProductRow, sku)
        if product is None:
            raise NotFound(f"no product with SKU {sku!r}", {"sku": sku})
        inputs = _inputs(uow, now, cache, stamp)
        view, until = _offer(uow, estimators, inputs, product, region, quantity, explain=explain)
        if cache is not None and stamp is not None:
            cache.keep_offer(stamp, key, view, inputs.now, until)
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
    uow: UnitOfWork,
    estimators: EstimatorCache,
    text: str,
    *,
    region: str | None,
    cache: OfferCache | None = None,
) -> dict[str, Any]:
    """Head-start products appear in results with their date, like any other (R18)."""
    pattern = f"%{text.strip()}%"
    stamp = cache.catch_up() if cache is not None else None
    kept = cache if stamp is not None else None
    with uow:
        products = uow.session.scalars(
            select(ProductRow)
            .where(or_(ProductRow.title.ilike(pattern), ProductRow.sku.ilike(pattern)))
            .order_by(ProductRow.title, ProductRow.sku)
            .limit(SEARCH_LIMIT)
        ).all()
        inputs = _inputs(uow, uow.now(), cache, stamp)
        results = []
        for product in products:
            key = (product.sku, region, 1)
            offer = kept.offer(key, inputs.now) if kept is not None else None
            if offer is None:
                offer, until = _offer(uow, estimators, inputs, product, region, 1)
                if kept is not None and stamp is not None:
                    kept.keep_offer(stamp, key, offer, inputs.now, until)
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
