from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from headstart.api.deps import Estimators, Offers, Operator, Reader, RuntimeDep
from headstart.api.schemas import CODE_PATTERN, PRINTABLE, Code
from headstart.observability.metrics import record_offer
from headstart.services import offers

router = APIRouter(tags=["offers and search"])
PRINTABLE_OR_EMPTY = f"(?:{PRINTABLE})|^$"

Region = Annotated[
    str | None,
    Query(max_length=64, pattern=CODE_PATTERN, description="the buyer's region"),
]
Quantity = Annotated[int, Query(ge=1, le=1_000_000)]


@router.get("/v1/offers/{sku}")
def get_offer(
    sku: Code,
    runtime: RuntimeDep,
    estimators: Estimators,
    cache: Offers,
    region: Region = None,
    quantity: Quantity = 1,
) -> dict[str, Any]:
    """Public. R18: a date is shown only when the promise is confident."""
    # The unit of work is made here, not by a ``Reader`` dependency: FastAPI would run
    # that in its thread pool, a hop costing more than an offer kept in memory.
    view = offers.get_offer(
        runtime.reader(), estimators, sku, region=region, quantity=quantity, cache=cache
    )
    record_offer(view)
    return view


@router.get("/v1/offers/{sku}/explain")
def explain_offer(
    sku: Code,
    uow: Reader,
    estimators: Estimators,
    _: Operator,
    region: Region = None,
    quantity: Quantity = 1,
) -> dict[str, Any]:
    """R17: why this SKU is or is not buyable, and why this date: every input."""
    return offers.get_offer(uow, estimators, sku, region=region, quantity=quantity, explain=True)


@router.get("/v1/search")
def search(
    uow: Reader,
    estimators: Estimators,
    cache: Offers,
    q: Annotated[str, Query(max_length=200, pattern=PRINTABLE_OR_EMPTY)] = "",
    region: Region = None,
) -> dict[str, Any]:
    return offers.search(uow, estimators, q, region=region, cache=cache)
