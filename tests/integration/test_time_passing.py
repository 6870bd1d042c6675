"""What time alone changes: silent shipments re-estimated (R12), unanswered delays (R9a)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.support import T0, Market, expect

START = datetime.fromisoformat(T0)


def at(days: float) -> str:
    return (START + timedelta(days=days)).isoformat()


def _head_start_order(market: Market, sku: str, shipment: str) -> dict:
    seller = market.add_seller()
    market.add_product(seller, sku)
    market.add_shipment(seller, shipment, {sku: 20}, shipped_at=T0)
    return expect(market.order(sku), 201)


def test_r12_delivered_but_not_received_in_time_is_re_estimated_and_re_promised(
    market: Market,
) -> None:
    # given a head-start order on a parcel shipment delivered on day 2
    order = _head_start_order(market, "R12-SKU", "R12-SHIP")
    market.advance(48)
    market.events(
        {"event_id": "r12-d", "shipment_id": "R12-SHIP", "type": "delivered", "occurred_at": at(2)}
    )
    before = expect(market.client.get("/v1/shipments/R12-SHIP", headers=market.operator), 200)
    # when six more days pass with no receipt (silence is information)
    market.advance(24 * 6)
    # then the shipment was re-estimated from the time already spent waiting ...
    after = expect(market.client.get("/v1/shipments/R12-SHIP", headers=market.operator), 200)
    assert after["estimate"]["computed_at"] == at(8)
    assert after["estimate"]["p97"] > before["estimate"]["p97"]
    # ... and the order's promise moved later, with its reason and the buyer's notice
    view = expect(
        market.client.get(f"/v1/orders/{order['order_id']}", headers=market.storefront), 200
    )
    assert [rev["reason"] for rev in view["revisions"]] == ["time_passed"]
    new = view["promise"]["promised_in_stock_date"]
    assert new > order["promise"]["promised_in_stock_date"]
    notices = market.notifications("delay_notice")
    assert [n["payload"]["order_id"] for n in notices] == [order["order_id"]]


def _slip_needing_consent(market: Market) -> dict:
    expect(
        market.client.patch(
            "/v1/policy",
            json={"consent_slip_days": 0, "max_slip_days": 60},
            headers=market.operator,
        ),
        200,
    )
    order = _head_start_order(market, "R9A-SKU", "R9A-SHIP")
    market.events(
        {
            "event_id": "r9a-delay",
            "shipment_id": "R9A-SHIP",
            "type": "delayed",
            "occurred_at": T0,
            "carrier_eta": at(20),
        }
    )
    view = expect(
        market.client.get(f"/v1/orders/{order['order_id']}", headers=market.storefront), 200
    )
    assert view["status"] == "promised"
    assert view["consent_required_by"] is not None
    [notice] = market.notifications("delay_notice")
    assert notice["payload"]["requires_consent"] is True
    return view


def test_r9a_a_slip_silence_does_not_cover_cancels_the_order_when_unanswered(
    market: Market,
) -> None:
    view = _slip_needing_consent(market)
    deadline = datetime.fromisoformat(view["consent_required_by"])
    market.set_clock(deadline + timedelta(minutes=1))
    after = expect(
        market.client.get(f"/v1/orders/{view['order_id']}", headers=market.storefront), 200
    )
    assert (after["status"], after["cancel_reason"]) == ("cancelled", "delay_not_confirmed")
    assert [n["payload"]["order_id"] for n in market.notifications("order_cancelled")] == [
        view["order_id"]
    ]


def test_r9a_a_confirmed_slip_keeps_the_order(market: Market) -> None:
    view = _slip_needing_consent(market)
    confirmed = expect(
        market.client.post(
            f"/v1/orders/{view['order_id']}/confirm-delay", headers=market.storefront
        ),
        200,
    )
    assert confirmed["consent_required_by"] is None
    market.set_clock(datetime.fromisoformat(view["consent_required_by"]) + timedelta(minutes=1))
    after = expect(
        market.client.get(f"/v1/orders/{view['order_id']}", headers=market.storefront), 200
    )
    assert after["status"] == "promised"


def test_r15_a_notification_is_recorded_once_however_often_its_cause_is_replayed(
    market: Market,
) -> None:
    seller = market.add_seller()
    expect(
        market.client.post(
            f"/v1/sellers/{seller}/enrollment/opt-out", headers=market.sellers[seller]
        ),
        200,
    )
    again = market.client.post(
        f"/v1/sellers/{seller}/enrollment/opt-out", headers=market.sellers[seller]
    )
    assert again.status_code == 409
    assert len(market.notifications("opt_out_confirmation")) == 1


def _published_offer(market: Market, sku: str) -> dict:
    """The last offer R16 published for ``sku``."""
    return [
        n["payload"]["offer"]
        for n in market.notifications("offer_changed")
        if n["payload"]["sku"] == sku
    ][-1]


def test_r4_a_seller_suppressed_through_one_sku_stops_head_start_on_the_others_at_the_sweep(
    market: Market,
) -> None:
    # given a seller with head-start supply of two SKUs, ten orders waiting on the first
    seller = market.add_seller()
    for sku in ("R4-A", "R4-B"):
        market.add_product(seller, sku)
        market.add_shipment(seller, f"SH-{sku}", {sku: 20}, shipped_at=T0)
    for buyer in range(10):
        expect(market.order("R4-A", buyer=f"b{buyer}"), 201)
    assert _published_offer(market, "R4-B")["source"] == "head_start"
    # when the first SKU's shipment is lost: its ten orders are cancelled, late (R10)
    market.events(
        {
            "event_id": "r4-lost",
            "shipment_id": "SH-R4-A",
            "type": "exception",
            "occurred_at": T0,
            "reason": "lost",
        }
    )
    assert len(market.notifications("order_cancelled")) == 10
    # then the seller is suppressed at once for new quotes of the other SKU (R4) ...
    assert "suppressed_for_late_promises" in market.offer("R4-B")["reasons"]
    # ... and its published offer follows at the next sweep (R16)
    market.advance(1)
    assert _published_offer(market, "R4-B")["buyable"] is False
