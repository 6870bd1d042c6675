"""The operator's console: policy, why a SKU is or is not buyable (R17), promise accuracy,
and the outbox with delivery states (R15)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from headstart.api.schemas import CODE_PATTERN, MAX_ROW_ID, PolicyIn
from headstart.domain.errors import InvalidRequest, NotFound
from headstart.services import accuracy, catalog, notifications, offers, policy
from headstart.services.keys import OPERATOR
from headstart.services.web_sessions import WebSession
from headstart.web.charts import on_time_by_week, padding_by_mode
from headstart.web.pages import FormFields, PageRoute, require_role, runtime_of
from headstart.web.rendering import render

router = APIRouter(prefix="/operator", route_class=PageRoute, include_in_schema=False)
Operator = Annotated[WebSession, Depends(require_role(OPERATOR))]
OptionalCode = Annotated[str, Query(max_length=64, pattern=f"{CODE_PATTERN}|^$")]

# The editable knobs, in the order shown, with how a form's text becomes a value.
POLICY_FIELDS: dict[str, tuple[str, type]] = {
    "q": ("Promise quantile q (R4)", float),
    "q_low": ("At-risk threshold q_low (R9)", float),
    "fallback_q": ("Quantile when history is thin (R4)", float),
    "horizon_days": ("Horizon H, days (R4)", int),
    "default_shrink": ("Default shrink (R5)", Decimal),
    "max_slip_days": ("Maximum slip, days (R10)", int),
    "consent_slip_days": ("Slip silence consents to, days (R9a)", int),
    "min_on_time_rate": ("Suppress below on-time rate (R4)", float),
    "on_time_window": ("On-time window, orders (R4)", int),
}


@router.get("")
def console(request: Request, viewer: Operator) -> Response:
    runtime = runtime_of(request)
    with runtime.reader() as uow:
        now = uow.now()
    return render(request, "operator/console.html", now=now, fcs=catalog.list_fcs(runtime.reader()))


@router.get("/policy")
def policy_page(request: Request, viewer: Operator, saved: bool = False) -> Response:
    current = policy.get_policy(runtime_of(request).reader()).to_dict()
    return render(
        request, "operator/policy.html", values=current, fields=POLICY_FIELDS, saved=saved
    )


def _parse_policy(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, (_, kind) in POLICY_FIELDS.items():
        text = form.get(name, "").strip()
        try:
            values[name] = kind(text)
        except (ValueError, InvalidOperation):
            errors[name] = "Enter a whole number." if kind is int else "Enter a number."
    values["admit_own_carrier"] = form.get("admit_own_carrier") == "on"
    if not errors:
        try:
            values = PolicyIn(**values).model_dump(exclude_none=True)
        except ValidationError as error:
            for problem in error.errors():
                errors[str(problem["loc"][0])] = str(problem["msg"])
    return values, errors


@router.post("/policy")
def save_policy(request: Request, viewer: Operator, form: FormFields) -> Response:
    runtime = runtime_of(request)
    values, errors = _parse_policy(form)
    if not errors:
        try:
            policy.update_policy(runtime.uow(), runtime.estimators, values)
        except InvalidRequest as error:  # rules that tie values together (q_low <= q ...)
            errors["policy"] = error.message
    if errors:
        shown = {**policy.get_policy(runtime.reader()).to_dict(), **form}
        shown["admit_own_carrier"] = form.get("admit_own_carrier") == "on"
        return render(
            request, "operator/policy.html", 422, values=shown, fields=POLICY_FIELDS, errors=errors
        )
    return RedirectResponse("/operator/policy?saved=true", 303)


@router.get("/explain")
def explain(
    request: Request,
    viewer: Operator,
    sku: OptionalCode = "",
    region: OptionalCode = "",
    quantity: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """R17: every input of the decision, from the same quote that answers buyers."""
    runtime = runtime_of(request)
    fcs = catalog.list_fcs(runtime.reader())
    regions = sorted({r for fc in fcs for r in fc["outbound_transit_days"]})
    answer, missing = None, None
    if sku:
        try:
            answer = offers.get_offer(
                runtime.reader(),
                runtime.estimators,
                sku,
                region=region or None,
                quantity=quantity,
                explain=True,
            )
        except NotFound as error:
            missing = error.message
    return render(
        request,
        "operator/explain.html",
        404 if missing else 200,
        sku=sku,
        region=answer["region"] if answer else region,
        quantity=quantity,
        regions=regions,
        answer=answer,
        missing=missing,
        fc_zones={fc["code"]: fc["time_zone"] for fc in fcs},
    )


@router.get("/accuracy")
def accuracy_page(request: Request, viewer: Operator) -> Response:
    result = accuracy.promise_accuracy(runtime_of(request).reader())
    weeks_by_mode: dict[str, list[dict[str, Any]]] = {}
    for row in result["by_mode_and_week"]:
        weeks_by_mode.setdefault(row["mode"], []).append(row)
    charts = [
        on_time_by_week(mode, weeks, result["target_on_time_rate"])
        for mode, weeks in weeks_by_mode.items()
    ]
    return render(
        request,
        "operator/accuracy.html",
        result=result,
        charts=charts,
        padding=padding_by_mode(result["by_mode"]) if result["by_mode"] else None,
    )


@router.get("/outbox")
def outbox(
    request: Request,
    viewer: Operator,
    kind: Annotated[str, Query(max_length=32, pattern=r"^[a-z_]*$")] = "",
    after_id: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> Response:
    found = notifications.list_notifications(
        runtime_of(request).reader(), kind=kind or None, after_id=after_id, limit=50
    )
    return render(request, "operator/outbox.html", found=found, kind=kind, after_id=after_id)
