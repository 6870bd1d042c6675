"""Each FC's load as the estimator is told it: deliveries made and freight on its way."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from headstart.domain.estimate.inbound import PAST_DAYS, typical_transit_hours
from headstart.services.fc_load import fc_loads
from headstart.store.tables import ShipmentRow
from tests.integration.conftest import Server
from tests.support import T0, Market


def _parcels(market: Market, *names: str) -> str:
    """A seller with SKU1 and a 10-unit parcel shipment of it to LAX1 per name, shipped at
    T0; returns the seller."""
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")
    for name in names:
        market.add_shipment(seller, name, {"SKU1": 10}, shipped_at=T0)
    return seller


def test_the_fc_load_counts_the_freight_on_its_way_by_the_day_it_is_due(
    server: Server, market: Market
) -> None:
    # Given two parcels shipped to LAX1, none delivered yet
    _parcels(market, "SH1", "SH2")
    now = datetime.fromisoformat(T0) + timedelta(hours=1)

    with Session(server.runtime.engine) as session:
        load = fc_loads(session, now)["LAX1"]

    # Then both are due on the day the parcel's median transit says, none delivered yet
    assert (load.backlog, load.deliveries_7d) == (0, 0)
    assert load.arrivals is not None
    assert sum(load.arrivals[:PAST_DAYS]) == 0
    due = int((typical_transit_hours("parcel") - 1.0) // 24)
    assert load.arrivals[PAST_DAYS + due] == 2


def _delivered(market: Market, shipment_id: str, at: datetime) -> None:
    market.events(
        {
            "event_id": f"{shipment_id}-delivered",
            "shipment_id": shipment_id,
            "type": "delivered",
            "occurred_at": at.isoformat(),
        }
    )


def test_the_fc_load_counts_open_deliveries_as_backlog_and_the_last_week_as_its_deliveries(
    server: Server, market: Market
) -> None:
    # Given four parcels to LAX1 shipped 30 days ago, delivered 20, 10, 2 and 1 day(s) ago
    _parcels(market, "OLD", "CLOSED", "IN", "OPEN")
    start = datetime.fromisoformat(T0)
    now = start + timedelta(days=30)
    market.set_clock(now)
    for name, days_ago in (("OLD", 20), ("CLOSED", 10), ("IN", 2), ("OPEN", 1)):
        _delivered(market, name, now - timedelta(days=days_ago))
    # and of them, CLOSED was received and closed, IN received (in stock), OLD and OPEN not
    market.receive("CLOSED", "r-closed", (now - timedelta(days=9)).isoformat(), {"SKU1": 10})
    market.close("CLOSED")
    market.receive("IN", "r-in", (now - timedelta(days=1)).isoformat(), {"SKU1": 10})

    with Session(server.runtime.engine) as session:
        loads = fc_loads(session, now)
        only_lax1 = fc_loads(session, now, "LAX1")
        only_ewr1 = fc_loads(session, now, "EWR1")
    load = loads["LAX1"]

    # Then one FC's load, asked for alone, is the same
    assert only_lax1 == {"LAX1": load}
    assert only_ewr1 == {}
    # and the backlog is what was delivered and is not in stock, however long ago
    assert load.backlog == 2  # OLD and OPEN
    # and the last week's deliveries are IN and OPEN, the last two weeks' CLOSED too
    assert load.deliveries_7d == 2
    assert load.arrivals is not None
    assert sum(load.arrivals[:PAST_DAYS]) == 3
    assert sum(load.arrivals[PAST_DAYS:]) == 0  # nothing left on its way


def _closed_long_ago(session: Session, seller_id: str, count: int) -> None:
    """``count`` shipments delivered, received and closed 60 days before T0."""
    long_ago = datetime.fromisoformat(T0) - timedelta(days=60)
    for number in range(count):
        session.add(
            ShipmentRow(
                id=f"OLD{number}", seller_id=seller_id, destination_fc="LAX1",
                carrier_program="partnered_carrier", mode="parcel", carrier="UPS",
                tracking_ids=[], origin="US-TX", status="closed", created_at=long_ago,
                shipped_at=long_ago, delivered_at=long_ago, in_stock_at=long_ago,
                closed_at=long_ago,
            )
        )  # fmt: skip
    session.commit()


def test_the_fc_load_costs_what_is_open_or_recent_not_every_shipment_ever_closed(
    server: Server, market: Market
) -> None:
    engine = server.runtime.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("counts SQLite's virtual machine steps")
    # Given an FC with one parcel on its way, and a way to count the database's work
    seller = _parcels(market, "SH1")
    now = datetime.fromisoformat(T0) + timedelta(hours=1)

    def steps() -> int:
        with Session(engine) as session:
            raw = session.connection().connection.driver_connection
            counted = [0]

            def tick() -> int:
                counted[0] += 1
                return 0

            raw.set_progress_handler(tick, 10)
            try:
                fc_loads(session, now)
            finally:
                raw.set_progress_handler(None, 10)
            return counted[0]

    before = steps()
    # When 500 shipments delivered and closed long ago join the history
    with Session(engine) as session:
        _closed_long_ago(session, seller, 500)
    after = steps()

    # Then reading the load costs about what it did: it never walks the closed ones
    # (it runs on every shipping, tracking batch, receipt and sweep)
    assert after < before + 50, (before, after)


def test_r12_a_delivery_keeps_the_load_it_met_whatever_comes_after(
    server: Server, market: Market
) -> None:
    # Given three parcels to LAX1, two delivered an hour apart and not yet received
    _parcels(market, "FIRST", "SECOND", "LATER")
    start = datetime.fromisoformat(T0)
    market.set_clock(start + timedelta(days=5))
    _delivered(market, "FIRST", start + timedelta(days=3))
    _delivered(market, "SECOND", start + timedelta(days=3, hours=1))
    # When a third is delivered a day later, after the first was received
    market.receive("FIRST", "r-first", (start + timedelta(days=4)).isoformat(), {"SKU1": 10})
    _delivered(market, "LATER", start + timedelta(days=4, hours=1))

    with Session(server.runtime.engine) as session:
        rows = session.query(ShipmentRow).all()
        kept = {row.id: row.fc_backlog_at_delivery for row in rows}
        week = {row.id: row.fc_deliveries_7d_at_delivery for row in rows}

    # Then each keeps the backlog as its delivery found it, itself included
    assert kept == {"FIRST": 1, "SECOND": 2, "LATER": 2}
    # and the week's deliveries: the received FIRST left the backlog LATER met, not its week
    assert week == {"FIRST": 1, "SECOND": 2, "LATER": 3}
