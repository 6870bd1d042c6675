"""The stored, versioned in-stock model and its online calibration, through the API (section 4).

A fitted model is stored and used by every request until the next fit; the
estimates a promise could rest on are kept, and once their shipment is in stock
they become outcomes that the model's calibration learns from, in every process.
"""

from __future__ import annotations

from sqlalchemy import func, select

from headstart.services.estimation import EstimatorCache
from headstart.store.tables import (
    CalibrationOutcomeRow,
    EstimateSnapshotRow,
    EstimatorModelRow,
    ShipmentRow,
)
from tests.integration.checks import at, shipment_of
from tests.integration.conftest import Server
from tests.support import T0, Market, expect


def _count(server: Server, table: type) -> int:
    with server.runtime.reader() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


def _closed_parcel(market: Market, seller: str, shipment_id: str, start_hours: float) -> None:
    """A parcel shipped, tracked, delivered, received and closed, the clock moving along."""
    start = at(T0, hours=start_hours)
    market.set_clock(start)
    market.add_shipment(seller, shipment_id, {"SKU1": 10}, shipped_at=start)
    market.set_clock(at(start, hours=50))
    market.events(
        {
            "event_id": f"{shipment_id}-out",
            "shipment_id": shipment_id,
            "type": "out_for_delivery",
            "occurred_at": at(start, hours=40),
            "carrier_eta": at(start, hours=48),
        },
        {
            "event_id": f"{shipment_id}-dlv",
            "shipment_id": shipment_id,
            "type": "delivered",
            "occurred_at": at(start, hours=50),
        },
    )
    market.set_clock(at(start, hours=80))
    market.receive(shipment_id, f"{shipment_id}-r", at(start, hours=80), {"SKU1": 10})
    market.close(shipment_id)


def _three_closed_parcels(market: Market) -> str:
    """A seller's SKU1 and three parcels of it, each closed before the next ships; the
    seller's id."""
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")
    for i in range(3):
        _closed_parcel(market, seller, f"H{i}", start_hours=i * 96)
    return seller


def test_section4_a_refit_stores_the_model_every_request_then_uses(
    market: Market, server: Server
) -> None:
    seller = _three_closed_parcels(market)
    before = expect(market.client.get("/v1/estimator", headers=market.operator), 200)
    assert before["stored"] is False  # fitted in memory until the first stored fit

    fitted = expect(market.client.post("/v1/estimator/refit", headers=market.operator), 200)

    info = expect(market.client.get("/v1/estimator", headers=market.operator), 200)
    assert info["stored"] is True
    assert info["version"] == fitted["version"] == before["version"]  # same history, same model
    assert info["history_count"] == fitted["history_count"] == 3
    market.set_clock(at(T0, hours=24 * 14))
    market.add_shipment(seller, "NEW", {"SKU1": 5}, shipped_at=at(T0, hours=24 * 14))
    assert shipment_of(market, "NEW")["estimate"]["model"] == fitted["version"]


def test_section4_the_model_learns_from_each_closed_shipment_with_its_events(
    market: Market,
) -> None:
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")
    _closed_parcel(market, seller, "H0", start_hours=0)
    first = expect(market.client.get("/v1/estimator", headers=market.operator), 200)["version"]
    _closed_parcel(market, seller, "H1", start_hours=96)
    second = expect(market.client.get("/v1/estimator", headers=market.operator), 200)["version"]
    assert "history-1-" in first and "history-2-" in second


def test_section4_estimates_on_shipping_and_events_become_outcomes_once_in_stock(
    market: Market, server: Server
) -> None:
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")
    _closed_parcel(market, seller, "H0", start_hours=0)

    # Shipping, then one batch of two events: two snapshots, each half an outcome.
    assert _count(server, EstimateSnapshotRow) == 2
    with server.runtime.reader() as uow:
        weights = list(uow.session.scalars(select(CalibrationOutcomeRow.weight)))
    assert weights == [0.5, 0.5]


def test_r12_the_schedulers_reestimates_are_not_calibration_snapshots(
    market: Market, server: Server
) -> None:
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")
    market.add_shipment(seller, "SH1", {"SKU1": 10}, shipped_at=T0)
    market.advance(48)  # the sandbox clock runs the sweeps: SH1 re-estimated
    assert _count(server, EstimateSnapshotRow) == 1


def _three_parcels_closed_after_a_fit(market: Market) -> None:
    """A stored model fitted on one closed parcel, then three more closed after it: their
    outcomes are what the calibration learns from."""
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")
    _closed_parcel(market, seller, "H0", start_hours=0)
    expect(market.client.post("/v1/estimator/refit", headers=market.operator), 200)
    for i in range(1, 4):
        _closed_parcel(market, seller, f"H{i}", start_hours=i * 96)


