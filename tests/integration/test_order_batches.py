"""Orders placed together in one transaction (``order_batches.place_orders``): each gets
what it would have got placed after the ones before it (R3, R6, R8, R16)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from headstart.domain.errors import InvalidRequest, NotFound, NotInStock, Unavailable
from headstart.services.order_batches import OrderResult, place_orders
from headstart.services.orders import OrderRequest
from headstart.store.tables import OrderRow
from tests.integration.checks import adjust, row_of
from tests.integration.conftest import Server
from tests.support import T0, Market

# Quantities ordered in turn: two in stock, the shelf empties, then head start (R3), until
# more than the 10 inbound units (95% of them after shrink) are asked for (R6).
QUANTITIES = (1, 1, 2, 1, 3, 50, 1)
SAME = ("status", "source", "fc", "quantity", "promise", "first_promise", "revisions")


def _twin_skus(market: Market) -> str:
    """ONE and TWO alike: 2 units on the shelf at LAX1 and 10 shipped towards it."""
    seller = market.add_seller()
    for sku in ("ONE", "TWO"):
        market.add_product(seller, sku)
        adjust(market, sku, 2)
    market.add_shipment(seller, "SH1", {"ONE": 10, "TWO": 10}, shipped_at=T0)
    return seller


def _request(
    sku: str, quantity: int, index: int, region: str = "us-west", in_stock_only: bool = False
) -> OrderRequest:
    return OrderRequest(sku, quantity, region, f"buyer-{index}", in_stock_only)


def _place(server: Server, *requests: OrderRequest) -> list[OrderResult]:
    runtime = server.runtime
    return place_orders(runtime.uow(), runtime.estimators, requests, placed_by="shop")


def _orders(server: Server) -> int:
    with server.runtime.reader() as uow:
        return uow.session.scalar(select(func.count()).select_from(OrderRow)) or 0


def test_r6_orders_placed_together_get_what_each_would_get_after_the_ones_before_it(
    server: Server, market: Market
) -> None:
    # Given two SKUs alike
    seller = _twin_skus(market)

    # When ONE's orders are placed in one batch and TWO's one by one over HTTP
    together = _place(
        server, *(_request("ONE", quantity, index) for index, quantity in enumerate(QUANTITIES))
    )
    apart = [
        market.order("TWO", quantity, buyer=f"buyer-{index}")
        for index, quantity in enumerate(QUANTITIES)
    ]

    # Then every order got the same promise, or the same refusal, in the same place
    for mine, theirs in zip(together, apart, strict=True):
        if theirs.status_code == 409:
            assert isinstance(mine, Unavailable)
            assert mine.details == theirs.json()["error"]["details"]
        else:
            assert theirs.status_code == 201, theirs.text
            assert isinstance(mine, dict)
            assert {k: mine[k] for k in SAME} == {k: theirs.json()[k] for k in SAME}
    sources = [r["source"] if isinstance(r, dict) else None for r in together]
    assert sources == [
        "in_stock",
        "in_stock",
        "head_start",
        "head_start",
        "head_start",
        None,
        "head_start",
    ]
    # ...and both SKUs are left alike: stock, waiting orders and the published offer (R16)
    one, two = row_of(market, seller, "ONE"), row_of(market, seller, "TWO")
    assert {**one, "sku": "TWO"} == two
    assert {**market.offer("ONE"), "sku": "TWO"} == market.offer("TWO")


def test_r3_an_in_stock_only_order_takes_the_shelf_and_is_never_given_a_head_start_date(
    server: Server, market: Market
) -> None:
    # Given 2 units on the shelf and 10 on their way
    _twin_skus(market)

    # When three buyers who take no head-start date order one unit each, then one who does
    results = _place(
        server,
        *(_request("ONE", 1, index, in_stock_only=True) for index in range(3)),
        _request("ONE", 1, 3),
    )

    # Then the first two are allocated from the shelf, the third is refused, the last waits
    assert [r["source"] if isinstance(r, dict) else type(r) for r in results] == [
        "in_stock",
        "in_stock",
        NotInStock,
        "head_start",
    ]
    assert _orders(server) == 3


def test_a_batch_answers_each_bad_order_and_places_the_others(
    server: Server, market: Market
) -> None:
    _twin_skus(market)

    results = _place(
        server, _request("NOPE", 1, 0), _request("ONE", 1, 1), _request("ONE", 1, 2, region="mars")
    )

    assert isinstance(results[0], NotFound)
    assert isinstance(results[1], dict) and results[1]["status"] == "allocated"
    assert isinstance(results[2], InvalidRequest) and "mars" in results[2].message
    assert _orders(server) == 1


def test_r8_a_batch_with_a_quantity_below_one_is_refused_whole_and_changes_nothing(
    server: Server, market: Market
) -> None:
    seller = _twin_skus(market)
    before = row_of(market, seller, "ONE")

    with pytest.raises(InvalidRequest, match="positive"):
        _place(server, _request("ONE", 1, 0), _request("ONE", 0, 1))

    assert _orders(server) == 0
    assert row_of(market, seller, "ONE") == before
