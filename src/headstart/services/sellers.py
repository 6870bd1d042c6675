"""Sellers and their enrollment (R1)."""

from __future__ import annotations

from typing import Any

from headstart.domain import notifications
from headstart.domain.enrollment import Enrollment
from headstart.domain.errors import NotFound
from headstart.services.ids import new_id
from headstart.services.keys import SELLER, issue_key
from headstart.services.outbox import enqueue
from headstart.services.policy import load_policy
from headstart.store.mappers import enrollment_of
from headstart.store.tables import SellerRow
from headstart.store.uow import UnitOfWork


def create_seller(uow: UnitOfWork, name: str, email: str) -> dict[str, Any]:
    with uow:
        now = uow.now()
        seller = SellerRow(
            id=new_id("sel"),
            name=name,
            email=email,
            enrollment=Enrollment().to_dict(),
            shrink=str(load_policy(uow.session).default_shrink),
            closed_units_shipped=0,
            closed_units_received=0,
            created_at=now,
        )
        uow.session.add(seller)
        uow.session.flush()
        key = issue_key(uow.session, uow.key_secret, SELLER, name, now, seller_id=seller.id)
        uow.commit()
        return {"seller_id": seller.id, "name": name, "email": email, "api_key": key}


def _seller(uow: UnitOfWork, seller_id: str) -> SellerRow:
    seller = uow.session.get(SellerRow, seller_id)
    if seller is None:
        raise NotFound(f"no seller {seller_id!r}", {"seller_id": seller_id})
    return seller


def _view(seller: SellerRow, enrollment: Enrollment, uow: UnitOfWork) -> dict[str, Any]:
    effective = enrollment.effective_for_shipments_created_from
    return {
        "seller_id": seller.id,
        "state": enrollment.state_at(uow.now()).value,
        "enrolled_at": enrollment.enrolled_at.isoformat() if enrollment.enrolled_at else None,
        "opt_out_confirmed_at": (
            enrollment.opt_out_confirmed_at.isoformat() if enrollment.opt_out_confirmed_at else None
        ),
        "opt_out_effective_for_shipments_created_from": effective.isoformat()
        if effective
        else None,
        "shrink": seller.shrink,
    }


def get_enrollment(uow: UnitOfWork, seller_id: str) -> dict[str, Any]:
    with uow:
        seller = _seller(uow, seller_id)
        return _view(seller, enrollment_of(seller), uow)


def enroll(uow: UnitOfWork, seller_id: str) -> dict[str, Any]:
    with uow:
        seller = _seller(uow, seller_id)
        enrollment = enrollment_of(seller).enroll(uow.now())
        seller.enrollment = enrollment.to_dict()
        view = _view(seller, enrollment, uow)
        uow.commit()
        return view


def opt_out(uow: UnitOfWork, seller_id: str) -> dict[str, Any]:
    """R1: confirmed at once; the confirmation e-mail is queued in the same transaction."""
    with uow:
        seller = _seller(uow, seller_id)
        now = uow.now()
        enrollment = enrollment_of(seller).opt_out(now)
        seller.enrollment = enrollment.to_dict()
        enqueue(uow.session, notifications.opt_out_confirmation(seller.id, seller.email, now), now)
        view = _view(seller, enrollment, uow)
        uow.commit()
        return view
