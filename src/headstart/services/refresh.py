"""After any change to a SKU's supply: re-promise (R9/R10), then publish its offer (R16)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from headstart.domain.calendar import FulfillmentCenter
from headstart.domain.estimate import InStockEstimator
from headstart.domain.policy import Policy
from headstart.services.publishing import publish_if_changed
from headstart.services.repromising import repromise
from headstart.services.sku_state import SkuState, load_sku_state
from headstart.store.uow import UnitOfWork


def refresh_skus(
    uow: UnitOfWork,
    skus: Iterable[str],
    *,
    now: datetime,
    policy: Policy,
    estimator: InStockEstimator,
    reason: str,
    fcs: dict[str, FulfillmentCenter] | None = None,
) -> list[SkuState]:
    """Lock each SKU in a fixed order (no deadlocks between use cases), then refresh it."""
    states = []
    for sku in sorted(set(skus)):
        product = uow.lock_sku(sku)
        if product is None:
            continue
        state = load_sku_state(
            uow.session, product, now=now, policy=policy, estimator=estimator, fcs=fcs
        )
        refresh_state(uow.session, state, policy, now, reason)
        states.append(state)
    return states


def refresh_state(
    session: Session, state: SkuState, policy: Policy, now: datetime, reason: str
) -> None:
    repromise(session, state, policy, now, reason)
    publish_if_changed(session, state, policy, now)
