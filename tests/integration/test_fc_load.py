"""Each FC's load as the estimator is told it: deliveries made and freight on its way."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from headstart.domain.estimate.inbound import PAST_DAYS, typical_transit_hours
from headstart.services.fc_load import fc_loads
from tests.integration.conftest import Server
from tests.support import T0, Market


def test_the_fc_load_counts_the_freight_on_its_way_by_the_day_it_is_due(
    server: Server, market: Market
) -> None:
    # Given two parcels shipped to LAX1, none delivered yet
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")
    market.add_shipment(seller, "SH1", {"SKU1": 10}, shipped_at=T0)
    market.add_shipment(seller, "SH2", {"SKU1": 10}, shipped_at=T0)
    now = datetime.fromisoformat(T0) + timedelta(hours=1)

    with Session(server.runtime.engine) as session:
        load = fc_loads(session, now)["LAX1"]

    # Then both are due on the day the parcel's median transit says, none delivered yet
    assert (load.backlog, load.deliveries_7d) == (0, 0)
    assert load.arrivals is not None
    assert sum(load.arrivals[:PAST_DAYS]) == 0
    due = int((typical_transit_hours("parcel") - 1.0) // 24)
    assert load.arrivals[PAST_DAYS + due] == 2