def test_section4_every_process_applies_the_same_outcomes_to_the_stored_model(
    market: Market, server: Server
) -> None:
    _three_parcels_closed_after_a_fit(market)
    info = expect(market.client.get("/v1/estimator", headers=market.operator), 200)
    assert info["outcomes_since_fit"] == 6  # three shipments, two snapshots each

    live = server.runtime.estimators
    fresh = EstimatorCache()  # another process, or this one after a restart
    with server.runtime.reader() as uow:
        live_model = live.current(uow.session)
        fresh_model = fresh.current(uow.session)
        milestones = uow.session.scalar(
            select(ShipmentRow.milestones).where(ShipmentRow.id == "H3")
        )
    assert live_model.to_dict() == fresh_model.to_dict()  # type: ignore[attr-defined]
    assert live_model.calibration.groups  # type: ignore[attr-defined]
    assert milestones is not None


def test_section4_an_outcome_committed_after_a_higher_one_is_still_applied_once(
    market: Market, server: Server
) -> None:
    # Given a stored model and outcomes after it, of which two are not committed yet
    # as another process reads them: one with a lower id than the ones it sees (on
    # PostgreSQL a lower id can commit later) and the newest one
    _three_parcels_closed_after_a_fit(market)
    with server.runtime.engine.begin() as connection:
        fitted_upto = connection.scalar(select(EstimatorModelRow.outcomes_upto))
        ids = list(
            connection.scalars(
                select(CalibrationOutcomeRow.id)
                .where(CalibrationOutcomeRow.id > fitted_upto)
                .order_by(CalibrationOutcomeRow.id)
            )
        )
        held = [
            dict(row._mapping)
            for row in connection.execute(
                select(CalibrationOutcomeRow.__table__).where(
                    CalibrationOutcomeRow.id.in_([ids[0], ids[-1]])
                )
            )
        ]
        connection.execute(
            CalibrationOutcomeRow.__table__.delete().where(
                CalibrationOutcomeRow.id.in_([ids[0], ids[-1]])
            )
        )
    reader = EstimatorCache()
    with server.runtime.reader() as uow:
        model = reader.current(uow.session)
    observed: list[float] = []
    observe = model.observe  # type: ignore[attr-defined]

    def spy(
        progress: object, estimate: object, in_stock_at: object, weight: float, key: str
    ) -> None:
        observed.append(weight)
        observe(progress, estimate, in_stock_at, weight, key)

    model.observe = spy  # type: ignore[attr-defined]

    # When both commit, and the process reads the model again (twice)
    with server.runtime.engine.begin() as connection:
        connection.execute(CalibrationOutcomeRow.__table__.insert(), held)
    with server.runtime.reader() as uow:
        reader.current(uow.session)
        reader.current(uow.session)

    # Then it applied exactly those two, once each
    assert observed == [row["weight"] for row in sorted(held, key=lambda row: row["id"])]


def test_section4_progress_carries_milestones_and_the_carriers_first_eta(
    market: Market, server: Server
) -> None:
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")
    market.add_shipment(seller, "SH1", {"SKU1": 10}, shipped_at=T0)
    market.advance(30)
    market.events(
        {
            "event_id": "e1",
            "shipment_id": "SH1",
            "type": "in_transit",
            "occurred_at": at(T0, hours=10),
            "carrier_eta": at(T0, hours=48),
        },
        {
            "event_id": "e2",
            "shipment_id": "SH1",
            "type": "delayed",
            "occurred_at": at(T0, hours=20),
            "carrier_eta": at(T0, hours=96),
        },
        {
            "event_id": "e3",
            "shipment_id": "SH1",
            "type": "in_transit",
            "occurred_at": at(T0, hours=25),
        },
    )
    with server.runtime.reader() as uow:
        shipment = uow.session.get(ShipmentRow, "SH1")
        assert shipment is not None
        assert shipment.milestones == {"in_transit": at(T0, hours=10)}  # the first reach
        assert shipment.first_carrier_eta is not None
        assert shipment.first_carrier_eta.isoformat() == at(T0, hours=48)
        assert shipment.carrier_eta is not None
        assert shipment.carrier_eta.isoformat() == at(T0, hours=96)


def test_section4_a_refit_in_a_young_peak_knows_how_young_the_peak_is(
    market: Market, server: Server
) -> None:
    # Given closed parcels, and the service's clock a week into peak (mid-October on)
    _three_closed_parcels(market)
    market.set_clock("2026-10-22T12:00:00Z")

    expect(market.client.post("/v1/estimator/refit", headers=market.operator), 200)

    # Then the stored model takes part of peak receiving from the published figures,
    # since the peak's own slow receipts cannot have closed yet
    with server.runtime.reader() as uow:
        body = uow.session.scalars(select(EstimatorModelRow.body)).one()
    assert body["model"]["young_peak"] > 0.5
