"""The pages show what the services decide (issue 5), on both engines: R1's 72-hour date before
confirming, R18's three states, R8 on a double-submitted order form, R1a and policy validation,
R13's CSV, every page rendering with live data, and the pinned htmx."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

import headstart.web
from tests.integration.checks import order_of
from tests.integration.conftest import Server
from tests.integration.test_web_security import csrf_of, key_of, signed_in
from tests.support import OPERATOR_KEY, T0, Market, expect

STATIC = Path(headstart.web.__file__).parent / "static"


@pytest.fixture
def seller(market: Market) -> str:
    """Acme: a head-start kettle (shipped parcel), cups on the shelf, an own-carrier lantern."""
    seller = market.add_seller("Acme")
    market.add_product(seller, "KETTLE", title="Pour-over kettle")
    market.add_product(seller, "CUPS", title="Tea cups")
    market.add_product(seller, "LANTERN", title="Camp lantern")
    market.add_shipment(seller, "SH-KETTLE", {"KETTLE": 30}, shipped_at=T0)
    market.add_shipment(seller, "SH-LANTERN", {"LANTERN": 9}, program="own_carrier", shipped_at=T0)
    expect(
        market.client.post(
            "/v1/inventory/adjustments",
            json={"sku": "CUPS", "fc": "LAX1", "delta": 5, "reason": "found"},
            headers=market.operator,
        ),
        200,
    )
    return seller


def test_htmx_is_the_pinned_file_recorded_in_vendored_md() -> None:
    recorded = re.search(
        r"`htmx.min.js` \| `htmx.org` \(npm\) \| 2\.0\.4 \|[^|]*\| `([0-9a-f]{64})`",
        (STATIC / "VENDORED.md").read_text(),
    )
    assert recorded, "VENDORED.md names no sha256 for htmx.min.js"
    assert hashlib.sha256((STATIC / "htmx.min.js").read_bytes()).hexdigest() == recorded.group(1)


def test_r1_the_opt_out_date_is_shown_before_confirming_and_is_the_one_recorded(
    server: Server, market: Market, seller: str
) -> None:
    page = signed_in(server, key_of(market.sellers[seller]), zone="America/Los_Angeles")

    preview = page.get("/seller/enrollment/opt-out").text
    token = csrf_of(preview)
    page.post("/seller/enrollment/opt-out", data={"csrf_token": token})
    after = page.get("/seller/enrollment").text

    # T0 + 72 h = 2026-03-05T15:00Z: 07:00 in Los Angeles, shown before and after confirming
    assert '<time datetime="2026-03-05T15:00:00+00:00">Thu 5 Mar 2026, 07:00 PST</time>' in preview
    assert "Thu 5 Mar 2026, 07:00 PST" in after
    enrollment = expect(
        market.client.get(f"/v1/sellers/{seller}/enrollment", headers=market.sellers[seller]),
        200,
    )
    assert enrollment["opt_out_effective_for_shipments_created_from"] == (
        "2026-03-05T15:00:00+00:00"
    )


def test_r18_search_shows_three_states_and_a_date_only_when_buyable(
    server: Server, market: Market, seller: str
) -> None:
    text = signed_in(server, key_of(market.storefront)).get("/shop?region=us-west").text
    cards = dict(re.findall(r'data-sku="([A-Z]+)">(.*?)</li>', text, flags=re.S))

    assert "Ships from incoming stock" in cards["KETTLE"]
    assert "In stock" in cards["CUPS"]
    assert "Temporarily out of stock" in cards["LANTERN"]
    kettle = market.offer("KETTLE")
    assert f'datetime="{kettle["promised_delivery_date"]}"' in cards["KETTLE"]
    assert "Arrives by" not in cards["LANTERN"]


def test_r8_a_double_submitted_order_form_places_one_order(
    server: Server, market: Market, seller: str
) -> None:
    page = signed_in(server, key_of(market.storefront))
    form = page.get("/shop/products/KETTLE?region=us-west").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key
    body = {
        "csrf_token": csrf_of(form),
        "sku": "KETTLE",
        "region": "us-west",
        "quantity": "2",
        "buyer_ref": "double-clicker",
        "idempotency_key": key.group(1),
    }

    first, second = page.post("/shop/orders", data=body), page.post("/shop/orders", data=body)

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    order_id = first.headers["location"].rsplit("/", 1)[-1]
    assert order_of(market, order_id)["quantity"] == 2
    assert expect(market.client.get("/v1/reports/inventory", headers=market.sellers[seller]), 200)[
        "head_start_orders"
    ] == [
        {
            "order_id": order_id,
            "sku": "KETTLE",
            "fc": "LAX1",
            "quantity": 2,
            "buyer_ref": "double-clicker",
            "status": "promised",
            "promised_in_stock_date": order_of(market, order_id)["promise"][
                "promised_in_stock_date"
            ],
            "promised_delivery_date": order_of(market, order_id)["promise"][
                "promised_delivery_date"
            ],
        }
    ]


def test_an_order_the_offer_no_longer_covers_shows_the_fresh_offer_with_409(
    server: Server, market: Market, seller: str
) -> None:
    page = signed_in(server, key_of(market.storefront))
    form = page.get("/shop/products/LANTERN?region=us-west").text

    response = page.post(
        "/shop/orders",
        data={"csrf_token": csrf_of(form), "sku": "LANTERN", "region": "us-west", "quantity": "1"},
    )

    assert response.status_code == 409
    assert "cannot be promised" in response.text
    assert "Temporarily out of stock" in response.text


def test_r1a_the_cap_form_saves_a_cap_and_refuses_a_negative_one(
    server: Server, market: Market, seller: str
) -> None:
    page = signed_in(server, key_of(market.sellers[seller]))
    token = csrf_of(page.get("/seller/products").text)

    bad = page.post("/seller/products/KETTLE", data={"csrf_token": token, "head_start_cap": "-1"})
    good = page.post("/seller/products/KETTLE", data={"csrf_token": token, "head_start_cap": "4"})

    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text
    assert good.status_code == 303
    assert market.offer("KETTLE")["available_quantity"] == 4


def test_a_policy_value_out_of_range_is_refused_and_changes_nothing(
    server: Server, market: Market
) -> None:
    page = signed_in(server, OPERATOR_KEY)
    form = page.get("/operator/policy").text
    fields = dict(re.findall(r'<input id="([a-z_]+)" name="\1" value="([^"]*)"', form))
    before = expect(market.client.get("/v1/policy", headers=market.operator), 200)

    response = page.post(
        "/operator/policy", data={**fields, "horizon_days": "0", "csrf_token": csrf_of(form)}
    )

    assert response.status_code == 422
    assert 'id="horizon_days-error"' in response.text
    assert expect(market.client.get("/v1/policy", headers=market.operator), 200) == before


def test_the_inventory_csv_download_is_the_r13_report(
    server: Server, market: Market, seller: str
) -> None:
    page = signed_in(server, key_of(market.sellers[seller]))

    download = page.get("/seller/inventory.csv")

    api = market.client.get(
        "/v1/reports/inventory", params={"format": "csv"}, headers=market.sellers[seller]
    )
    assert download.headers["content-disposition"] == (
        f'attachment; filename="inventory-{seller}.csv"'
    )
    assert download.text == api.text


def test_r17_explain_page_gives_the_reasons_a_sku_is_not_buyable(
    server: Server, market: Market, seller: str
) -> None:
    page = signed_in(server, OPERATOR_KEY)

    text = page.get("/operator/explain", params={"sku": "LANTERN", "region": "us-west"}).text
    missing = page.get("/operator/explain", params={"sku": "NOPE"})

    why_not = text.split('<div id="why-not">', 1)[1].split("</div>", 1)[0]
    assert re.findall(r"<code>([a-z_]+)</code>", why_not) == market.offer("LANTERN")["reasons"]
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("role", "paths"),
    [
        (
            "seller",
            [
                "/seller",
                "/seller/enrollment",
                "/seller/enrollment/opt-out",
                "/seller/shipments",
                "/seller/shipments/SH-KETTLE",
                "/seller/at-risk",
                "/seller/orders",
                "/seller/inventory",
                "/seller/products",
                "/preferences",
            ],
        ),
        ("storefront", ["/", "/shop", "/shop?q=kettle", "/shop/products/KETTLE", "/preferences"]),
        (
            "operator",
            [
                "/operator",
                "/operator/policy",
                "/operator/explain?sku=KETTLE",
                "/operator/accuracy",
                "/operator/outbox",
            ],
        ),
    ],
)
def test_every_page_renders_with_live_data(
    server: Server, market: Market, seller: str, role: str, paths: list[str]
) -> None:
    expect(market.order("KETTLE", 1), 201)
    key = {
        "seller": key_of(market.sellers[seller]),
        "storefront": key_of(market.storefront),
        "operator": OPERATOR_KEY,
    }[role]
    page = signed_in(server, key, zone="Europe/Berlin")

    for path in paths:
        response = page.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert response.headers["content-type"].startswith("text/html")
        assert "<main" in response.text
