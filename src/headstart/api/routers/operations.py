"""Operator endpoints: storefront keys, policy, the outbox and the sandbox clock."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from headstart.api.deps import Estimators, Operator, Reader, Uow
from headstart.api.schemas import MAX_ROW_ID, ClockIn, PolicyIn, StorefrontKeyIn
from headstart.services import keys, notifications, policy, sandbox

router = APIRouter(tags=["operations"])
sandbox_router = APIRouter(tags=["sandbox"])


@router.post("/v1/storefront-keys", status_code=201)
def create_storefront_key(body: StorefrontKeyIn, uow: Uow, _: Operator) -> dict[str, Any]:
    return {"name": body.name, "api_key": keys.create_storefront_key(uow, body.name)}


@router.get("/v1/policy")
def get_policy(uow: Reader, _: Operator) -> dict[str, Any]:
    return policy.get_policy(uow).to_dict()


@router.patch("/v1/policy")
def update_policy(body: PolicyIn, uow: Uow, estimators: Estimators, _: Operator) -> dict[str, Any]:
    return policy.update_policy(uow, estimators, body.model_dump(exclude_none=True)).to_dict()


@router.get("/v1/notifications")
def list_notifications(
    uow: Reader,
    _: Operator,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """R15: the outbox with each notification's delivery state."""
    return notifications.list_notifications(uow, kind=kind, after_id=after_id, limit=limit)


@sandbox_router.post("/v1/sandbox/clock")
def move_clock(body: ClockIn, uow: Uow, estimators: Estimators, _: Operator) -> dict[str, Any]:
    return sandbox.move_clock(
        uow, estimators, now=body.now, advance_hours=body.advance_hours, rate=body.rate
    )


@sandbox_router.get("/v1/sandbox/clock")
def read_clock(uow: Reader) -> dict[str, Any]:
    with uow:
        return {"now": uow.now().isoformat()}
