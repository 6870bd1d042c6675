"""Tracking events over HTTP: idempotent by event_id; delays re-promise (R9, R9a); loss (R10)."""

from __future__ import annotations

import pytest

from headstart.services import repromising, waiting_orders
from tests.integration.checks import assert_error, at, event, order_of, placed, shipment_of
from tests.support import T0, Market, expect

LATE_ETA = "2026-03-12T12:00:00+00:00"  # days past the prior's median: the promise is at risk
LATER_ETA = "2026-03-18T12:00:00+00:00"  # a second slip, still within the 14-day maximum


@pytest.fixture
def seller(market: Market) -> str:
    seller_id = market.add_seller()
    market.add_product(seller_id, "SKU1")
    market.add_shipment(seller_id, "SH1", {"SKU1": 100}, shipped_at=T0)
    return seller_id


def delayed(event_id: str, eta: str) -> dict:
    return event(event_id, "SH1", "delayed", T0, carrier_eta=eta)


def test_tracking_batch_moves_the_shipment_to_its_latest_milestone(
    market: Market, seller: str
) -> None:
    market.advance(4)

    result = market.events(
        event("e2", "SH1", "arrived_port", at(T0, hours=3), location="Long Beach"),
        event("e1", "SH1", "departed_origin", at(T0, hours=1)),
    )

    assert result == {"accepted": ["e1", "e2"], "duplicates": []}
    view = shipment_of(market, "SH1")
    assert (view["status"], view["last_milestone"]) == ("in_transit", "arrived_port")


def test_tracking_events_may_be_posted_as_a_bare_json_array(market: Market, seller: str) -> None:
    response = market.client.post(
        "/v1/tracking-events",
        json=[event("e1", "SH1", "delivered", T0, location="LAX1 dock 4")],
        headers=market.operator,
    )

    assert expect(response, 200) == {"accepted": ["e1"], "duplicates": []}
    assert shipment_of(market, "SH1")["status"] == "delivered"


def test_an_event_id_repeated_within_one_batch_is_applied_once(market: Market, seller: str) -> None:
    result = market.events(
        event("e1", "SH1", "in_transit", T0), event("e1", "SH1", "delivered", T0)
    )

    assert result == {"accepted": ["e1"], "duplicates": ["e1"]}
    assert shipment_of(market, "SH1")["status"] == "in_transit"


def test_tracking_events_are_idempotent_by_event_id(market: Market, seller: str) -> None:
    batch = [event("e1", "SH1", "in_transit", T0), event("e2", "SH1", "out_for_delivery", T0)]
    market.events(*batch)
    before = shipment_of(market, "SH1")

    again = market.events(*batch, event("e3", "SH1", "delivered", T0))

    assert again == {"accepted": ["e3"], "duplicates": ["e1", "e2"]}
    assert shipment_of(market, "SH1")["status"] == "delivered" != before["status"]


def test_r9_delay_repromises_a_waiting_order_later_and_keeps_the_revision(
    market: Market, seller: str
) -> None:
    order = expect(market.order("SKU1", 3), 201)

    market.events(delayed("d1", LATE_ETA))

    after = order_of(market, order["order_id"])
    [revision] = after["revisions"]
    assert revision["reason"] == "tracking_event"
    assert revision["old"] == order["promise"]
    assert revision["new"] == after["promise"]
    assert after["promise"]["promised_in_stock_date"] > order["promise"]["promised_in_stock_date"]
    assert after["promise"]["promised_delivery_date"] > order["promise"]["promised_delivery_date"]
    assert (after["status"], after["first_promise"]) == ("promised", order["promise"])


def test_r9_delay_notice_tells_the_buyer_the_new_date_and_how_to_cancel(
    market: Market, seller: str
) -> None:
    order = expect(market.order("SKU1", 3, buyer="buyer-42"), 201)

    market.events(delayed("d1", LATE_ETA))

    [notice] = market.notifications("delay_notice")
    new = order_of(market, order["order_id"])["promise"]
    assert notice["recipient"] == "buyer:buyer-42"
    assert notice["state"] == "pending"
    assert notice["payload"]["order_id"] == order["order_id"]
    assert notice["payload"]["requires_consent"] is False
    assert notice["payload"]["cancel_path"] == f"/v1/orders/{order['order_id']}/cancel"
    assert new["promised_delivery_date"] in notice["body"]


