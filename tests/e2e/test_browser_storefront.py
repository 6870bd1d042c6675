"""The storefront in Chromium (issue 5): search with the three buyer states (R18), a head-start
order and its date, a delay and the one-step cancel from its notice (R9a), and no-JS ordering."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from headstart.web.rendering import day_text
from tests.e2e.browser import (
    key_of,
    page_in,
    screenshot,
    server_and_browser,
    sign_in,
)
from tests.e2e.server import ServerProcess
from tests.support import OPERATOR_KEY, T0, Market, bearer
from tests.support import expect as expect_status

pytestmark = pytest.mark.e2e

BUYER_ZONE = "America/Los_Angeles"
LATE_ETA = "2026-03-12T12:00:00+00:00"  # days past the prior's median: promises are at risk


@dataclass
class World:
    server: ServerProcess
    market: Market
    browser: Browser

    @property
    def storefront_key(self) -> str:
        return key_of(self.market.storefront)

    def order_view(self, order_id: str) -> dict:
        return expect_status(
            self.market.client.get(f"/v1/orders/{order_id}", headers=self.market.storefront), 200
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("browser-storefront")
    with server_and_browser(tmp) as (server, browser), server.client() as http:
        market = Market(http)
        market.set_clock(T0)
        market.add_fc("LAX1", "America/Los_Angeles", region="us-west")
        market.add_storefront()
        seller = market.add_seller("Northwind")
        market.add_product(seller, "KETTLE", title="Pour-over kettle")
        market.add_product(seller, "CUPS", title="Tea cups, set of four")
        market.add_product(seller, "LANTERN", title="Camp lantern")
        market.add_shipment(seller, "SH-KETTLE", {"KETTLE": 50}, shipped_at=T0)
        market.add_shipment(
            seller, "SH-LANTERN", {"LANTERN": 20}, program="own_carrier", shipped_at=T0
        )
        expect_status(
            http.post(
                "/v1/inventory/adjustments",
                json={"sku": "CUPS", "fc": "LAX1", "delta": 10, "reason": "found"},
                headers=bearer(OPERATOR_KEY),
            ),
            200,
        )
        yield World(server, market, browser)
        server.assert_no_server_errors()


def test_r18_search_shows_the_three_buyer_states_and_dates_only_with_confidence(
    world: World,
) -> None:
    with page_in(world.browser, world.server.base_url, timezone_id=BUYER_ZONE) as page:
        page.goto("/shop?region=us-west")
        results = page.locator("#results")
        expect(results.locator("[data-sku=KETTLE]")).to_contain_text("Ships from incoming stock")
        expect(results.locator("[data-sku=CUPS]")).to_contain_text("In stock")
        lantern = results.locator("[data-sku=LANTERN]")
        expect(lantern).to_contain_text("Temporarily out of stock")
        expect(lantern).not_to_contain_text("Arrives by")  # R18: no date without confidence
        screenshot(page, "shop-search")

        # Keyboard: the first stop skips the navigation, and a product opens with Enter.
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.get_by_role("link", name="Pour-over kettle").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Pour-over kettle")


def test_buyer_finds_a_head_start_product_orders_it_and_sees_the_date(world: World) -> None:
    offer = world.market.offer("KETTLE", quantity=2)
    assert offer["buyer_state"] == "head_start"
    promised = day_text(offer["promised_delivery_date"])
    with page_in(world.browser, world.server.base_url, timezone_id=BUYER_ZONE) as page:
        sign_in(page, world.storefront_key, next_path="/shop")
        page.get_by_label("Search products").fill("kettle")  # htmx narrows the results
        expect(page.locator("#results .result")).to_have_count(1)
        page.get_by_role("link", name="Pour-over kettle").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Pour-over kettle")
        expect(page.locator("#offer")).to_contain_text("Ships from incoming stock")
        screenshot(page, "shop-product")

        page.get_by_label("Units to order").fill("2")
        page.get_by_role("button", name="Order now").click()
        expect(page.locator("#order-status")).to_have_text("promised")
        expect(page.locator("#order-delivery-date")).to_have_text(promised)
        screenshot(page, "shop-order")
        order_id = page.url.rsplit("/", 1)[-1]

    placed = world.order_view(order_id)
    assert (placed["quantity"], placed["source"]) == (2, "head_start")
    assert placed["promise"]["promised_delivery_date"] == offer["promised_delivery_date"]


def test_r9a_a_delay_arrives_and_the_buyer_cancels_from_the_notice(world: World) -> None:
    order = expect_status(world.market.order("KETTLE", 1, buyer="buyer-delay"), 201)
    world.market.events(
        {
            "event_id": "delay-1",
            "shipment_id": "SH-KETTLE",
            "type": "delayed",
            "occurred_at": T0,
            "carrier_eta": LATE_ETA,
        }
    )
    revised = world.order_view(order["order_id"])["promise"]
    assert revised["promised_delivery_date"] > order["promise"]["promised_delivery_date"]

    with page_in(world.browser, world.server.base_url, timezone_id=BUYER_ZONE) as page:
        sign_in(page, world.storefront_key, next_path=f"/shop/orders/{order['order_id']}")
        notice = page.get_by_role("region", name="Your order is delayed")
        expect(notice).to_be_visible()
        expect(notice.locator("#revised-date")).to_have_text(
            day_text(revised["promised_delivery_date"])
        )
        expect(notice).to_contain_text(day_text(order["promise"]["promised_delivery_date"]))
        screenshot(page, "shop-order-delayed")

        notice.get_by_role("button", name="Cancel order for a full refund").click()
        expect(page.get_by_role("status")).to_contain_text("cancelled and fully refunded")
        expect(page.locator("#order-status")).to_contain_text("cancelled")
        expect(page.get_by_role("region", name="Your order is delayed")).to_have_count(0)
        screenshot(page, "shop-order-cancelled")

    after = world.order_view(order["order_id"])
    assert (after["status"], after["cancel_reason"]) == ("cancelled", "buyer_cancelled")


def test_ordering_works_without_javascript(world: World) -> None:
    with page_in(
        world.browser, world.server.base_url, java_script_enabled=False, timezone_id=BUYER_ZONE
    ) as page:
        sign_in(page, world.storefront_key, next_path="/shop/products/CUPS?region=us-west")
        expect(page.locator("#offer")).to_contain_text("In stock")
        page.get_by_role("button", name="Order now").click()
        expect(page.locator("#order-status")).to_have_text("allocated")
        expect(page.locator("#order-delivery-date")).to_have_text(
            day_text(world.market.offer("CUPS")["promised_delivery_date"])
        )
        screenshot(page, "shop-order-no-js")
