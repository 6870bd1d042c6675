"""The seller's dashboard: enrollment (R1), shipments, risk, orders, report (R13), R1a."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from headstart.api.schemas import Code, ProductIn
from headstart.domain.errors import InvalidRequest
from headstart.services import catalog, dashboard, policy, reports, sellers, shipments
from headstart.services.keys import SELLER
from headstart.services.web_sessions import WebSession
from headstart.web.charts import eta_bands
from headstart.web.pages import FormFields, PageRoute, require_role, runtime_of
from headstart.web.rendering import render

router = APIRouter(prefix="/seller", route_class=PageRoute, include_in_schema=False)
Seller = Annotated[WebSession, Depends(require_role(SELLER))]

NOTICES = {
    "opted_out": "Opt-out confirmed. The confirmation e-mail is on its way.",
    "enrolled": "You are enrolled: every eligible shipment created from now on takes part.",
    "saved": "Saved. Offers were re-checked at once.",
}


def _seller_id(viewer: WebSession) -> str:
    assert viewer.principal.seller_id is not None  # a seller key always names its seller
    return viewer.principal.seller_id


def _fc_zones(request: Request) -> dict[str, str]:
    fcs = catalog.list_fcs(runtime_of(request).reader())
    return {fc["code"]: fc["time_zone"] for fc in fcs}


@router.get("")
def overview(request: Request, viewer: Seller) -> Response:
    runtime, seller_id = runtime_of(request), _seller_id(viewer)
    return render(
        request,
        "seller/overview.html",
        name=dashboard.seller_name(runtime.reader(), seller_id),
        enrollment=sellers.get_enrollment(runtime.reader(), seller_id),
        record=dashboard.seller_record(runtime.reader(), seller_id),
        at_risk=dashboard.at_risk_shipments(runtime.reader(), runtime.estimators, seller_id),
        orders=[
            o
            for o in dashboard.seller_orders(runtime.reader(), seller_id)
            if o["status"] == "promised"
        ],
    )


@router.get("/enrollment")
def enrollment(request: Request, viewer: Seller, notice: str = "") -> Response:
    runtime, seller_id = runtime_of(request), _seller_id(viewer)
    return render(
        request,
        "seller/enrollment.html",
        enrollment=sellers.get_enrollment(runtime.reader(), seller_id),
        preview=dashboard.opt_out_preview(runtime.reader(), seller_id),
        fc_zones=_fc_zones(request),
        notice=NOTICES.get(notice),
    )


@router.get("/enrollment/opt-out")
def confirm_opt_out(request: Request, viewer: Seller) -> Response:
    """R1: before confirming, the exact instant from which new shipments stop taking part."""
    runtime, seller_id = runtime_of(request), _seller_id(viewer)
    preview = dashboard.opt_out_preview(runtime.reader(), seller_id)
    if preview is None:
        raise InvalidRequest("Only an enrolled seller can opt out.")
    return render(request, "seller/opt_out.html", preview=preview, fc_zones=_fc_zones(request))


@router.post("/enrollment/opt-out")
def opt_out(request: Request, viewer: Seller) -> Response:
    sellers.opt_out(runtime_of(request).uow(), _seller_id(viewer))
    return RedirectResponse("/seller/enrollment?notice=opted_out", 303)


@router.post("/enrollment")
def enroll(request: Request, viewer: Seller) -> Response:
    sellers.enroll(runtime_of(request).uow(), _seller_id(viewer))
    return RedirectResponse("/seller/enrollment?notice=enrolled", 303)


@router.get("/shipments")
def shipment_list(request: Request, viewer: Seller) -> Response:
    runtime, seller_id = runtime_of(request), _seller_id(viewer)
    found = dashboard.seller_shipments(runtime.reader(), runtime.estimators, seller_id)
    return render(request, "seller/shipments.html", shipments=found, chart=_chart(request, found))


@router.get("/shipments/{shipment_id}")
def shipment_page(request: Request, viewer: Seller, shipment_id: Code) -> Response:
    runtime = runtime_of(request)
    view = shipments.get_shipment(
        runtime.reader(), runtime.estimators, shipment_id, _seller_id(viewer)
    )
    return render(request, "seller/shipment.html", shipment=view, chart=_chart(request, [view]))


def _chart(request: Request, found: list[dict[str, object]]) -> object:
    runtime = runtime_of(request)
    viewer = request.state.web_session
    with runtime.reader() as uow:
        now = uow.now()
    return eta_bands(
        [s for s in found if s.get("estimate")],
        now=now,
        horizon_days=policy.get_policy(runtime.reader()).horizon_days,
        zone=viewer.time_zone,
        fc_zones=_fc_zones(request),
    )


@router.get("/at-risk")
def at_risk(request: Request, viewer: Seller) -> Response:
    runtime = runtime_of(request)
    found = dashboard.at_risk_shipments(runtime.reader(), runtime.estimators, _seller_id(viewer))
    return render(request, "seller/at_risk.html", shipments=found, chart=_chart(request, found))


@router.get("/orders")
def orders(request: Request, viewer: Seller) -> Response:
    found = dashboard.seller_orders(runtime_of(request).reader(), _seller_id(viewer))
    return render(request, "seller/orders.html", orders=found, fc_zones=_fc_zones(request))


@router.get("/inventory")
def inventory(request: Request, viewer: Seller) -> Response:
    runtime = runtime_of(request)
    report = reports.inventory_report(runtime.reader(), runtime.estimators, _seller_id(viewer))
    return render(request, "seller/inventory.html", report=report)


@router.get("/inventory.csv")
def inventory_csv(request: Request, viewer: Seller) -> Response:
    runtime, seller_id = runtime_of(request), _seller_id(viewer)
    report = reports.inventory_report(runtime.reader(), runtime.estimators, seller_id)
    return Response(
        reports.report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="inventory-{seller_id}.csv"'},
    )


@router.get("/products")
def products(request: Request, viewer: Seller, notice: str = "") -> Response:
    found = dashboard.seller_products(runtime_of(request).reader(), _seller_id(viewer))
    return render(request, "seller/products.html", products=found, notice=NOTICES.get(notice))


@router.post("/products/{sku}")
def save_product(request: Request, viewer: Seller, sku: Code, form: FormFields) -> Response:
    """R1a: exclude a SKU from head start, or cap its head-start units (empty: no cap)."""
    runtime, seller_id = runtime_of(request), _seller_id(viewer)
    product = dashboard.read_product(runtime.reader(), sku)
    cap_text = form.get("head_start_cap", "").strip()
    try:
        body = ProductIn(
            title=product["title"],
            price=Decimal(product["price"]),
            currency=product["currency"],
            head_start_excluded=form.get("head_start_excluded") == "on",
            head_start_cap=int(cap_text) if cap_text else None,
            seller_id=seller_id,
        )
    except (ValidationError, ValueError, InvalidOperation):
        found = dashboard.seller_products(runtime.reader(), seller_id)
        return render(
            request,
            "seller/products.html",
            422,
            products=found,
            errors={sku: "The cap must be a whole number of units, 0 or more, or empty."},
        )
    catalog.put_product(
        runtime.uow(),
        runtime.estimators,
        sku=sku,
        seller_id=seller_id,  # another seller's SKU is refused by the service (403)
        title=body.title,
        price=body.price,
        currency=body.currency,
        head_start_excluded=body.head_start_excluded,
        head_start_cap=body.head_start_cap,
    )
    return RedirectResponse("/seller/products?notice=saved", 303)
