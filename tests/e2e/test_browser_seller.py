"""The seller's dashboard in Chromium (issue 5): opt-out with the 72-hour date shown first (R1),
shipments with their ETA bands, shipments at risk, head-start orders, the R13 report and R1a."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browser import (
    key_of,
    page_in,
    screenshot,
    server_and_browser,
    sign_in,
)
from tests.e2e.server import ServerProcess
from tests.support import T0, Market
from tests.support import expect as expect_status

pytestmark = pytest.mark.e2e

VIEWER_ZONE = "America/New_York"  # the browser's zone, preselected at sign-in
# T0 + 72 h = 2026-03-05T15:00Z, 10:00 in New York (EST until 8 March)
OPT_OUT_EFFECTIVE_TEXT = "Thu 5 Mar 2026, 10:00 EST"
LATE_ETA = "2026-03-12T12:00:00+00:00"


@dataclass
class World:
    server: ServerProcess
    market: Market
    seller: str
    browser: Browser


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("browser-seller")
    with server_and_browser(tmp) as (server, browser), server.client() as http:
        market = Market(http)
        market.set_clock(T0)
        market.add_fc("LAX1", "America/Los_Angeles", region="us-west")
        market.add_fc("EWR1", "America/New_York", region="us-east")
        market.add_storefront()
        seller = market.add_seller("Northwind")
        market.add_product(seller, "NW-KETTLE", title="Pour-over kettle")
        market.add_product(seller, "NW-SKILLET", title="Cast iron skillet")
        market.add_product(seller, "NW-BOARD", title="Bamboo cutting board")
        market.add_shipment(seller, "SH-PARCEL", {"NW-KETTLE": 40}, shipped_at=T0)
        market.add_shipment(
            seller,
            "SH-OCEAN",
            {"NW-SKILLET": 300},
            program="global_logistics",
            mode="ocean",
            shipped_at=T0,
        )
        market.add_shipment(
            seller, "SH-OWN", {"NW-BOARD": 12}, program="own_carrier", shipped_at=T0
        )
        expect_status(market.order("NW-KETTLE", 2, buyer="buyer-7"), 201)
        market.events(
            {
                "event_id": "delay-1",
                "shipment_id": "SH-PARCEL",
                "type": "delayed",
                "occurred_at": T0,
                "carrier_eta": LATE_ETA,
            }
        )
        yield World(server, market, seller, browser)
        server.assert_no_server_errors()


def test_r1_seller_opts_out_and_sees_the_72_hour_date_before_and_after_confirming(
    world: World,
) -> None:
    with page_in(world.browser, world.server.base_url, timezone_id=VIEWER_ZONE) as page:
        sign_in(page, key_of(world.market.sellers[world.seller]))
        expect(page.get_by_role("heading", level=1)).to_have_text("Northwind")
        expect(page.get_by_text(f"times in {VIEWER_ZONE}")).to_be_visible()
        screenshot(page, "seller-overview")

        page.get_by_role("link", name="Enrollment", exact=True).click()
        expect(page.locator("#enrollment-state")).to_have_text("Enrolled")
        screenshot(page, "seller-enrollment")

        page.get_by_role("link", name="Opt out of Head Start…").click()
        expect(page.locator("#opt-out-preview")).to_have_text(OPT_OUT_EFFECTIVE_TEXT)
        expect(page.get_by_text("That is Thu 5 Mar 2026, 07:00 PST at LAX1")).to_be_visible()
        screenshot(page, "seller-opt-out-confirm")

        page.get_by_role("button", name="Confirm opt-out").focus()
        page.keyboard.press("Enter")  # the whole flow works from the keyboard
        expect(page.get_by_role("status")).to_contain_text("Opt-out confirmed")
        expect(page.locator("#enrollment-state")).to_have_text("Opt-out confirmed, taking effect")
        expect(page.locator("#opt-out-effective strong")).to_have_text(OPT_OUT_EFFECTIVE_TEXT)
        screenshot(page, "seller-enrollment-opted-out")

    enrollment = expect_status(
        world.market.client.get(
            f"/v1/sellers/{world.seller}/enrollment", headers=world.market.sellers[world.seller]
        ),
        200,
    )
    assert enrollment["opt_out_effective_for_shipments_created_from"] == "2026-03-05T15:00:00+00:00"


def test_seller_sees_shipments_eta_bands_risk_orders_report_and_sets_a_cap(
    world: World,
) -> None:
    with page_in(world.browser, world.server.base_url, timezone_id=VIEWER_ZONE) as page:
        sign_in(page, key_of(world.market.sellers[world.seller]), next_path="/seller/shipments")

        chart = page.get_by_role("img", name="Estimated in-stock time of each shipment")
        expect(chart).to_be_visible()
        expect(chart.locator(".band-range")).to_have_count(3)  # every shipped one
        own = page.get_by_role("row").filter(has_text="SH-OWN")
        expect(own).to_contain_text("Its carrier program gives the marketplace no tracking data")
        screenshot(page, "seller-shipments")

        page.get_by_role("link", name="SH-PARCEL").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Shipment SH-PARCEL")
        expect(page.get_by_role("img", name="Estimated in-stock time of SH-PARCEL")).to_be_visible()
        screenshot(page, "seller-shipment")

        page.get_by_role("link", name="At risk").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Shipments at risk")
        risky = page.get_by_role("row").filter(has_text="SH-PARCEL")
        expect(risky).to_contain_text("The carrier reported a delay.")
        screenshot(page, "seller-at-risk")

        page.get_by_role("link", name="Head-start orders").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Head-start orders")
        order = page.get_by_role("row").filter(has_text="NW-KETTLE")
        order.get_by_text("1 revision").click()  # opens the promise history
        expect(order).to_contain_text("A tracking event changed the shipment's estimate")
        screenshot(page, "seller-orders")

        page.get_by_role("link", name="Inventory report").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Inventory report")
        expect(page.get_by_role("row").filter(has_text="NW-KETTLE").first).to_contain_text("LAX1")
        screenshot(page, "seller-inventory")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download CSV").click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
        kettle = next(row for row in rows if row["sku"] == "NW-KETTLE")
        assert kettle["head_start_reserved"] == "2"

        page.get_by_role("link", name="Products").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Products")
        page.get_by_label("Cap (units) NW-KETTLE").fill("5")
        page.get_by_role("button", name="Save NW-KETTLE").click()
        expect(page.get_by_role("status")).to_contain_text("Saved")
        expect(page.locator("#cap-NW-KETTLE")).to_have_value("5")
        screenshot(page, "seller-products")

    offer = world.market.offer("NW-KETTLE")
    assert offer["available_quantity"] <= 5 - 2  # R1a: the cap counts the 2 units promised