def test_r9_a_delay_writes_orders_revised_alike_together_and_each_one_whole(
    market: Market, seller: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Orders moved onto the same promise are written a few hundred per statement; with
    # two per statement, five orders in two regions (two distinct new promises) take
    # several statements per group, and every order must still get its own revision,
    # its new promise and its notice.
    monkeypatch.setattr(waiting_orders, "ALIKE_CHUNK", 2)
    monkeypatch.setattr(repromising, "ALIKE_CHUNK", 2)
    regions = ["us-west", "us-east", "us-west", "us-west", "us-east"]
    orders = [
        expect(market.order("SKU1", 1, region=region, buyer=f"b{n}"), 201)
        for n, region in enumerate(regions)
    ]

    market.events(delayed("d1", LATE_ETA))

    notices = {n["payload"]["order_id"]: n for n in market.notifications("delay_notice")}
    news = set()
    for order in orders:
        after = order_of(market, order["order_id"])
        [revision] = after["revisions"]
        assert (revision["reason"], revision["old"]) == ("tracking_event", order["promise"])
        new = after["promise"]["promised_delivery_date"]
        assert revision["new"] == after["promise"]
        assert notices[order["order_id"]]["payload"]["new"]["promised_delivery_date"] == new
        assert new > order["promise"]["promised_delivery_date"]
        news.add(new)
    assert len(news) == 2  # one new promise per region


def test_r9_replayed_delay_event_creates_no_second_revision(market: Market, seller: str) -> None:
    order = expect(market.order("SKU1", 3), 201)
    market.events(delayed("d1", LATE_ETA))
    outbox = market.notifications()

    replay = market.events(delayed("d1", LATE_ETA))

    assert replay == {"accepted": [], "duplicates": ["d1"]}
    assert len(order_of(market, order["order_id"])["revisions"]) == 1
    assert market.notifications() == outbox


def test_r9_a_revision_never_moves_a_promise_earlier(market: Market, seller: str) -> None:
    order = expect(market.order("SKU1", 3), 201)
    market.events(delayed("d1", LATE_ETA))
    slipped = order_of(market, order["order_id"])

    market.events(event("u1", "SH1", "eta_update", T0, carrier_eta=at(T0, hours=30)))

    assert order_of(market, order["order_id"]) == slipped


def test_r9a_a_second_slip_needs_the_buyers_consent(market: Market, seller: str) -> None:
    order = expect(market.order("SKU1", 3), 201)
    market.events(delayed("d1", LATE_ETA))

    market.events(delayed("d2", LATER_ETA))

    after = order_of(market, order["order_id"])
    assert len(after["revisions"]) == 2
    assert after["consent_required_by"] is not None
    assert [n["payload"]["requires_consent"] for n in market.notifications("delay_notice")] == [
        False,
        True,
    ]


def test_r9a_confirming_an_order_without_a_pending_delay_is_a_conflict(
    market: Market, seller: str
) -> None:
    order = expect(market.order("SKU1", 3), 201)

    response = market.client.post(
        f"/v1/orders/{order['order_id']}/confirm-delay", headers=market.storefront
    )

    assert_error(response, 409, "conflict")


def test_r10_lost_shipment_leaves_the_offer_temporarily_out_of_stock_without_a_date(
    market: Market, seller: str
) -> None:
    market.events(event("x1", "SH1", "exception", T0, reason="lost"))

    offer = market.offer("SKU1")
    assert shipment_of(market, "SH1")["participation"] == {
        "participates": False,
        "reasons": ["shipment_exception"],
    }
    assert (offer["buyable"], offer["buyer_state"], offer["source"]) == (
        False,
        "temporarily_out_of_stock",
        "none",
    )
    assert [offer[f"promised_{d}_date"] for d in ("in_stock", "ship", "delivery")] == [None] * 3
    assert offer["confidence"] is None
    assert "shipment_exception" in offer["reasons"]


def test_r10_waiting_orders_of_a_lost_shipment_are_cancelled_and_the_buyers_told(
    market: Market, seller: str
) -> None:
    first = expect(market.order("SKU1", 3, buyer="b1"), 201)
    second = expect(market.order("SKU1", 2, buyer="b2"), 201)

    market.events(event("x1", "SH1", "exception", T0, reason="lost"))

    for order in (first, second):
        after = order_of(market, order["order_id"])
        assert (after["status"], after["cancel_reason"], after["promise"]) == (
            "cancelled",
            "no_supply",
            None,
        )
        assert after["revisions"][-1]["new"] is None
    assert [n["payload"] for n in market.notifications("order_cancelled")] == [
        {"seller_id": seller, "order_id": first["order_id"], "reason": "no_supply"},
        {"seller_id": seller, "order_id": second["order_id"], "reason": "no_supply"},
    ]


def test_r10_waiting_orders_are_resourced_to_another_counted_shipment(
    market: Market, seller: str
) -> None:
    market.add_shipment(seller, "SH2", {"SKU1": 10}, shipped_at=T0)  # 9 units after shrink
    order = expect(market.order("SKU1", 3), 201)

    market.events(event("x1", "SH1", "exception", T0, reason="damaged"))

    after = order_of(market, order["order_id"])
    assert (after["status"], after["promise"], after["revisions"]) == (
        "promised",
        order["promise"],
        [],
    )
    assert market.notifications("order_cancelled") == []
    assert market.offer("SKU1")["available_quantity"] == 9 - 3


def test_a_tracking_event_dated_weeks_ahead_is_refused(market: Market, seller: str) -> None:
    order = placed(market, "SKU1", 3)
    shipment = shipment_of(market, "SH1")

    response = market.client.post(
        "/v1/tracking-events",
        json={"events": [event("f1", "SH1", "delivered", at(T0, hours=24 * 30))]},
        headers=market.operator,
    )

    assert_error(response, 422, "invalid_request")
    assert shipment_of(market, "SH1") == shipment
    assert order_of(market, order["order_id"]) == order
