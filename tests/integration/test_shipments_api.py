"""Inbound shipments over HTTP: create, ship, read (R2, R2a, R4 estimate, R17 model)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.integration.checks import assert_error, at, event, set_policy, shipment_of
from tests.support import T0, Market, expect

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
ESTIMATE_FIELDS = {
    "p50",
    "p90",
    "p97",
    "p99",
    "promised_quantile",
    "promised_in_stock_date",
    "model",
    "basis",
    "computed_at",
}


@pytest.fixture
def seller(market: Market) -> str:
    seller_id = market.add_seller()
    market.add_product(seller_id, "SKU1")
    market.add_product(seller_id, "SKU2")
    return seller_id


def test_created_shipment_is_working_and_does_not_participate_yet(
    market: Market, seller: str
) -> None:
    view = market.add_shipment(seller, "SH1", {"SKU1": 100, "SKU2": 20})

    assert view == {
        "shipment_id": "SH1",
        "seller_id": seller,
        "destination_fc": "LAX1",
        "carrier_program": "partnered_carrier",
        "mode": "parcel",
        "carrier": "UPS",
        "tracking_ids": ["1ZSH1"],
        "tracking_validated": True,
        "origin": "US-TX",
        "status": "working",
        "exception_reason": None,
        "created_at": T0,
        "shipped_at": None,
        "last_milestone": None,
        "carrier_eta": None,
        "lines": [
            {"sku": "SKU1", "quantity": 100, "quantity_received": 0},
            {"sku": "SKU2", "quantity": 20, "quantity_received": 0},
        ],
        "participation": {"participates": False, "reasons": ["shipment_not_shipped"]},
        "estimate": None,
    }


def test_r2_shipped_shipment_participates_with_an_estimate(market: Market, seller: str) -> None:
    market.add_shipment(seller, "SH1", {"SKU1": 100})
    market.advance(2)

    view = market.ship(seller, "SH1", at(T0, hours=1))

    assert (view["status"], view["shipped_at"]) == ("shipped", at(T0, hours=1))
    assert view["participation"] == {"participates": True, "reasons": []}
    estimate = view["estimate"]
    assert set(estimate) == ESTIMATE_FIELDS
    quantiles = [datetime.fromisoformat(estimate[q]) for q in ("p50", "p90", "p97", "p99")]
    assert quantiles == sorted(quantiles)
    assert estimate["computed_at"] == at(T0, hours=2)
    assert estimate["model"]


def test_r7_promised_in_stock_date_is_the_promised_quantile_as_an_fc_local_date(
    market: Market, seller: str
) -> None:
    market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)

    estimate = shipment_of(market, "SH1")["estimate"]

    level = {0.5: "p50", 0.9: "p90", 0.97: "p97", 0.99: "p99"}[estimate["promised_quantile"]]
    instant = datetime.fromisoformat(estimate[level])
    assert estimate["promised_in_stock_date"] == instant.astimezone(LOS_ANGELES).date().isoformat()
    assert market.offer("SKU1")["promised_in_stock_date"] == estimate["promised_in_stock_date"]


def test_get_shipment_returns_what_shipping_returned(market: Market, seller: str) -> None:
    shipped = market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)

    response = market.client.get("/v1/shipments/SH1", headers=market.sellers[seller])

    assert expect(response, 200) == shipped


@pytest.mark.parametrize(
    "program", ["partnered_carrier", "marketplace_freight", "global_logistics"]
)
def test_r2_marketplace_tracked_programs_are_eligible(
    market: Market, seller: str, program: str
) -> None:
    view = market.add_shipment(seller, "SH1", {"SKU1": 100}, program=program, shipped_at=T0)

    assert view["participation"] == {"participates": True, "reasons": []}


def test_r2_shipment_of_a_seller_not_enrolled_does_not_participate(market: Market) -> None:
    seller = market.add_seller("Solo", enroll=False)
    market.add_product(seller, "SKU9")

    view = market.add_shipment(seller, "SH9", {"SKU9": 10}, shipped_at=T0)

    assert view["participation"] == {
        "participates": False,
        "reasons": ["seller_not_enrolled_when_created"],
    }
    assert market.offer("SKU9")["buyable"] is False


def test_r2a_own_carrier_shipment_does_not_participate_by_default(
    market: Market, seller: str
) -> None:
    view = market.add_shipment(seller, "SH1", {"SKU1": 100}, program="own_carrier", shipped_at=T0)

    assert view["tracking_validated"] is False
    assert view["participation"] == {
        "participates": False,
        "reasons": ["carrier_program_not_eligible"],
    }
    assert market.offer("SKU1")["buyable"] is False


def test_r2a_admitted_own_carrier_shipment_waits_for_a_validated_tracking_id(
    market: Market, seller: str
) -> None:
    market.add_shipment(seller, "SH1", {"SKU1": 100}, program="own_carrier", shipped_at=T0)

    policy = set_policy(market, admit_own_carrier=True)

    assert policy["admit_own_carrier"] is True
    assert shipment_of(market, "SH1")["participation"] == {
        "participates": False,
        "reasons": ["own_carrier_tracking_not_validated"],
    }


def test_r2a_admitted_own_carrier_shipment_participates_once_a_carrier_reports_on_it(
    market: Market, seller: str
) -> None:
    market.add_shipment(seller, "SH1", {"SKU1": 100}, program="own_carrier", shipped_at=T0)
    set_policy(market, admit_own_carrier=True)

    market.events(event("e1", "SH1", "in_transit", at(T0, hours=-0.5)))

    view = shipment_of(market, "SH1")
    assert view["tracking_validated"] is True
    assert view["participation"] == {"participates": True, "reasons": []}
    offer = market.offer("SKU1")
    assert (offer["buyable"], offer["source"]) == (True, "head_start")


def test_r2a_tracking_still_unvalidated_a_day_after_shipping_widens_the_estimate(
    market: Market, seller: str
) -> None:
    set_policy(market, admit_own_carrier=True)
    market.add_shipment(seller, "OWN", {"SKU1": 100}, program="own_carrier", shipped_at=T0)
    market.add_shipment(seller, "UPS", {"SKU2": 100}, shipped_at=T0)
    assert (
        shipment_of(market, "OWN")["estimate"]["p97"]
        == shipment_of(market, "UPS")["estimate"]["p97"]
    )

    market.advance(25)

    own, ups = shipment_of(market, "OWN")["estimate"], shipment_of(market, "UPS")["estimate"]
    assert datetime.fromisoformat(own["p97"]) > datetime.fromisoformat(ups["p97"])


def test_shipping_a_shipment_twice_is_a_conflict(market: Market, seller: str) -> None:
    market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)

    response = market.client.post(
        "/v1/shipments/SH1/ship", json={"shipped_at": T0}, headers=market.sellers[seller]
    )

    assert_error(response, 409, "conflict")


def test_shipment_ids_are_unique(market: Market, seller: str) -> None:
    market.add_shipment(seller, "SH1", {"SKU1": 100})
    body = {
        "shipment_id": "SH1",
        "destination_fc": "LAX1",
        "carrier_program": "partnered_carrier",
        "mode": "ltl",
        "carrier": "XPO",
        "origin": "US-TX",
        "lines": [{"sku": "SKU2", "quantity": 5}],
    }

    response = market.client.post("/v1/shipments", json=body, headers=market.sellers[seller])

    assert_error(response, 409, "conflict")
    assert shipment_of(market, "SH1")["lines"] == [
        {"sku": "SKU1", "quantity": 100, "quantity_received": 0}
    ]


def test_timestamps_with_any_offset_keep_their_instant(market: Market, seller: str) -> None:
    market.add_shipment(seller, "SH1", {"SKU1": 100}, created_at="2026-03-02T09:30:00-05:00")

    shipped = market.ship(seller, "SH1", "2026-03-03T00:00:00+09:00")

    for view in (shipped, shipment_of(market, "SH1")):
        assert datetime.fromisoformat(view["created_at"]) == datetime.fromisoformat(
            "2026-03-02T14:30:00+00:00"
        )
        assert datetime.fromisoformat(view["shipped_at"]) == datetime.fromisoformat(
            "2026-03-02T15:00:00+00:00"
        )


def test_operator_creates_a_shipment_for_a_named_seller(market: Market, seller: str) -> None:
    body = {
        "shipment_id": "SH1",
        "seller_id": seller,
        "destination_fc": "LAX1",
        "carrier_program": "marketplace_freight",
        "mode": "ftl",
        "carrier": "JB Hunt",
        "tracking_ids": ["PRO123"],
        "origin": "US-NV",
        "lines": [{"sku": "SKU1", "quantity": 400}],
    }

    view = expect(market.client.post("/v1/shipments", json=body, headers=market.operator), 201)

    assert (view["seller_id"], view["mode"], view["status"]) == (seller, "ftl", "working")
