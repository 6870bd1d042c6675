"""R4's on-time record is the seller's own: read by ``orders.seller_id``, never mixed."""

from __future__ import annotations

from headstart.services import dashboard
from headstart.services.policy import load_policy
from headstart.services.sku_state import load_fcs, recent_on_time_of
from tests.integration.conftest import Server
from tests.support import T0, Market, expect


def test_r4_a_sellers_on_time_record_counts_only_that_sellers_orders(
    market: Market, server: Server
) -> None:
    # given two sellers with head-start supply of two SKUs each, ten orders on the first
    late, punctual = market.add_seller("Late"), market.add_seller("Punctual")
    for seller, prefix in ((late, "L"), (punctual, "P")):
        for sku in (f"{prefix}-A", f"{prefix}-B"):
            market.add_product(seller, sku)
            market.add_shipment(seller, f"SH-{sku}", {sku: 20}, shipped_at=T0)
        for buyer in range(10):
            expect(market.order(f"{prefix}-A", buyer=f"{prefix}{buyer}"), 201)
    # when the punctual seller's units arrive at once and the late seller's are lost
    market.receive("SH-P-A", "R-P-A", T0, {"P-A": 20})
    market.events(
        {
            "event_id": "lost",
            "shipment_id": "SH-L-A",
            "type": "exception",
            "occurred_at": T0,
            "reason": "lost",
        }
    )
    # then each seller's record holds their own ten orders and nobody else's ...
    with server.runtime.reader() as uow:
        fcs, policy = load_fcs(uow.session), load_policy(uow.session)
        records = {
            seller: recent_on_time_of(uow.session, seller, fcs, policy)
            for seller in (late, punctual)
        }
    assert records == {late: [False] * 10, punctual: [True] * 10}
    recent = dashboard.seller_record(server.runtime.reader(), punctual)["recent"]
    assert (recent["judged"], recent["on_time"]) == (10, 10)
    orders = dashboard.seller_orders(server.runtime.reader(), punctual)
    assert sorted(order["sku"] for order in orders) == ["P-A"] * 10
    # ... so only the late seller is suppressed: mixed, both would be at 50% on time
    assert "suppressed_for_late_promises" in market.offer("L-B")["reasons"]
    assert market.offer("P-B")["source"] == "head_start"
