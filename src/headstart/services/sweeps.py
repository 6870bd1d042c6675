"""Work that time alone makes necessary (R9a, R12): the scheduler and the sandbox clock run it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.policy import Policy
from headstart.domain.supply import is_placement_changed, is_suppressed
from headstart.services.estimation import EstimatorCache, record_overdue
from headstart.services.fc_load import fc_loads
from headstart.services.policy import load_policy
from headstart.services.refresh import refresh_skus
from headstart.services.repromising import cancel_order_row
from headstart.services.shipments import reestimate
from headstart.services.sku_state import load_fcs, recent_on_time_of
from headstart.store.mappers import estimate_of
from headstart.store.tables import OrderRow, SellerRow, ShipmentLineRow, ShipmentRow
from headstart.store.uow import UnitOfWork

IN_FLIGHT = ("shipped", "in_transit", "delivered", "checked_in", "receiving")


def run_sweeps(uow: UnitOfWork, estimators: EstimatorCache) -> dict[str, Any]:
    """Expire unconfirmed delays, re-estimate in-flight shipments, refresh the SKUs that
    time changed.

    A SKU is refreshed (re-promised, its offer published) only when time changed what
    its promises or offer rest on: an order's delay expired (R9a), a lot's dates or
    horizon test moved with its shipment's new estimate (R9, R10, R12), a waiting
    order's promised in-stock date has passed, or its seller's R4 suppression turned
    (through other SKUs' orders). Time alone changes nothing else: a SKU with only stock
    on hand keeps its offer (its in-stock date is always "today").
    """
    with uow:
        now = uow.now()
        session = uow.session
        expired = list(
            session.scalars(
                select(OrderRow).where(
                    OrderRow.status == "promised", OrderRow.consent_due_at <= now
                )
            )
        )
        for order in expired:
            uow.lock_sku(order.sku)
            cancel_order_row(session, order, "delay_not_confirmed", now)  # R9a
        estimator = estimators.current(session)
        # After ``current``: this process applies them with the rest, once committed.
        overdue = record_overdue(session, now)
        policy = load_policy(session)
        fcs = load_fcs(session)
        shipments = list(
            session.scalars(select(ShipmentRow).where(ShipmentRow.status.in_(IN_FLIGHT)))
        )
        loads = fc_loads(session, now)
        moved: list[str] = []
        for shipment in shipments:
            before = estimate_of(shipment)
            reestimate(session, shipment, estimator, now, loads)  # R12: silence informs too
            after = estimate_of(shipment)
            fc = fcs.get(shipment.destination_fc)
            if after is None or fc is None:
                continue
            if is_placement_changed(fc, before, after, policy, now):
                moved.append(shipment.id)
        session.flush()
        skus = set(_line_skus(session, moved))
        skus |= {order.sku for order in expired}
        skus |= overdue_skus(session, fcs, now)
        skus |= _inbound_skus_of(session, judged_anew(session, fcs, policy))
        refresh_skus(
            uow,
            skus,
            now=now,
            policy=policy,
            estimator=estimator,
            reason="time_passed",
            fcs=fcs,
        )
        uow.commit()
        return {
            "now": now.isoformat(),
            "delays_expired": len(expired),
            "shipments_reestimated": len(shipments),
            "promises_overdue": overdue,
            "skus_refreshed": len(skus),
        }


_CHUNK = 500  # ids per IN list


def judged_anew(session: Session, fcs: dict[str, FulfillmentCenter], policy: Policy) -> list[str]:
    """R4: sellers with inbound supply whose suppression this sweep judges otherwise than
    the last one did (their record changed through other SKUs' orders meanwhile)."""
    sellers = session.scalars(
        select(SellerRow).where(
            SellerRow.id.in_(select(ShipmentRow.seller_id).where(ShipmentRow.status.in_(IN_FLIGHT)))
        )
    ).all()
    changed = []
    for seller in sellers:
        suppressed = is_suppressed(recent_on_time_of(session, seller.id, fcs, policy), policy)
        if suppressed != seller.head_start_suppressed:
            seller.head_start_suppressed = suppressed
            changed.append(seller.id)
    return changed


def _inbound_skus_of(session: Session, seller_ids: list[str]) -> set[str]:
    """The SKUs of the sellers' in-flight shipments: the ones R4 can hold back."""
    if not seller_ids:
        return set()
    return set(
        session.scalars(
            select(ShipmentLineRow.sku)
            .join(ShipmentRow, ShipmentRow.id == ShipmentLineRow.shipment_id)
            .where(ShipmentRow.status.in_(IN_FLIGHT), ShipmentRow.seller_id.in_(seller_ids))
        )
    )


def _line_skus(session: Session, shipment_ids: list[str]) -> Iterable[str]:
    for start in range(0, len(shipment_ids), _CHUNK):
        yield from session.scalars(
            select(ShipmentLineRow.sku).where(
                ShipmentLineRow.shipment_id.in_(shipment_ids[start : start + _CHUNK])
            )
        )


def overdue_skus(session: Session, fcs: dict[str, FulfillmentCenter], now: datetime) -> set[str]:
    """SKUs with a waiting order whose promised in-stock date has passed at its FC (R9)."""
    skus: set[str] = set()
    for code, fc in fcs.items():
        skus.update(
            session.scalars(
                select(OrderRow.sku)
                .where(OrderRow.status == "promised", OrderRow.fc == code)
                .where(OrderRow.promised_in_stock_date < fc.local_date(now))
                .distinct()
            )
        )
    return skus
