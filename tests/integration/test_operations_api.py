"""Operator endpoints over HTTP: FCs, sellers, keys, policy, the outbox (R15), the sandbox clock."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from tests.integration.checks import assert_error, at, enrollment_of, set_policy
from tests.integration.conftest import AppFactory
from tests.support import OPERATOR_KEY, T0, Market, bearer, expect

PHOENIX = {
    "code": "PHX1",
    "time_zone": "America/Phoenix",
    "region": "us-southwest",
    "handling_days": 2,
    "cutoff_local_time": "12:30",
    "holidays": ["2026-12-25", "2026-07-03"],
    "outbound_transit_days": {"us-southwest": 1, "us-west": 2},
}


def clock(market: Market, **body: object):
    return market.client.post("/v1/sandbox/clock", json=body, headers=market.operator)


def test_sandbox_clock_is_set_with_now(market: Market) -> None:
    moved = expect(clock(market, now="2026-04-01T08:00:00-07:00"), 200)

    read = expect(market.client.get("/v1/sandbox/clock"), 200)
    for now in (moved["now"], read["now"]):
        assert datetime.fromisoformat(now) == datetime.fromisoformat("2026-04-01T15:00:00+00:00")


def test_sandbox_clock_is_advanced_by_hours(market: Market) -> None:
    moved = expect(clock(market, advance_hours=36.5), 200)

    assert moved["now"] == at(T0, hours=36.5)
    assert moved["sweep"]["now"] == at(T0, hours=36.5)


def test_sandbox_clock_never_runs_backwards(market: Market) -> None:
    response = clock(market, now=at(T0, hours=-1))

    assert_error(response, 422, "invalid_request")
    assert expect(market.client.get("/v1/sandbox/clock"), 200) == {"now": T0}


def test_sandbox_clock_takes_now_or_advance_hours_not_both(market: Market) -> None:
    response = clock(market, now=at(T0, hours=1), advance_hours=1)

    assert_error(response, 422, "invalid_request")
    assert expect(market.client.get("/v1/sandbox/clock"), 200) == {"now": T0}


def test_without_sandbox_mode_the_clock_route_does_not_exist(
    market: Market, make_client: AppFactory
) -> None:
    production = make_client(sandbox=False)

    response = production.post(
        "/v1/sandbox/clock", json={"advance_hours": 1}, headers=bearer(OPERATOR_KEY)
    )

    assert_error(response, 404, "not_found")
    assert expect(production.get("/healthz"), 200) == {"status": "ok", "sandbox": False}
    assert expect(market.client.get("/v1/sandbox/clock"), 200) == {"now": T0}


def test_fulfillment_center_is_created_with_its_calendar(client: TestClient) -> None:
    response = client.post("/v1/fulfillment-centers", json=PHOENIX, headers=bearer(OPERATOR_KEY))

    created = expect(response, 201)
    assert created == {
        **PHOENIX,
        "holidays": ["2026-07-03", "2026-12-25"],
        "operating_weekdays": [0, 1, 2, 3, 4],
    }
    assert expect(client.get("/v1/fulfillment-centers"), 200) == [created]


def test_fulfillment_center_codes_are_unique(market: Market) -> None:
    response = market.client.post(
        "/v1/fulfillment-centers", json={**PHOENIX, "code": "LAX1"}, headers=market.operator
    )

    assert_error(response, 409, "conflict")
    [lax] = expect(market.client.get("/v1/fulfillment-centers"), 200)
    assert (lax["code"], lax["time_zone"]) == ("LAX1", "America/Los_Angeles")


def test_a_fulfillment_center_that_never_operates_is_refused(market: Market) -> None:
    body = {**PHOENIX, "operating_weekdays": []}

    response = market.client.post("/v1/fulfillment-centers", json=body, headers=market.operator)

    assert_error(response, 422, "invalid_request")
    assert [fc["code"] for fc in expect(market.client.get("/v1/fulfillment-centers"), 200)] == [
        "LAX1"
    ]


def test_seller_is_created_with_an_api_key_shown_once(market: Market) -> None:
    response = market.client.post(
        "/v1/sellers", json={"name": "Acme", "email": "ops@acme.test"}, headers=market.operator
    )

    created = expect(response, 201)
    assert set(created) == {"seller_id", "name", "email", "api_key"}
    assert (created["name"], created["email"]) == ("Acme", "ops@acme.test")
    market.sellers[created["seller_id"]] = bearer(created["api_key"])
    assert enrollment_of(market, created["seller_id"])["state"] == "not_enrolled"


def test_storefront_key_is_issued_and_works(market: Market) -> None:
    response = market.client.post(
        "/v1/storefront-keys", json={"name": "mobile-app"}, headers=market.operator
    )

    issued = expect(response, 201)
    assert issued["name"] == "mobile-app" and issued["api_key"].startswith("hs_sf_")
    assert (
        market.client.get("/v1/orders/ord_none", headers=bearer(issued["api_key"])).status_code
        == 404
    )


def test_policy_starts_at_the_documented_defaults(market: Market) -> None:
    policy = expect(market.client.get("/v1/policy", headers=market.operator), 200)

    assert {
        key: policy[key]
        for key in ("q", "q_low", "horizon_days", "default_shrink", "max_slip_days")
    } == {
        "q": 0.97,
        "q_low": 0.9,
        "horizon_days": 21,
        "default_shrink": "0.05",
        "max_slip_days": 14,
    }
    assert (policy["consent_slip_days"], policy["admit_own_carrier"]) == (30, False)
    assert (policy["min_on_time_rate"], policy["on_time_window"]) == (0.9, 50)


def test_policy_patch_changes_only_the_named_knobs(market: Market) -> None:
    before = expect(market.client.get("/v1/policy", headers=market.operator), 200)

    after = set_policy(market, horizon_days=30, admit_own_carrier=True)

    assert after == {**before, "horizon_days": 30, "admit_own_carrier": True}
    assert expect(market.client.get("/v1/policy", headers=market.operator), 200) == after


def test_policy_patch_that_breaks_an_invariant_changes_nothing(market: Market) -> None:
    before = expect(market.client.get("/v1/policy", headers=market.operator), 200)

    response = market.client.patch("/v1/policy", json={"q_low": 0.99}, headers=market.operator)

    assert_error(response, 422, "invalid_request")  # q_low must not exceed q (0.97)
    assert expect(market.client.get("/v1/policy", headers=market.operator), 200) == before


def test_r15_notifications_list_the_outbox_with_delivery_state(market: Market) -> None:
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")
    expect(
        market.client.post(
            f"/v1/sellers/{seller}/enrollment/opt-out", headers=market.sellers[seller]
        ),
        200,
    )

    listed = expect(market.client.get("/v1/notifications", headers=market.operator), 200)

    assert [n["kind"] for n in listed["notifications"]] == ["offer_changed", "opt_out_confirmation"]
    mail = listed["notifications"][1]
    assert set(mail) == {
        "id", "kind", "recipient", "subject", "body", "payload",
        "state", "attempts", "last_error", "created_at", "sent_at", "deliveries",
    }  # fmt: skip
    assert (mail["state"], mail["attempts"], mail["sent_at"]) == ("pending", 0, None)
    assert mail["deliveries"] == []  # the outbox sender routes it (test_outbox_sender.py)
    assert listed["next_after_id"] == mail["id"]


def test_r15_notifications_filter_by_kind_and_page_after_an_id(market: Market) -> None:
    seller = market.add_seller()
    for sku in ("SKU1", "SKU2", "SKU3"):
        market.add_product(seller, sku)

    first = expect(
        market.client.get(
            "/v1/notifications",
            params={"kind": "offer_changed", "limit": 2},
            headers=market.operator,
        ),
        200,
    )
    rest = expect(
        market.client.get(
            "/v1/notifications",
            params={"kind": "offer_changed", "after_id": first["next_after_id"]},
            headers=market.operator,
        ),
        200,
    )

    skus = [n["payload"]["sku"] for n in first["notifications"] + rest["notifications"]]
    assert skus == ["SKU1", "SKU2", "SKU3"]
    assert len(first["notifications"]) == 2


def test_healthz_reports_sandbox_mode(client: TestClient) -> None:
    assert expect(client.get("/healthz"), 200) == {"status": "ok", "sandbox": True}
