from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from headstart.api.deps import Operator, Reader, Uow
from headstart.api.schemas import FulfillmentCenterIn
from headstart.services import catalog

router = APIRouter(prefix="/v1/fulfillment-centers", tags=["fulfillment centers"])


@router.post("", status_code=201)
def create_fulfillment_center(body: FulfillmentCenterIn, uow: Uow, _: Operator) -> dict[str, Any]:
    return catalog.create_fc(
        uow,
        code=body.code,
        time_zone=body.time_zone,
        region=body.region,
        handling_days=body.handling_days,
        cutoff_local_time=body.cutoff_local_time,
        holidays=body.holidays,
        outbound_transit_days=body.outbound_transit_days,
        operating_weekdays=body.operating_weekdays,
    )


@router.get("")
def list_fulfillment_centers(uow: Reader) -> list[dict[str, Any]]:
    return catalog.list_fcs(uow)
