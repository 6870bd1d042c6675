"""Inbound shipments: create, ship, read (R2, R4, R5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from headstart.domain.errors import Conflict, Forbidden, InvalidRequest, NotFound
from headstart.domain.estimate import InStockEstimator
from headstart.domain.supply import ELIGIBLE_PROGRAMS, participation
from headstart.services.estimation import EstimatorCache, record_snapshot
from headstart.services.fc_load import FcLoad, FcLoads, fc_loads
from headstart.services.policy import load_policy
from headstart.services.refresh import refresh_skus
from headstart.services.sku_state import current_estimate
from headstart.store.mappers import enrollment_of, facts_of, fc_from_row, progress_of
from headstart.store.tables import (
    FulfillmentCenterRow,
    ProductRow,
    SellerRow,
    ShipmentLineRow,
    ShipmentRow,
    StockRow,
)
from headstart.store.uow import UnitOfWork


def create_shipment(
    uow: UnitOfWork,
    *,
    seller_id: str,
    shipment_id: str,
    destination_fc: str,
    carrier_program: str,
    mode: str,
    carrier: str,
    tracking_ids: list[str],
    origin: str,
    created_at: datetime | None,
    lines: list[tuple[str, int]],
) -> dict[str, Any]:
    skus = [sku for sku, _ in lines]
    if len(set(skus)) != len(skus):
        raise InvalidRequest("each SKU may appear on one line only", {"skus": skus})
    with uow:
        now = uow.now()
        if created_at is not None and created_at > now:
            raise InvalidRequest("created_at lies in the future", {"created_at": str(created_at)})
        if uow.session.get(SellerRow, seller_id) is None:
            raise NotFound(f"no seller {seller_id!r}", {"seller_id": seller_id})
        if uow.session.get(FulfillmentCenterRow, destination_fc) is None:
            raise NotFound(f"no FC {destination_fc!r}", {"destination_fc": destination_fc})
        if uow.session.get(ShipmentRow, shipment_id) is not None:
            raise Conflict(f"shipment {shipment_id!r} already exists", {"shipment_id": shipment_id})
        for sku in skus:
            product = uow.session.get(ProductRow, sku)
            if product is None:
                raise NotFound(f"no product with SKU {sku!r}", {"sku": sku})
            if product.seller_id != seller_id:
                raise Forbidden(f"SKU {sku!r} belongs to another seller", {"sku": sku})
        shipment = ShipmentRow(
            id=shipment_id,
            seller_id=seller_id,
            destination_fc=destination_fc,
            carrier_program=carrier_program,
            mode=mode,
            carrier=carrier,
            tracking_ids=list(tracking_ids),
            # Programs run by the marketplace validate their ids themselves (R2a).
            tracking_validated=carrier_program in ELIGIBLE_PROGRAMS,
            origin=origin,
            status="working",
            created_at=created_at or now,
        )
        uow.session.add(shipment)
        uow.session.flush()  # the lines refer to it
        for sku, quantity in lines:
            uow.session.add(
                ShipmentLineRow(shipment_id=shipment_id, sku=sku, quantity_shipped=quantity)
            )
            if uow.session.get(StockRow, (sku, destination_fc)) is None:
                uow.session.add(StockRow(sku=sku, fc=destination_fc, sellable=0, allocated=0))
        uow.session.flush()
        view = shipment_view(uow, shipment, None, now)
        uow.commit()
        return view


def owned_shipment(
    uow: UnitOfWork, shipment_id: str, seller_id: str | None, *, lock: bool = True
) -> ShipmentRow:
    """The shipment, locked for the rest of the transaction unless only read."""
    shipment = (
        uow.lock_shipments([shipment_id]).get(shipment_id)
        if lock
        else uow.session.get(ShipmentRow, shipment_id)
    )
    if shipment is None or (seller_id is not None and shipment.seller_id != seller_id):
        raise NotFound(f"no shipment {shipment_id!r}", {"shipment_id": shipment_id})
    return shipment


def line_skus(uow: UnitOfWork, shipment_id: str) -> list[str]:
    return list(
        uow.session.scalars(
            select(ShipmentLineRow.sku).where(ShipmentLineRow.shipment_id == shipment_id)
        )
    )


def reestimate(
    session: Session,
    shipment: ShipmentRow,
    estimator: InStockEstimator,
    now: datetime,
    loads: FcLoads,
    *,
    snapshot: bool = False,
) -> None:
    """R9/R12: a fresh estimate from what is known now, stored with its model version.

    ``snapshot`` keeps it for calibration too: on shipping and on each tracking
    event, the instants the model is evaluated at (section 4); not on the
    scheduler's re-estimates of silent shipments, which would weigh a slow
    shipment by how long it was silent.
    """
    if shipment.shipped_at is None or shipment.status in ("closed", "cancelled"):
        return
    load = loads.get(shipment.destination_fc, FcLoad())
    progress = progress_of(shipment, (load.backlog, load.deliveries_7d), load.arrivals)
    estimate = estimator.estimate(progress, now)
    shipment.estimate = estimate.to_dict()
    if snapshot and shipment.in_stock_at is None:
        record_snapshot(session, shipment.id, progress, estimate)


def ship_shipment(
    uow: UnitOfWork,
    estimators: EstimatorCache,
    shipment_id: str,
    shipped_at: datetime,
    seller_id: str | None,
) -> dict[str, Any]:
    with uow:
        now = uow.now()
        shipment = owned_shipment(uow, shipment_id, seller_id)
        if shipment.status != "working":
            raise Conflict(f"shipment {shipment_id} is already {shipment.status}")
        if shipped_at > now:
            raise InvalidRequest("shipped_at lies in the future", {"shipped_at": str(shipped_at)})
        if shipped_at < shipment.created_at:
            raise InvalidRequest("shipped_at is before the shipment was created")
        shipment.status = "shipped"
        shipment.shipped_at = shipped_at
        estimator = estimators.current(uow.session)
        loads = fc_loads(uow.session, now, shipment.destination_fc)
        reestimate(uow.session, shipment, estimator, now, loads, snapshot=True)
        uow.session.flush()
        refresh_skus(
            uow,
            line_skus(uow, shipment_id),
            now=now,
            policy=load_policy(uow.session),
            estimator=estimator,
            reason="shipment_shipped",
        )
        view = shipment_view(uow, shipment, estimator, now)
        uow.commit()
        return view


def get_shipment(
    uow: UnitOfWork, estimators: EstimatorCache, shipment_id: str, seller_id: str | None
) -> dict[str, Any]:
    with uow:
        shipment = owned_shipment(uow, shipment_id, seller_id, lock=False)
        return shipment_view(uow, shipment, estimators.current(uow.session), uow.now())


def shipment_view(
    uow: UnitOfWork,
    shipment: ShipmentRow,
    estimator: InStockEstimator | None,
    now: datetime,
) -> dict[str, Any]:
    session = uow.session
    seller = session.get(SellerRow, shipment.seller_id)
    assert seller is not None
    policy = load_policy(session)
    taking_part = participation(facts_of(shipment), enrollment_of(seller), policy)
    lines = session.scalars(
        select(ShipmentLineRow).where(ShipmentLineRow.shipment_id == shipment.id)
    ).all()
    estimate_view: dict[str, Any] | None = None
    if (
        shipment.shipped_at is not None
        and estimator is not None
        and shipment.status
        not in (
            "closed",
            "cancelled",
        )
    ):
        estimate = current_estimate(shipment, estimator, now)
        quantile = policy.q if estimate.basis == "history" else policy.fallback_q
        fc_row = session.get(FulfillmentCenterRow, shipment.destination_fc)
        assert fc_row is not None  # a foreign key
        fc = fc_from_row(fc_row)
        estimate_view = {
            "p50": estimate.p50.isoformat(),
            "p90": estimate.p90.isoformat(),
            "p97": estimate.p97.isoformat(),
            "p99": estimate.p99.isoformat(),
            "promised_quantile": quantile,
            "promised_in_stock_date": fc.local_date(estimate.quantile(quantile)).isoformat(),
            "model": estimate.model_version,
            "basis": estimate.basis,
            "computed_at": estimate.computed_at.isoformat(),
        }
    return {
        "shipment_id": shipment.id,
        "seller_id": shipment.seller_id,
        "destination_fc": shipment.destination_fc,
        "carrier_program": shipment.carrier_program,
        "mode": shipment.mode,
        "carrier": shipment.carrier,
        "tracking_ids": shipment.tracking_ids,
        "tracking_validated": shipment.tracking_validated,
        "origin": shipment.origin,
        "status": shipment.status,
        "exception_reason": shipment.exception_reason,
        "created_at": shipment.created_at.isoformat(),
        "shipped_at": shipment.shipped_at.isoformat() if shipment.shipped_at else None,
        "last_milestone": shipment.last_milestone,
        "carrier_eta": shipment.carrier_eta.isoformat() if shipment.carrier_eta else None,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity_shipped,
                "quantity_received": line.quantity_received,
            }
            for line in lines
        ],
        "participation": {
            "participates": taking_part.participates,
            "reasons": list(taking_part.reasons),
        },
        "estimate": estimate_view,
    }
