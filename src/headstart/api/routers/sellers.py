from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from headstart.api.deps import Operator, Reader, SellerOrOperator, Uow, seller_scope
from headstart.api.schemas import Code, SellerIn
from headstart.services import sellers

router = APIRouter(prefix="/v1/sellers", tags=["sellers and enrollment (R1)"])


@router.post("", status_code=201)
def create_seller(body: SellerIn, uow: Uow, _: Operator) -> dict[str, Any]:
    """Returns the seller's API key once; only its hash is stored."""
    return sellers.create_seller(uow, body.name, body.email)


@router.get("/{seller_id}/enrollment")
def get_enrollment(seller_id: Code, uow: Reader, principal: SellerOrOperator) -> dict[str, Any]:
    return sellers.get_enrollment(uow, seller_scope(principal, seller_id))


@router.post("/{seller_id}/enrollment")
def enroll(seller_id: Code, uow: Uow, principal: SellerOrOperator) -> dict[str, Any]:
    return sellers.enroll(uow, seller_scope(principal, seller_id))


@router.post("/{seller_id}/enrollment/opt-out")
def opt_out(seller_id: Code, uow: Uow, principal: SellerOrOperator) -> dict[str, Any]:
    """R1: confirmed at once; shipments created 72 h later stop participating."""
    return sellers.opt_out(uow, seller_scope(principal, seller_id))
