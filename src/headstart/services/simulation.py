"""What the marketplace simulator needs beyond the API's use cases.

- ``set_clock``: move the sandbox clock without running the sweeps, as the clock of a
  live sandbox runs on between two scheduler ticks (the simulator sweeps once per
  simulated day with ``sandbox.move_clock``).
- ``install_estimator``: store an in-stock model fitted elsewhere (on an imported or
  generated history) as the one in use, as ``refit_model`` stores one fitted on the
  database's own closed shipments.
- ``open_catalog``: the opening catalogue in one transaction, as ``catalog.put_product``
  and an ``opening_stock`` ``catalog.adjust_inventory`` per product would leave it
  (thousands of products: one refresh for all instead of two transactions each).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from headstart.domain.errors import InvalidRequest
from headstart.domain.estimate.calibrated import CalibratedEstimator
from headstart.services.estimation import EstimatorCache
from headstart.services.estimator_on_demand import EstimatorOnDemand
from headstart.services.policy import load_policy
from headstart.services.refresh import refresh_skus
from headstart.store.tables import EstimatorModelRow, ProductRow, SettingRow, StockRow
from headstart.store.uow import SANDBOX_CLOCK_KEY, UnitOfWork


def set_clock(uow: UnitOfWork, now: datetime, *, rate: float = 0.0) -> None:
    """Set the sandbox clock to ``now`` (never backwards); the sweeps are not run."""
    with uow:
        current = uow.now()
        row = uow.session.get(SettingRow, SANDBOX_CLOCK_KEY)
        if row is not None and now < current:
            raise InvalidRequest(
                "the clock never runs backwards",
                {"now": current.isoformat(), "requested": now.isoformat()},
            )
        value = {"now": now.isoformat(), "set_at": uow.real_now().isoformat(), "rate": rate}
        uow.session.merge(SettingRow(key=SANDBOX_CLOCK_KEY, value=value))
        uow.commit()


def install_estimator(uow: UnitOfWork, estimator: CalibratedEstimator, history_count: int) -> str:
    """Store ``estimator`` as the model in use; returns its version."""
    with uow:
        uow.session.add(
            EstimatorModelRow(
                version=estimator.version,
                fitted_at=uow.now(),
                history_count=history_count,
                outcomes_upto=0,
                body=estimator.to_dict(),
            )
        )
        uow.commit()
    return estimator.version


@dataclass(frozen=True)
class OpeningProduct:
    """A product of the opening catalogue and the units it starts with at its FC."""

    sku: str
    seller_id: str
    title: str
    price_minor: int  # integer minor units
    currency: str
    fc: str
    units: int  # sellable at ``fc``; 0: none yet


def open_catalog(
    uow: UnitOfWork, estimators: EstimatorCache, products: Sequence[OpeningProduct]
) -> None:
    """Create new products with their opening stock and publish their offers (R16)."""
    with uow:
        now = uow.now()
        for item in products:
            uow.session.add(
                ProductRow(
                    sku=item.sku,
                    seller_id=item.seller_id,
                    title=item.title,
                    price_minor=item.price_minor,
                    currency=item.currency,
                    head_start_excluded=False,
                    head_start_cap=None,
                    offer_seq=0,
                    updated_at=now,
                )
            )
        uow.session.flush()  # stock refers to its product
        for item in products:
            if item.units > 0:
                uow.session.add(
                    StockRow(sku=item.sku, fc=item.fc, sellable=item.units, allocated=0)
                )
        uow.session.flush()
        refresh_skus(
            uow,
            [item.sku for item in products],
            now=now,
            policy=load_policy(uow.session),
            estimator=EstimatorOnDemand(estimators, uow.session),
            reason="inventory_adjustment:opening_stock",
        )
        uow.commit()
