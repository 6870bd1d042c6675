"""The live refit fits on what the evaluation's refit fits on: every delivery made so far,
the ones not yet in stock as "receiving longer than so far" (DESIGN.md section 4)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from headstart.domain.estimate import ClosedShipment, HistoryEvent
from headstart.domain.estimate.calibrated import CalibratedEstimator
from headstart.domain.estimate.fc_load import FcLoadIndex
from headstart.domain.estimate.milestone_fit import fit_milestone_model
from headstart.services.estimation import load_history, refit_model
from headstart.store.tables import (
    EstimatorModelRow,
    SettingRow,
    ShipmentLineRow,
    ShipmentRow,
    TrackingEventRow,
)
from headstart.store.uow import SANDBOX_CLOCK_KEY
from tests.integration.conftest import Server
from tests.support import Market

DAY = timedelta(days=1)
PEAK_START = datetime(2026, 10, 15, tzinfo=UTC)
NOW = PEAK_START + 7 * DAY  # a week into peak
LATER = NOW + 30 * DAY  # when the open deliveries come into stock, unknown at NOW


def _parcel(
    seller: str, i: int, shipped_at: datetime, receiving_days: float, *, open_at_now: bool
) -> tuple[ShipmentRow, ShipmentLineRow, TrackingEventRow]:
    delivered = shipped_at + 2 * DAY
    in_stock = None if open_at_now else delivered + receiving_days * DAY
    row = ShipmentRow(
        id=f"S{i:05d}",
        seller_id=seller,
        destination_fc="LAX1",
        carrier_program="partnered_carrier",
        mode="parcel",
        carrier="UPS",
        tracking_ids=[f"T{i:05d}"],
        origin="US-OH",
        status="receiving" if open_at_now else "closed",
        created_at=shipped_at - DAY,
        shipped_at=shipped_at,
        delivered_at=delivered,
        in_stock_at=in_stock,
        closed_at=in_stock,
        milestones={"delivered": delivered.isoformat()},
    )
    line = ShipmentLineRow(
        shipment_id=row.id,
        sku="SKU1",
        quantity_shipped=10,
        quantity_received=0 if open_at_now else 10,
    )
    event = TrackingEventRow(
        event_id=f"E{i:05d}",
        shipment_id=row.id,
        type="delivered",
        occurred_at=delivered,
        recorded_at=delivered,
    )
    return row, line, event


def test_a_live_refit_a_week_into_peak_learns_its_long_receiving_from_deliveries_still_open(
    server: Server, market: Market
) -> None:
    # Given off-peak parcels, peak parcels of the peak's first week whose receipts closed
    # within a day, and 40 more delivered that week still not in stock a week in
    seller = market.add_seller()
    market.add_product(seller, "SKU1")
    start = PEAK_START - 60 * DAY
    plan = [(i, start + i * timedelta(hours=6), 0.5 + (i % 11) * 0.1, False) for i in range(200)]
    plan += [
        (1000 + i, PEAK_START + i * timedelta(hours=3), 0.5 + (i % 5) * 0.1, False)
        for i in range(40)
    ]
    plan += [
        (2000 + i, PEAK_START + i * timedelta(hours=3) + timedelta(hours=1), 0.0, True)
        for i in range(40)
    ]
    with Session(server.runtime.engine) as session:
        for i, shipped_at, receiving, open_at_now in plan:
            if not open_at_now and shipped_at + (2 + receiving) * DAY > NOW:
                continue  # a slow first-week receipt is still open, and not a row at all
            for item in _parcel(seller, i, shipped_at, receiving, open_at_now=open_at_now):
                session.add(item)
                session.flush()
        session.merge(
            SettingRow(
                key=SANDBOX_CLOCK_KEY,
                value={"now": NOW.isoformat(), "set_at": NOW.isoformat(), "rate": 0.0},
            )
        )
        session.commit()

    # When the service refits
    refit_model(server.runtime.uow(), time.perf_counter)

    with Session(server.runtime.engine) as session:
        body = session.scalars(select(EstimatorModelRow.body)).one()
        history = load_history(session)
        opened = session.scalars(select(ShipmentRow).where(ShipmentRow.in_stock_at.is_(None))).all()
    live = CalibratedEstimator.from_dict(body).model
    # The evaluation's refit: an index of every shipment of the replayed history, the
    # open ones' in-stock instants lying past the fit's moment
    replayed = [
        ClosedShipment(
            mode="parcel",
            carrier_program="partnered_carrier",
            origin="US-OH",
            destination_fc="LAX1",
            shipped_at=row.shipped_at,
            delivered_at=row.delivered_at,
            in_stock_at=LATER,
            quantity_shipped=10,
            quantity_received=10,
            shipment_id=row.id,
            events=(HistoryEvent("delivered", row.delivered_at),),
        )
        for row in opened
        if row.shipped_at is not None and row.delivered_at is not None
    ]
    evaluation = fit_milestone_model(
        history, load_index=FcLoadIndex.of(history + replayed), now=NOW
    )
    closed_only = fit_milestone_model(history, now=NOW)

    # Then the young peak's long-receiving share comes from the open deliveries, as in the
    # evaluation, not from the published prior a fit on closed shipments falls back to
    assert len(replayed) == 40
    assert not closed_only.peak_tail
    assert set(live.peak_tail) == set(evaluation.peak_tail) == {"LAX1"}
    assert live.peak_tail["LAX1"] == pytest.approx(evaluation.peak_tail["LAX1"])
