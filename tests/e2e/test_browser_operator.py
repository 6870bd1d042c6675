"""The operator's console in Chromium (issue 5): why a SKU is or is not buyable (R17), policy
editing with validation, promise accuracy charts and the outbox (R15)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browser import page_in, screenshot, server_and_browser, sign_in
from tests.e2e.server import ServerProcess
from tests.support import OPERATOR_KEY, T0, Market
from tests.support import expect as expect_status

pytestmark = pytest.mark.e2e

OPERATOR_ZONE = "Europe/London"


@dataclass
class World:
    server: ServerProcess
    market: Market
    browser: Browser

    def policy(self) -> dict:
        return expect_status(
            self.market.client.get("/v1/policy", headers=self.market.operator), 200
        )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("browser-operator")
    with server_and_browser(tmp) as (server, browser), server.client() as http:
        market = Market(http)
        market.set_clock(T0)
        market.add_fc("LAX1", "America/Los_Angeles", region="us-west")
        market.add_storefront()
        seller = market.add_seller("Northwind")
        for sku, title in (
            ("KETTLE", "Pour-over kettle"),
            ("SKILLET", "Cast iron skillet"),
            ("STOVE", "Camp stove"),
            ("LANTERN", "Camp lantern"),
        ):
            market.add_product(seller, sku, title=title)
        market.add_shipment(seller, "SH-KETTLE", {"KETTLE": 30}, shipped_at=T0)
        market.add_shipment(seller, "SH-SKILLET", {"SKILLET": 30}, mode="ltl", shipped_at=T0)
        market.add_shipment(
            seller, "SH-LANTERN", {"LANTERN": 9}, program="own_carrier", shipped_at=T0
        )
        expect_status(market.order("KETTLE", 2, buyer="on-time"), 201)
        expect_status(market.order("SKILLET", 1, buyer="let-down"), 201)
        # The skillets are lost: their order is cancelled for lack of supply (late, R10).
        market.events(
            {
                "event_id": "lost-1",
                "shipment_id": "SH-SKILLET",
                "type": "exception",
                "occurred_at": T0,
                "reason": "lost",
            }
        )
        expect_status(
            http.post(f"/v1/sellers/{seller}/enrollment/opt-out", headers=market.sellers[seller]),
            200,
        )
        market.advance(24 * 8)
        # The kettles arrive early: their waiting order is allocated before its date (R11).
        market.receive("SH-KETTLE", "rc-1", "2026-03-10T15:00:00+00:00", {"KETTLE": 30})
        market.add_shipment(
            seller,
            "SH-STOVE",
            {"STOVE": 12},
            created_at="2026-03-04T15:00:00+00:00",
            shipped_at="2026-03-10T15:00:00+00:00",
        )
        yield World(server, market, browser)
        server.assert_no_server_errors()


def test_r17_operator_looks_up_why_a_sku_is_not_buyable_and_why_a_date(world: World) -> None:
    with page_in(world.browser, world.server.base_url, timezone_id=OPERATOR_ZONE) as page:
        sign_in(page, OPERATOR_KEY)
        expect(page.get_by_role("heading", level=1)).to_have_text("Operator console")
        screenshot(page, "operator-console")

        page.get_by_role("link", name="Why (not) buyable").first.click()
        page.get_by_label("SKU").fill("LANTERN")
        page.get_by_label("Region").select_option("us-west")
        page.get_by_role("button", name="Explain").click()
        why_not = page.locator("#why-not")
        expect(why_not).to_contain_text("carrier_program_not_eligible")
        expect(why_not).to_contain_text(
            "Its carrier program gives the marketplace no tracking data (R2)."
        )
        expect(why_not).to_contain_text("no_counted_inbound_supply")
        lots = page.get_by_role("row").filter(has_text="SH-LANTERN")
        expect(lots).to_contain_text("no")  # the lot does not count
        screenshot(page, "operator-explain-not-buyable")

        page.get_by_label("SKU").fill("STOVE")
        page.get_by_role("button", name="Explain").click()
        explanation = page.locator("#explanation")
        expect(explanation).to_contain_text("Ships from incoming stock")
        expect(explanation).to_contain_text("Why this date")
        expect(page.get_by_role("row").filter(has_text="SH-STOVE")).to_contain_text("yes")
        screenshot(page, "operator-explain-buyable")


def test_operator_edits_the_policy_and_a_bad_value_changes_nothing(world: World) -> None:
    before = world.policy()
    with page_in(world.browser, world.server.base_url, timezone_id=OPERATOR_ZONE) as page:
        sign_in(page, OPERATOR_KEY, next_path="/operator/policy")
        page.get_by_label("At-risk threshold q_low (R9)").fill("0.99")  # above q = 0.97
        page.get_by_role("button", name="Save policy").click()
        expect(page.get_by_role("alert")).to_contain_text("q_low <= q")
        screenshot(page, "operator-policy-invalid")
        assert world.policy() == before

        page.get_by_label("At-risk threshold q_low (R9)").fill("0.92")
        page.get_by_label("Horizon H, days (R4)").fill("28")
        page.get_by_role("button", name="Save policy").click()
        expect(page.get_by_role("status")).to_contain_text("Saved")
        screenshot(page, "operator-policy")
    assert world.policy() == {**before, "q_low": 0.92, "horizon_days": 28}


def test_operator_sees_promise_accuracy_by_mode_and_week_and_the_outbox(world: World) -> None:
    with page_in(world.browser, world.server.base_url, timezone_id=OPERATOR_ZONE) as page:
        sign_in(page, OPERATOR_KEY, next_path="/operator/accuracy")
        expect(page.get_by_role("img", name="On time to promise, parcel, by week")).to_be_visible()
        expect(page.get_by_role("img", name="On time to promise, ltl, by week")).to_be_visible()
        expect(page.get_by_role("img", name="Mean padding by mode (days early)")).to_be_visible()
        by_mode = page.get_by_role("table", name="By mode", exact=True)
        expect(by_mode.get_by_role("row").filter(has_text="parcel")).to_contain_text("100.0%")
        expect(by_mode.get_by_role("row").filter(has_text="ltl")).to_contain_text("0.0%")
        screenshot(page, "operator-accuracy")

        page.get_by_role("link", name="Outbox").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Outbox")
        outbox = page.get_by_role("table")
        expect(outbox).to_contain_text("opt_out_confirmation")
        expect(outbox).to_contain_text("northwind@example.com")
        screenshot(page, "operator-outbox")
