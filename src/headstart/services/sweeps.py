"""Work that time alone makes necessary (R9a, R12): the scheduler and the sandbox clock run it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from headstart.services.estimation import EstimatorCache
from headstart.services.fc_load import fc_loads
from headstart.services.policy import load_policy
from headstart.services.refresh import refresh_skus
from headstart.services.repromising import cancel_order_row
from headstart.services.shipments import reestimate
from headstart.services.sku_state import load_fcs
from headstart.store.tables import OrderRow, ProductRow, ShipmentLineRow, ShipmentRow
from headstart.store.uow import UnitOfWork

IN_FLIGHT = ("shipped", "in_transit", "delivered", "checked_in", "receiving")


def run_sweeps(uow: UnitOfWork, estimators: EstimatorCache) -> dict[str, Any]:
    """Expire unconfirmed delays, re-estimate silent shipments, refresh every affected SKU."""
    with uow:
        now = uow.now()
        expired = list(
            uow.session.scalars(
                select(OrderRow).where(
                    OrderRow.status == "promised", OrderRow.consent_due_at <= now
                )
            )
        )
        for order in expired:
            uow.lock_sku(order.sku)
            cancel_order_row(uow.session, order, "delay_not_confirmed", now)  # R9a
        estimator = estimators.current(uow.session)
        shipments = list(
            uow.session.scalars(select(ShipmentRow).where(ShipmentRow.status.in_(IN_FLIGHT)))
        )
        loads = fc_loads(uow.session, now)
        for shipment in shipments:
            reestimate(uow.session, shipment, estimator, now, loads)  # R12: silence informs too
        uow.session.flush()
        skus = set(
            uow.session.scalars(
                select(ShipmentLineRow.sku)
                .join(ShipmentRow, ShipmentRow.id == ShipmentLineRow.shipment_id)
                .where(ShipmentRow.status.in_(IN_FLIGHT))
            )
        )
        skus |= {order.sku for order in expired}
        skus |= set(
            uow.session.scalars(select(ProductRow.sku).where(ProductRow.offer.is_not(None)))
        )
        refresh_skus(
            uow,
            skus,
            now=now,
            policy=load_policy(uow.session),
            estimator=estimator,
            reason="time_passed",
            fcs=load_fcs(uow.session),
        )
        uow.commit()
        return {
            "now": now.isoformat(),
            "delays_expired": len(expired),
            "shipments_reestimated": len(shipments),
            "skus_refreshed": len(skus),
        }
