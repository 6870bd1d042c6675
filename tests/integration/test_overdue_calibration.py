"""A promise whose date passes is a miss known then, not weeks later (section 4).

The sweep records each estimate snapshot whose promise quantile passed with its
shipment not in stock as ``overdue``; every process's calibration moves on it at
once, and the shipment's outcome later closes it without counting the miss twice.
A refit keeps what the calibration learned, as the evaluation's replay does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from headstart.domain.estimate import InStockEstimate
from headstart.domain.estimate.calibrated import CalibratedEstimator
from headstart.services.estimation import EstimatorCache
from headstart.store.tables import CalibrationOutcomeRow, EstimateSnapshotRow, EstimatorModelRow
from tests.integration.checks import at
from tests.integration.conftest import Server
from tests.integration.test_estimator_api import _closed_parcel
from tests.support import T0, Market, expect


def _stored_model_then_a_late_parcel(market: Market) -> str:
    """A stored model fitted on two closed parcels, then parcel LATE shipped and left
    silent for 30 days: far past any promise made for it. Returns the seller."""
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")
    _closed_parcel(market, seller, "H0", start_hours=0)
    _closed_parcel(market, seller, "H1", start_hours=96)
    expect(market.client.post("/v1/estimator/refit", headers=market.operator), 200)
    shipped = at(T0, hours=24 * 10)
    market.set_clock(shipped)
    market.add_shipment(seller, "LATE", {"SKU1": 5}, shipped_at=shipped)
    market.advance(24 * 30)  # the sandbox clock runs the sweeps
    return seller


def _judgements(server: Server, shipment_id: str) -> list[tuple[int, str, Any, Any]]:
    """(snapshot, kind, at, the snapshot's deadline now) of each outcome of the shipment."""
    with server.runtime.reader() as uow:
        rows = uow.session.execute(
            select(
                CalibrationOutcomeRow.snapshot_id,
                CalibrationOutcomeRow.kind,
                CalibrationOutcomeRow.in_stock_at,
                EstimateSnapshotRow.deadline,
            )
            .join(EstimateSnapshotRow, EstimateSnapshotRow.id == CalibrationOutcomeRow.snapshot_id)
            .where(EstimateSnapshotRow.shipment_id == shipment_id)
            .order_by(CalibrationOutcomeRow.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _open_overdue(server: Server, cache: EstimatorCache) -> set[str]:
    with server.runtime.reader() as uow:
        estimator = cache.current(uow.session)
    assert isinstance(estimator, CalibratedEstimator)
    return {key for group in estimator.calibration.groups.values() for key in group.overdue}


def test_section4_a_promise_past_its_date_is_a_miss_known_before_the_shipment_is_in_stock(
    market: Market, server: Server
) -> None:
    _stored_model_then_a_late_parcel(market)

    # The shipping snapshot was judged overdue at its deadline, and is no longer watched
    with server.runtime.reader() as uow:
        snapshot_of_shipping, estimate = uow.session.execute(
            select(EstimateSnapshotRow.id, EstimateSnapshotRow.estimate).where(
                EstimateSnapshotRow.shipment_id == "LATE"
            )
        ).one()
        promised = InStockEstimate.from_dict(estimate).quantile(0.97)
    [(snapshot_id, kind, judged_at, deadline)] = _judgements(server, "LATE")
    assert (snapshot_id, kind, deadline) == (snapshot_of_shipping, "overdue", None)
    assert judged_at == promised
    # Every process's calibration holds it open, this one and a fresh one alike
    assert _open_overdue(server, server.runtime.estimators) == {str(snapshot_id)}
    assert _open_overdue(server, EstimatorCache()) == {str(snapshot_id)}

    # When it is delivered and received at last
    now = at(T0, hours=24 * 40)
    market.set_clock(now)
    market.events(
        {"event_id": "LATE-dlv", "shipment_id": "LATE", "type": "delivered", "occurred_at": now}
    )
    market.receive("LATE", "LATE-r", now, {"SKU1": 5})

    # Then its outcome closes the overdue promise (the miss is not counted again), and
    # the snapshot the delivery made was judged in stock only
    kinds = [kind for _, kind, _, _ in _judgements(server, "LATE")]
    assert kinds == ["overdue", "in_stock", "in_stock"]
    assert _open_overdue(server, server.runtime.estimators) == set()
    assert _open_overdue(server, EstimatorCache()) == set()


def test_section4_an_overdue_promise_whose_shipment_closes_empty_is_forgotten(
    market: Market, server: Server
) -> None:
    _stored_model_then_a_late_parcel(market)
    assert len(_open_overdue(server, server.runtime.estimators)) == 1

    market.close("LATE")  # nothing was ever received

    assert [kind for _, kind, _, _ in _judgements(server, "LATE")] == ["overdue", "never"]
    assert _open_overdue(server, server.runtime.estimators) == set()
    market.advance(24)  # the sweep finds nothing left to judge
    assert len(_judgements(server, "LATE")) == 2


def test_section4_a_refit_keeps_what_the_calibration_learned_since_the_last_fit(
    market: Market, server: Server
) -> None:
    seller = _stored_model_then_a_late_parcel(market)
    _closed_parcel(market, seller, "H2", start_hours=24 * 45)  # a close: the refit is due
    with server.runtime.reader() as uow:
        learned = EstimatorCache().current(uow.session)
    assert isinstance(learned, CalibratedEstimator)

    expect(market.client.post("/v1/estimator/refit", headers=market.operator), 200)

    with server.runtime.reader() as uow:
        history_count, body = uow.session.execute(
            select(EstimatorModelRow.history_count, EstimatorModelRow.body)
            .order_by(EstimatorModelRow.id.desc())
            .limit(1)
        ).one()
    assert history_count == 3
    assert body["calibration"] == learned.to_dict()["calibration"]
    assert _open_overdue(server, server.runtime.estimators) == _open_overdue(
        server, EstimatorCache()
    )
