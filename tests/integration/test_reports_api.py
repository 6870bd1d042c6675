"""The seller's inventory report over HTTP (R13), fees on physical units only (R14)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.integration.checks import adjust, assert_error, placed, report_of, row_of
from tests.support import T0, Market, expect

CSV_HEADER = (
    "sku,fc,sellable,allocated,inbound_working,inbound_shipped,inbound_receiving,"
    "head_start_reserved,head_start_available,pilot_in_stock,pilot_inbound,fee_basis_units"
)


@pytest.fixture
def seller(market: Market) -> str:
    """SKU1 at LAX1: 5 on the shelf, 100 shipped (95 counted after shrink), 20 still working."""
    seller_id = market.add_seller()
    market.add_product(seller_id, "SKU1")
    adjust(market, "SKU1", 5)
    market.add_shipment(seller_id, "SH1", {"SKU1": 100}, shipped_at=T0)
    market.add_shipment(seller_id, "SH2", {"SKU1": 20})
    return seller_id


def test_r13_report_has_one_row_per_sku_and_fc(market: Market, seller: str) -> None:
    placed(market, "SKU1", 2)  # from the shelf
    placed(market, "SKU1", 10)  # head start

    report = report_of(market, seller)

    assert (report["seller_id"], report["generated_at"]) == (seller, T0)
    assert report["rows"] == [
        {
            "sku": "SKU1",
            "fc": "LAX1",
            "sellable": 3,
            "allocated": 2,
            "inbound_working": 20,
            "inbound_shipped": 100,
            "inbound_receiving": 0,
            "head_start_reserved": 10,
            "head_start_available": 85,
            "pilot_in_stock": 88,
            "pilot_inbound": 100,
            "fee_basis_units": 5,
        }
    ]


def test_r13_head_start_reserved_is_the_units_of_the_waiting_orders(
    market: Market, seller: str
) -> None:
    placed(market, "SKU1", 5)  # empties the shelf
    waiting = [placed(market, "SKU1", n, buyer=f"b{n}") for n in (4, 7)]

    report = report_of(market, seller)

    assert report["rows"][0]["head_start_reserved"] == 4 + 7
    assert report["head_start_orders"] == [
        {
            "order_id": order["order_id"],
            "sku": "SKU1",
            "fc": "LAX1",
            "quantity": order["quantity"],
            "buyer_ref": order["buyer_ref"],
            "status": "promised",
            "promised_in_stock_date": order["promise"]["promised_in_stock_date"],
            "promised_delivery_date": order["promise"]["promised_delivery_date"],
        }
        for order in waiting
    ]


def test_r13_cancelled_orders_no_longer_count_as_reserved(market: Market, seller: str) -> None:
    placed(market, "SKU1", 5)
    order = placed(market, "SKU1", 4)

    expect(
        market.client.post(f"/v1/orders/{order['order_id']}/cancel", headers=market.storefront),
        200,
    )

    row = row_of(market, seller, "SKU1")
    assert (row["head_start_reserved"], row["head_start_available"]) == (0, 95)
    assert report_of(market, seller)["head_start_orders"] == []


def test_r13_report_as_csv_has_the_documented_columns(market: Market, seller: str) -> None:
    placed(market, "SKU1", 10)

    response = market.client.get(
        "/v1/reports/inventory", params={"format": "csv"}, headers=market.sellers[seller]
    )

    text = expect(response, 200)
    assert response.headers["content-type"].startswith("text/csv")
    lines = text.splitlines()
    assert lines[0] == CSV_HEADER
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row == {key: str(value) for key, value in row_of(market, seller, "SKU1").items()}


def test_r14_head_start_orders_do_not_change_the_fee_basis(market: Market, seller: str) -> None:
    before = row_of(market, seller, "SKU1")["fee_basis_units"]

    placed(market, "SKU1", 5)
    after_shelf = row_of(market, seller, "SKU1")["fee_basis_units"]
    placed(market, "SKU1", 30)
    after_head_start = row_of(market, seller, "SKU1")["fee_basis_units"]

    assert before == after_shelf == after_head_start == 5


def test_r14_only_received_units_raise_the_fee_basis(market: Market, seller: str) -> None:
    placed(market, "SKU1", 5)
    placed(market, "SKU1", 30)

    market.receive("SH1", "R1", T0, {"SKU1": 40})

    row = row_of(market, seller, "SKU1")
    assert (row["sellable"], row["allocated"], row["fee_basis_units"]) == (10, 35, 45)
    assert (row["inbound_shipped"], row["inbound_receiving"]) == (0, 60)


def test_r13_operator_reads_the_report_of_the_seller_it_names(market: Market, seller: str) -> None:
    response = market.client.get(
        "/v1/reports/inventory", params={"seller_id": seller}, headers=market.operator
    )

    assert expect(response, 200) == report_of(market, seller)


def test_r13_operator_must_name_the_seller(market: Market, seller: str) -> None:
    response = market.client.get("/v1/reports/inventory", headers=market.operator)

    assert_error(response, 422, "invalid_request")


def test_r13_seller_without_products_gets_an_empty_report(market: Market) -> None:
    seller = market.add_seller("Newco")

    assert report_of(market, seller) == {
        "seller_id": seller,
        "generated_at": T0,
        "rows": [],
        "head_start_orders": [],
    }


def test_r13_report_of_an_unknown_seller_is_404(market: Market) -> None:
    response = market.client.get(
        "/v1/reports/inventory", params={"seller_id": "sel_nope"}, headers=market.operator
    )

    assert_error(response, 404, "not_found")
