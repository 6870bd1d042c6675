"""The pages' security (issue 5), on both engines: CSRF on every POST, server-side sessions
that expire, cookie flags, headers, roles, and sellers who only ever see their own data."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from headstart.store.tables import WebSessionRow
from headstart.store.uow import real_now
from tests.integration.conftest import Server
from tests.support import OPERATOR_KEY, T0, Market, expect

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def browser(server: Server, *, https: bool = False) -> TestClient:
    """A client of its own (its own cookies) on the session's app, like a fresh browser."""
    base_url = "https://testserver" if https else "http://testserver"
    return TestClient(server.client.app, base_url=base_url, follow_redirects=False)


def csrf_of(page: str) -> str:
    match = CSRF_INPUT.search(page)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def signed_in(server: Server, key: str, *, zone: str = "UTC", https: bool = False) -> TestClient:
    client = browser(server, https=https)
    token = csrf_of(client.get("/sign-in").text)
    response = client.post(
        "/sign-in", data={"api_key": key, "time_zone": zone, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return client


def key_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def two_sellers(market: Market) -> tuple[str, str]:
    """Acme and Rival, each with a product, a shipped shipment and a head-start order."""
    sellers = []
    for name, sku in (("Acme", "ACME-1"), ("Rival", "RIVAL-1")):
        seller = market.add_seller(name)
        market.add_product(seller, sku, title=f"{name} widget")
        market.add_shipment(seller, f"SH-{name.upper()}", {sku: 30}, shipped_at=T0)
        expect(market.order(sku, 1, buyer=f"buyer-of-{name.lower()}"), 201)
        sellers.append(seller)
    return sellers[0], sellers[1]


def enrollment_state(market: Market, seller: str) -> str:
    return expect(
        market.client.get(f"/v1/sellers/{seller}/enrollment", headers=market.sellers[seller]),
        200,
    )["state"]


# ---------------------------------------------------------------------------- CSRF


def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(
    server: Server, market: Market
) -> None:
    seller = market.add_seller()
    page = signed_in(server, key_of(market.sellers[seller]))

    response = page.post("/seller/enrollment/opt-out")

    assert response.status_code == 403
    assert "security token" in response.text
    assert enrollment_state(market, seller) == "enrolled"


def test_a_post_with_a_wrong_or_another_sessions_csrf_token_is_refused(
    server: Server, market: Market
) -> None:
    seller = market.add_seller()
    key = key_of(market.sellers[seller])
    page, other = signed_in(server, key), signed_in(server, key)
    others_token = csrf_of(other.get("/seller/enrollment/opt-out").text)

    wrong = page.post("/seller/enrollment/opt-out", data={"csrf_token": "not-the-token"})
    stolen = page.post("/seller/enrollment/opt-out", data={"csrf_token": others_token})

    assert (wrong.status_code, stolen.status_code) == (403, 403)
    assert enrollment_state(market, seller) == "enrolled"


def test_the_right_csrf_token_is_accepted_in_the_form_or_the_htmx_header(
    server: Server, market: Market
) -> None:
    seller = market.add_seller()
    page = signed_in(server, key_of(market.sellers[seller]))
    token = csrf_of(page.get("/seller/enrollment/opt-out").text)

    response = page.post("/seller/enrollment/opt-out", headers={"X-CSRF-Token": token})

    assert (response.status_code, response.headers["location"]) == (
        303,
        "/seller/enrollment?notice=opted_out",
    )
    assert enrollment_state(market, seller) == "opt_out_requested"


def test_the_sign_in_form_needs_its_pre_session_token(server: Server, market: Market) -> None:
    client = browser(server)
    client.get("/sign-in")  # sets the pre-session cookie

    response = client.post("/sign-in", data={"api_key": OPERATOR_KEY})

    assert response.status_code == 403
    assert "hs_session" not in client.cookies


# ---------------------------------------------------------------------------- sessions


def test_sign_in_sets_an_httponly_samestrict_cookie_secure_only_over_https(
    server: Server, market: Market
) -> None:
    for https in (False, True):
        client = browser(server, https=https)
        token = csrf_of(client.get("/sign-in").text)
        response = client.post("/sign-in", data={"api_key": OPERATOR_KEY, "csrf_token": token})
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("hs_session=")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Max-Age=43200" in cookie  # session_hours = 12 by default
        assert ("Secure" in cookie) is https


def test_a_session_lasts_session_hours_by_the_real_clock_not_the_sandbox(
    server: Server, market: Market
) -> None:
    page = signed_in(server, OPERATOR_KEY)
    with server.runtime.reader() as uow:
        row = uow.session.scalars(select(WebSessionRow)).one()
        assert row.expires_at - row.created_at == timedelta(hours=12)
        assert abs(row.created_at - real_now()) < timedelta(minutes=1)  # the sandbox is at T0

    market.advance(24 * 30)

    assert page.get("/operator").status_code == 200  # moving sandbox time signs nobody out


def test_an_expired_session_is_signed_out_and_sent_to_sign_in(
    server: Server, market: Market
) -> None:
    seller = market.add_seller()
    page = signed_in(server, key_of(market.sellers[seller]))
    assert page.get("/seller").status_code == 200

    with server.runtime.engine.begin() as connection:
        connection.execute(
            update(WebSessionRow).values(expires_at=real_now() - timedelta(seconds=1))
        )
    response = page.get("/seller")

    assert response.status_code == 303
    assert unquote(response.headers["location"]) == "/sign-in?next=/seller"


def test_signing_out_ends_the_session_on_the_server(server: Server, market: Market) -> None:
    page = signed_in(server, OPERATOR_KEY)
    cookie = page.cookies["hs_session"]
    token = csrf_of(page.get("/operator").text)

    assert page.post("/sign-out", data={"csrf_token": token}).status_code == 303

    replay = browser(server)
    replay.cookies.set("hs_session", cookie)
    assert replay.get("/operator").status_code == 303  # the stolen cookie is worthless


def test_a_bad_key_is_refused_on_the_sign_in_page(server: Server, market: Market) -> None:
    client = browser(server)
    token = csrf_of(client.get("/sign-in").text)

    response = client.post("/sign-in", data={"api_key": "hs_sel_guess", "csrf_token": token})

    assert response.status_code == 401
    assert "the API key is not valid" in response.text
    assert "hs_session" not in client.cookies


def test_sign_in_never_redirects_off_site(server: Server, market: Market) -> None:
    client = browser(server)
    token = csrf_of(client.get("/sign-in").text)

    response = client.post(
        "/sign-in",
        data={"api_key": OPERATOR_KEY, "csrf_token": token, "next": "//evil.example/x"},
    )

    assert response.headers["location"] == "/operator"


# ---------------------------------------------------------------------------- roles


def test_pages_need_a_sign_in_and_the_right_role(server: Server, market: Market) -> None:
    anonymous = browser(server)
    storefront = signed_in(server, key_of(market.storefront))

    assert anonymous.get("/operator/policy").status_code == 303
    assert anonymous.get("/shop/orders/ord_x").status_code == 303
    assert storefront.get("/seller").status_code == 403
    assert storefront.get("/operator/outbox").status_code == 403
    assert anonymous.get("/shop").status_code == 200  # the shop window is public


def test_a_sellers_pages_never_show_another_sellers_data(
    server: Server, market: Market, two_sellers: tuple[str, str]
) -> None:
    acme, rival = two_sellers
    page = signed_in(server, key_of(market.sellers[acme]))
    rival_marks = ("RIVAL-1", "SH-RIVAL", "Rival", "buyer-of-rival", rival)

    for path in (
        "/seller",
        "/seller/enrollment",
        "/seller/enrollment/opt-out",
        "/seller/shipments",
        "/seller/at-risk",
        "/seller/orders",
        "/seller/inventory",
        "/seller/inventory.csv",
        "/seller/products",
    ):
        response = page.get(path)
        assert response.status_code == 200, path
        leaked = [mark for mark in rival_marks if mark in response.text]
        assert not leaked, (path, leaked)
    assert "ACME-1" in page.get("/seller/inventory.csv").text


def test_a_seller_cannot_open_or_change_another_sellers_shipment_or_product(
    server: Server, market: Market, two_sellers: tuple[str, str]
) -> None:
    acme, _ = two_sellers
    page = signed_in(server, key_of(market.sellers[acme]))
    token = csrf_of(page.get("/seller/products").text)

    shipment = page.get("/seller/shipments/SH-RIVAL")
    product = page.post(
        "/seller/products/RIVAL-1", data={"csrf_token": token, "head_start_excluded": "on"}
    )

    assert shipment.status_code == 404
    assert "SH-RIVAL" in shipment.text  # the id asked for, and nothing of the shipment
    assert "US-TX" not in shipment.text
    assert product.status_code == 403
    assert market.offer("RIVAL-1")["buyer_state"] == "head_start"  # unchanged


# ---------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    "path", ["/", "/sign-in", "/shop", "/static/htmx.min.js", "/static/app.css", "/seller"]
)
def test_pages_carry_security_headers(server: Server, market: Market, path: str) -> None:
    seller = market.add_seller()
    response = signed_in(server, key_of(market.sellers[seller])).get(path)

    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_signed_in_pages_are_never_cached(server: Server, market: Market) -> None:
    response = signed_in(server, OPERATOR_KEY).get("/operator/outbox")

    assert response.headers["cache-control"] == "no-store"
