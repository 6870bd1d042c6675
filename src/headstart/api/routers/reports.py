from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from headstart.api.deps import Estimators, Reader, SellerOrOperator, seller_scope
from headstart.services import reports

router = APIRouter(prefix="/v1/reports", tags=["reports (R13)"])


@router.get(
    "/inventory",
    response_model=None,
    responses={
        200: {
            "description": "the R13 rows; with ?format=csv the same rows as CSV",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
def inventory_report(
    uow: Reader,
    estimators: Estimators,
    principal: SellerOrOperator,
    seller_id: Annotated[str | None, Query(max_length=64)] = None,
    format: Literal["json", "csv"] = "json",
) -> dict[str, Any] | PlainTextResponse:
    report = reports.inventory_report(uow, estimators, seller_scope(principal, seller_id))
    if format == "csv":
        return PlainTextResponse(reports.report_csv(report), media_type="text/csv")
    return report
