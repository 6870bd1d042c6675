"""The storefront: search with the three buyer states (R18), product, ordering, the order's
promise history and, after a delay, the notice with a one-step cancel (R9a)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from headstart.api.deps import order_scope
from headstart.api.schemas import CODE_PATTERN, PRINTABLE, Code, OrderIn
from headstart.domain.errors import InvalidRequest, Unavailable
from headstart.services import catalog, dashboard, offers, orders
from headstart.services.keys import OPERATOR, STOREFRONT
from headstart.services.web_sessions import WebSession
from headstart.web.pages import FormFields, PageRoute, Viewer, require_role, runtime_of
from headstart.web.rendering import render

router = APIRouter(prefix="/shop", route_class=PageRoute, include_in_schema=False)
Buyer = Annotated[WebSession, Depends(require_role(STOREFRONT, OPERATOR))]
Region = Annotated[str | None, Query(max_length=64, pattern=f"{CODE_PATTERN}|^$")]
SearchText = Annotated[str, Query(max_length=200, pattern=f"(?:{PRINTABLE})|^$")]
Quantity = Annotated[int, Query(ge=1, le=1000)]

NOTICES = {
    "cancelled": "Your order is cancelled and fully refunded.",
    "kept": "Thank you: your order stays open with its revised date.",
}


def _fcs(request: Request) -> list[dict[str, Any]]:
    return catalog.list_fcs(runtime_of(request).reader())


def _regions(fcs: list[dict[str, Any]]) -> list[str]:
    return sorted({region for fc in fcs for region in fc["outbound_transit_days"]})


@router.get("")
def search(request: Request, viewer: Viewer, q: SearchText = "", region: Region = None) -> Response:
    runtime = runtime_of(request)
    fcs = _fcs(request)
    found = offers.search(runtime.reader(), runtime.estimators, q, region=region or None)
    chosen = found["results"][0]["offer"]["region"] if found["results"] else region
    return render(
        request,
        "shop/search.html",
        q=q,
        region=chosen or "",
        regions=_regions(fcs),
        results=found["results"],
        fc_zones={fc["code"]: fc["time_zone"] for fc in fcs},
    )


def _product_page(
    request: Request,
    sku: str,
    region: str | None,
    quantity: int,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    runtime = runtime_of(request)
    fcs = _fcs(request)
    product = dashboard.read_product(runtime.reader(), sku)
    offer = offers.get_offer(
        runtime.reader(), runtime.estimators, sku, region=region or None, quantity=quantity
    )
    return render(
        request,
        "shop/product.html",
        status_code,
        product=product,
        offer=offer,
        regions=_regions(fcs),
        fc_zones={fc["code"]: fc["time_zone"] for fc in fcs},
        # R8: a double-submitted form retries with the same key and places one order.
        idempotency_key=secrets.token_urlsafe(16),
        **extra,
    )


@router.get("/products/{sku}")
def product(
    request: Request, viewer: Viewer, sku: Code, region: Region = None, quantity: Quantity = 1
) -> Response:
    return _product_page(request, sku, region, quantity)


@router.post("/orders")
def place_order(request: Request, viewer: Buyer, form: FormFields) -> Response:
    runtime = runtime_of(request)
    sku = form.get("sku", "")
    try:
        body = OrderIn(
            sku=sku,
            quantity=int(form.get("quantity", "1") or "1"),
            region=form.get("region", ""),
            buyer_ref=form.get("buyer_ref", "").strip() or "web-buyer",
        )
    except (ValidationError, ValueError) as error:
        raise InvalidRequest("Check the quantity, region and your reference.") from error
    key = form.get("idempotency_key", "")[:200] or None
    try:
        view, _ = orders.place_order(
            runtime.uow(),
            runtime.estimators,
            sku=body.sku,
            quantity=body.quantity,
            region=body.region,
            buyer_ref=body.buyer_ref,
            placed_by=viewer.principal.id,
            idempotency_key=key,
        )
    except Unavailable as error:
        # R6: the offer changed since the page was shown; show the fresh one, and why.
        return _product_page(
            request, body.sku, body.region, body.quantity, 409, error=error.message
        )
    return RedirectResponse(f"/shop/orders/{view['order_id']}", 303)


@router.get("/orders/{order_id}")
def order_page(request: Request, viewer: Buyer, order_id: Code, notice: str = "") -> Response:
    runtime = runtime_of(request)
    view = orders.get_order(runtime.reader(), order_id, order_scope(viewer.principal))
    fcs = _fcs(request)
    return render(
        request,
        "shop/order.html",
        order=view,
        product=dashboard.read_product(runtime.reader(), view["sku"]),
        fc_zones={fc["code"]: fc["time_zone"] for fc in fcs},
        notice=NOTICES.get(notice),
        delayed=_is_delayed(view),
    )


def _is_delayed(view: dict[str, Any]) -> bool:
    """R9a: an open order whose promise moved gets the delay notice and its choices."""
    return view["status"] == "promised" and any(rev["new"] for rev in view["revisions"])


@router.post("/orders/{order_id}/cancel")
def cancel(request: Request, viewer: Buyer, order_id: Code) -> Response:
    """R9a: one step, full refund."""
    runtime = runtime_of(request)
    orders.cancel_order(runtime.uow(), runtime.estimators, order_id, order_scope(viewer.principal))
    return RedirectResponse(f"/shop/orders/{order_id}?notice=cancelled", 303)


@router.post("/orders/{order_id}/confirm-delay")
def confirm_delay(request: Request, viewer: Buyer, order_id: Code) -> Response:
    orders.confirm_delay(runtime_of(request).uow(), order_id, order_scope(viewer.principal))
    return RedirectResponse(f"/shop/orders/{order_id}?notice=kept", 303)
