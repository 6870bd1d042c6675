"""One seller's walk through Head Start, over HTTP against the real server (DESIGN.md R1-R18).

The sandbox clock starts at T0 and moves only when a step moves it. Each part
of the walk uses SKUs of its own, so the steps do not lean on each other except
through the seller's enrollment (R1), which is the point of the first steps.
A ledger of every order placed lets the last step check the inventory report
against what buyers were actually told (R13).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.crowd import fire_together, order_body
from tests.e2e.server import ServerProcess
from tests.support import T0, Market, expect

pytestmark = pytest.mark.e2e

SELLER_NAME = "Walker"
SELLER_EMAIL = "walker@example.com"  # Market.add_seller derives it from the name
REPORT_CSV_COLUMNS = (
    "sku",
    "fc",
    "sellable",
    "allocated",
    "inbound_working",
    "inbound_shipped",
    "inbound_receiving",
    "head_start_reserved",
    "head_start_available",
    "pilot_in_stock",
    "pilot_inbound",
    "fee_basis_units",
)


@dataclass
class Walk:
    """The marketplace, the seller walking through it, the sandbox time, and every order."""

    market: Market
    base_url: str
    seller: str = ""
    now: datetime = field(default_factory=lambda: datetime.fromisoformat(T0))
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # order_id -> latest view

    @property
    def client(self) -> httpx.Client:
        return self.market.client

    @property
    def as_seller(self) -> dict[str, str]:
        return self.market.sellers[self.seller]

    def advance(self, hours: float) -> None:
        self.now += timedelta(hours=hours)
        assert self.market.advance(hours)["now"] == self.now.isoformat()

    def enrollment(self) -> dict[str, Any]:
        return expect(
            self.client.get(f"/v1/sellers/{self.seller}/enrollment", headers=self.as_seller), 200
        )

    def ship_now(self, shipment_id: str, sku: str, units: int, **options: Any) -> dict[str, Any]:
        """A shipment created and shipped at the current sandbox instant."""
        self.market.add_product(self.seller, sku)
        return self.market.add_shipment(
            self.seller, shipment_id, {sku: units}, shipped_at=self.now.isoformat(), **options
        )

    def shipment(self, shipment_id: str) -> dict[str, Any]:
        return expect(self.client.get(f"/v1/shipments/{shipment_id}", headers=self.as_seller), 200)

    def order(self, sku: str, buyer: str, quantity: int = 1) -> dict[str, Any]:
        placed = expect(self.market.order(sku, quantity, buyer=buyer), 201)
        self.orders[placed["order_id"]] = placed
        return placed

    def refused(self, sku: str, buyer: str, quantity: int = 1) -> dict[str, Any]:
        error = expect(self.market.order(sku, quantity, buyer=buyer), 409)["error"]
        assert error["code"] == "unavailable"
        return error

    def reread(self, order_id: str) -> dict[str, Any]:
        view = expect(
            self.client.get(f"/v1/orders/{order_id}", headers=self.market.storefront), 200
        )
        self.orders[order_id] = view
        return view

    def report(self, **params: str) -> Any:
        return expect(
            self.client.get("/v1/reports/inventory", params=params, headers=self.as_seller), 200
        )


def days(value: str) -> date:
    return date.fromisoformat(value)


DATES = ("promised_in_stock_date", "promised_ship_date", "promised_delivery_date")


def shows_no_date(offer: dict[str, Any]) -> bool:
    """R18: an offer that is not buyable shows no date and no confidence at all."""
    return all(offer[name] is None for name in (*DATES, "confidence"))


# --------------------------------------------------------------------------- steps


def step_open_the_marketplace_and_enroll(walk: Walk) -> None:
    """R1: enrollment is seller-level; the seller starts out enrolled."""
    market = walk.market
    market.set_clock(T0)
    market.add_fc("LAX1", "America/Los_Angeles")
    market.add_storefront()
    walk.seller = market.add_seller(SELLER_NAME)
    enrollment = walk.enrollment()
    assert (enrollment["state"], enrollment["enrolled_at"]) == ("enrolled", T0)
    assert enrollment["opt_out_confirmed_at"] is None


def step_opt_out_then_create_shipments_at_71h_and_73h(walk: Walk) -> None:
    """R1: shipments created before t_c + 72h participate, those created from then on do not."""
    t_c = walk.now
    confirmed = expect(
        walk.client.post(f"/v1/sellers/{walk.seller}/enrollment/opt-out", headers=walk.as_seller),
        200,
    )
    effective = (t_c + timedelta(hours=72)).isoformat()
    assert confirmed["state"] == "opt_out_requested"
    assert confirmed["opt_out_confirmed_at"] == t_c.isoformat()
    assert confirmed["opt_out_effective_for_shipments_created_from"] == effective
    # The confirmation e-mail, queued with the opt-out, states t_c + 72h
    (mail,) = walk.market.notifications("opt_out_confirmation")
    assert mail["recipient"] == SELLER_EMAIL
    assert mail["payload"]["effective_for_shipments_created_from"] == effective
    assert effective in mail["body"]

    walk.advance(71)
    early = walk.ship_now("SH-OPT-71H", "OPT-71H", 10)
    assert early["participation"] == {"participates": True, "reasons": []}
    promised_before = walk.order("OPT-71H", "opt-buyer")  # a promise made before t_c + 72h

    walk.advance(2)
    assert walk.enrollment()["state"] == "opted_out"
    late = walk.ship_now("SH-OPT-73H", "OPT-73H", 10)
    assert late["participation"] == {
        "participates": False,
        "reasons": ["seller_not_enrolled_when_created"],
    }
    offer = walk.market.offer("OPT-73H")
    assert (offer["buyable"], offer["buyer_state"]) == (False, "temporarily_out_of_stock")
    assert "seller_not_enrolled_when_created" in offer["reasons"]
    assert shows_no_date(offer)

    # The 71 h shipment keeps participating until it closes; its promise is honored
    assert walk.shipment("SH-OPT-71H")["participation"]["participates"] is True
    assert walk.market.offer("OPT-71H")["buyer_state"] == "head_start"
    still = walk.reread(promised_before["order_id"])
    assert (still["status"], still["promise"]) == ("promised", promised_before["promise"])


def step_enroll_again(walk: Walk) -> None:
    """R1: a new enrollment covers shipments created after it, not the ones before."""
    walk.advance(1)
    enrolled = expect(
        walk.client.post(f"/v1/sellers/{walk.seller}/enrollment", headers=walk.as_seller), 200
    )
    assert (enrolled["state"], enrolled["enrolled_at"]) == ("enrolled", walk.now.isoformat())
    assert walk.shipment("SH-OPT-73H")["participation"]["reasons"] == [
        "seller_not_enrolled_when_created"
    ]


def step_own_carrier_is_not_eligible_but_partnered_is(walk: Walk) -> None:
    """R2: only carrier programs that give the marketplace tracking data count (R2a off)."""
    own = walk.ship_now("SH-OWN", "CARRIER-OWN", 10, program="own_carrier")
    partnered = walk.ship_now("SH-PARTNERED", "CARRIER-PARTNERED", 10)
    assert own["participation"] == {
        "participates": False,
        "reasons": ["carrier_program_not_eligible"],
    }
    assert partnered["participation"] == {"participates": True, "reasons": []}
    own_offer = walk.market.offer("CARRIER-OWN")
    assert own_offer["buyable"] is False
    assert "carrier_program_not_eligible" in own_offer["reasons"]
    assert walk.market.offer("CARRIER-PARTNERED")["buyer_state"] == "head_start"


def step_far_ocean_lot_does_not_count_but_near_parcel_does(walk: Walk) -> None:
    """R4/R18: a lot whose in-stock time lies beyond H offers nothing, and no date is shown."""
    ocean = walk.ship_now("SH-OCEAN", "FAR-OCEAN", 40, program="global_logistics", mode="ocean")
    assert ocean["participation"]["participates"] is True  # eligible, just too far out
    horizon_end = walk.now + timedelta(days=21)
    assert datetime.fromisoformat(ocean["estimate"]["p99"]) > horizon_end
    far = walk.market.offer("FAR-OCEAN")
    assert far["buyable"] is False
    assert far["buyer_state"] == "temporarily_out_of_stock"
    assert far["source"] == "none"
    assert "beyond_horizon" in far["reasons"]
    assert far["available_quantity"] == 0
    assert shows_no_date(far)
    walk.refused("FAR-OCEAN", "ocean-buyer")

    parcel = walk.ship_now("SH-NEAR", "NEAR-PARCEL", 20)
    near = walk.market.offer("NEAR-PARCEL")
    assert (near["buyable"], near["buyer_state"], near["source"]) == (
        True,
        "head_start",
        "head_start",
    )
    assert near["fc"] == "LAX1"
    assert near["available_quantity"] == 19  # R5: floor(20 x 0.95)
    # R7: the in-stock date is the shipment's promised quantile as an FC-local date,
    # the ship date the next operating day after one handling day, then 2 days to us-west
    assert near["promised_in_stock_date"] == parcel["estimate"]["promised_in_stock_date"]
    in_stock, ship = days(near["promised_in_stock_date"]), days(near["promised_ship_date"])
    assert ship >= in_stock + timedelta(days=1)
    assert ship.weekday() < 5
    assert days(near["promised_delivery_date"]) == ship + timedelta(days=2)
    assert near["confidence"] >= 0.97  # R4: promised at q = 0.97 or wider
    assert walk.now.date() < in_stock <= (walk.now + timedelta(days=21)).date()


def step_seller_caps_head_start_units(walk: Walk) -> None:
    """R1a: a cap bounds head-start orders, so a seller can sell out without overselling."""
    walk.ship_now("SH-CAP", "CAPPED", 20)
    assert walk.market.offer("CAPPED")["available_quantity"] == 19
    capped = expect(
        walk.client.put(
            "/v1/products/CAPPED",
            json={"title": "Capped product", "price": "19.99", "head_start_cap": 5},
            headers=walk.as_seller,
        ),
        200,
    )
    assert capped["head_start_cap"] == 5
    offer = walk.market.offer("CAPPED")
    assert (offer["buyable"], offer["available_quantity"]) == (True, 5)
    for n in range(5):
        walk.order("CAPPED", f"cap-buyer-{n}")
    sixth = walk.refused("CAPPED", "cap-buyer-6")
    assert "head_start_cap" in sixth["details"]["reasons"]
    assert walk.market.offer("CAPPED")["buyable"] is False


def step_a_crowd_buys_one_sku_at_once(walk: Walk) -> None:
    """R8: 30 buyers at the same instant for 19 units: exactly 19 are promised."""
    walk.ship_now("SH-CROWD", "CROWD", 20)
    responses = fire_together(
        walk.base_url,
        30,
        lambda http, i: http.post(
            "/v1/orders", json=order_body("CROWD", f"crowd-{i}"), headers=walk.market.storefront
        ),
    )
    assert Counter(r.status_code for r in responses) == {201: 19, 409: 11}
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"unavailable"}
    for response in responses:
        if response.status_code == 201:
            walk.orders[response.json()["order_id"]] = response.json()
    assert walk.market.offer("CROWD")["buyable"] is False


def step_carrier_delay_repromises_and_tells_the_buyer(walk: Walk) -> None:
    """R9/R9a: a delay that puts a promise at risk moves it later, keeps the revision,
    and sends the buyer a delay notice with one-step cancellation."""
    walk.ship_now("SH-DELAY", "DELAYED", 10)
    placed = walk.order("DELAYED", "delay-buyer")
    eta = walk.now + timedelta(days=12)
    accepted = walk.market.events(
        {
            "event_id": "ev-delay-1",
            "shipment_id": "SH-DELAY",
            "type": "delayed",
            "occurred_at": walk.now.isoformat(),
            "carrier_eta": eta.isoformat(),
        }
    )
    assert accepted == {"accepted": ["ev-delay-1"], "duplicates": []}
    assert walk.shipment("SH-DELAY")["carrier_eta"] == eta.isoformat()

    moved = walk.reread(placed["order_id"])
    old, new = placed["promise"], moved["promise"]
    assert moved["status"] == "promised"
    # R9: never earlier; here strictly later, with the first promise kept for reference
    assert days(new["promised_in_stock_date"]) > days(old["promised_in_stock_date"])
    assert days(new["promised_delivery_date"]) > days(old["promised_delivery_date"])
    assert moved["first_promise"] == old
    (revision,) = moved["revisions"]
    assert (revision["reason"], revision["old"], revision["new"]) == ("tracking_event", old, new)

    (notice,) = [
        n
        for n in walk.market.notifications("delay_notice")
        if n["payload"]["order_id"] == placed["order_id"]
    ]
    assert notice["recipient"] == "buyer:delay-buyer"
    assert notice["payload"]["old"]["promised_delivery_date"] == old["promised_delivery_date"]
    assert notice["payload"]["new"]["promised_delivery_date"] == new["promised_delivery_date"]
    # R9a: a first slip within 30 days: silence is consent, cancelling is one step
    assert notice["payload"]["requires_consent"] is False
    assert moved["consent_required_by"] is None
    assert notice["payload"]["cancel_path"] == f"/v1/orders/{placed['order_id']}/cancel"
    assert new["promised_delivery_date"] in notice["body"]


def step_receipt_fills_the_earliest_orders(walk: Walk) -> list[str]:
    """R11: received units fill waiting orders by promised ship date, then placement."""
    walk.ship_now("SH-FILL", "FILL", 10)  # floor(10 x 0.95) = 9 head-start units
    placed = [walk.order("FILL", f"fill-buyer-{n}")["order_id"] for n in range(6)]
    assert len({walk.orders[o]["promise"]["promised_ship_date"] for o in placed}) == 1

    receipt = walk.market.receive("SH-FILL", "rcpt-fill-1", walk.now.isoformat(), {"FILL": 4})
    assert receipt == {
        "receipt_id": "rcpt-fill-1",
        "duplicate": False,
        "allocated_orders": placed[:4],
    }
    assert [walk.reread(o)["status"] for o in placed] == ["allocated"] * 4 + ["promised"] * 2
    # Idempotent by receipt_id: the same receipt again changes nothing
    again = walk.market.receive("SH-FILL", "rcpt-fill-1", walk.now.isoformat(), {"FILL": 4})
    assert again["duplicate"] is True
    (row,) = [r for r in walk.report()["rows"] if r["sku"] == "FILL"]
    assert (row["sellable"], row["allocated"], row["inbound_receiving"]) == (0, 4, 6)
    assert row["head_start_reserved"] == 2
    return placed


def step_short_close_cancels_the_latest_orders(walk: Walk, placed: list[str]) -> None:
    """R11/R10/R15: what never arrived stops counting; orders it can no longer cover
    are cancelled (no other supply), buyers and seller are told."""
    closed = walk.market.close("SH-FILL")
    assert (closed["status"], closed["shortfall"]) == ("closed", {"FILL": 6})
    assert float(closed["seller_shrink"]) > 0.05  # R5: learned from the short receipt

    kept, cancelled = placed[:4], placed[4:]
    assert [walk.reread(o)["status"] for o in kept] == ["allocated"] * 4
    for order_id in cancelled:
        view = walk.reread(order_id)
        assert view["status"] == "cancelled"
        assert view["promise"] is None
        assert view["revisions"][-1]["new"] is None
    told = {n["payload"]["order_id"]: n for n in walk.market.notifications("order_cancelled")}
    assert set(cancelled) <= set(told)
    assert not set(kept) & set(told)
    for order_id in cancelled:
        assert told[order_id]["recipient"] == f"buyer:{walk.orders[order_id]['buyer_ref']}"

    (short,) = walk.market.notifications("short_receipt")
    assert short["recipient"] == SELLER_EMAIL
    assert short["payload"]["shipment_id"] == "SH-FILL"
    assert short["payload"]["shortfall"] == {"FILL": 6}
    shipment = walk.shipment("SH-FILL")
    assert shipment["status"] == "closed"
    assert shipment["participation"]["participates"] is False

    # R5/R8: the higher shrink is the seller's, so every SKU of theirs is re-checked at
    # once: CROWD's 20-unit lot now covers 18 units, and its newest order gives way.
    crowd = [o["order_id"] for o in list(walk.orders.values()) if o["sku"] == "CROWD"]
    views = [walk.reread(order_id) for order_id in crowd]
    gave_way = [view for view in views if view["status"] == "cancelled"]
    assert [view["cancel_reason"] for view in gave_way] == ["no_supply"]
    assert sorted(view["status"] for view in views if view not in gave_way) == ["promised"] * 18


def step_inventory_report_agrees_with_the_orders(walk: Walk) -> None:
    """R13: per SKU and FC, what is promised to whom, the same in JSON and in CSV."""
    report = walk.report()
    rows = {row["sku"]: row for row in report["rows"]}
    assert {row["fc"] for row in report["rows"]} == {"LAX1"}

    open_orders = {
        order_id: order
        for order_id, order in walk.orders.items()
        if order["status"] in ("promised", "allocated") and order["source"] == "head_start"
    }
    listed = {o["order_id"]: o for o in report["head_start_orders"]}
    assert set(listed) == set(open_orders)
    for order_id, line in listed.items():
        order = open_orders[order_id]
        assert (line["sku"], line["status"], line["buyer_ref"]) == (
            order["sku"],
            order["status"],
            order["buyer_ref"],
        )
        assert line["promised_delivery_date"] == order["promise"]["promised_delivery_date"]

    # head_start_reserved: units of orders still waiting for inbound units
    waiting = Counter()
    for order in open_orders.values():
        if order["status"] == "promised":
            waiting[order["sku"]] += order["quantity"]
    assert {
        sku: row["head_start_reserved"] for sku, row in rows.items() if row["head_start_reserved"]
    } == dict(waiting)
    assert dict(waiting) == {"OPT-71H": 1, "CAPPED": 5, "CROWD": 18, "DELAYED": 1}

    # Physical units: the 4 received ones are allocated; R14 fees count only those
    assert {sku: row["fee_basis_units"] for sku, row in rows.items() if row["fee_basis_units"]} == {
        "FILL": 4
    }
    assert rows["FILL"]["inbound_receiving"] == 0  # the shipment closed
    assert rows["NEAR-PARCEL"]["head_start_reserved"] == 0
    assert rows["NEAR-PARCEL"]["inbound_shipped"] == 20
    assert rows["FAR-OCEAN"]["head_start_available"] == 0  # beyond H: nothing to sell
    assert rows["CARRIER-OWN"]["head_start_available"] == 0
    assert rows["OPT-73H"]["head_start_available"] == 0
    assert rows["CAPPED"]["head_start_available"] == 0  # the cap is used up
    assert rows["CROWD"]["head_start_available"] == 0
    for row in rows.values():
        # The pilot's view: head-start units show as in stock and as inbound at once
        assert row["pilot_in_stock"] == row["sellable"] + row["head_start_available"]
        assert row["pilot_inbound"] == row["inbound_shipped"] + row["inbound_receiving"]

    as_csv = walk.client.get(
        "/v1/reports/inventory", params={"format": "csv"}, headers=walk.as_seller
    )
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(as_csv.text))
    assert tuple(reader.fieldnames or ()) == REPORT_CSV_COLUMNS
    assert list(reader) == [
        {name: str(row[name]) for name in REPORT_CSV_COLUMNS} for row in report["rows"]
    ]


# --------------------------------------------------------------------------- the walk


def test_end_to_end_seller_walkthrough(server_process: ServerProcess, client: httpx.Client) -> None:
    walk = Walk(Market(client), server_process.base_url)
    step_open_the_marketplace_and_enroll(walk)
    step_opt_out_then_create_shipments_at_71h_and_73h(walk)
    step_enroll_again(walk)
    step_own_carrier_is_not_eligible_but_partnered_is(walk)
    step_far_ocean_lot_does_not_count_but_near_parcel_does(walk)
    step_seller_caps_head_start_units(walk)
    step_a_crowd_buys_one_sku_at_once(walk)
    step_carrier_delay_repromises_and_tells_the_buyer(walk)
    placed = step_receipt_fills_the_earliest_orders(walk)
    step_short_close_cancels_the_latest_orders(walk, placed)
    step_inventory_report_agrees_with_the_orders(walk)
    server_process.assert_no_server_errors()
