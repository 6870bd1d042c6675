"""Seeing it run (issue 8): ``GET /metrics``, request ids, and JSON request logs.

Counters and histograms are kept per process and every app a test session builds
shares them, so each test compares a scrape after its requests with one before.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from headstart.observability.logs import configure_logging
from tests.integration.checks import at
from tests.integration.conftest import AppFactory
from tests.support import OPERATOR_KEY, T0, Market, bearer, expect

Labels = dict[str, str]


def scrape(client: TestClient, key: str = OPERATOR_KEY) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", headers=bearer(key))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def increase(
    before: dict[tuple[str, frozenset], float],
    after: dict[tuple[str, frozenset], float],
    name: str,
    **labels: str,
) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def head_start_sku(market: Market, sku: str = "ACME-1", units: int = 10) -> str:
    """A SKU with no stock and a shipped parcel of ``units`` on its way to LAX1."""
    seller = market.add_seller("Acme")
    market.add_product(seller, sku)
    market.add_shipment(seller, f"SH-{sku}", {sku: units}, shipped_at=T0)
    return seller


# ------------------------------------------------------------------ who may read it


def test_metrics_are_for_the_operator_or_the_metrics_key(
    market: Market, make_client: AppFactory
) -> None:
    client = make_client(metrics_key="scraper-key")

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=bearer("not-a-key")).status_code == 401
    assert client.get("/metrics", headers=market.storefront).status_code == 403
    assert client.get("/metrics", headers=bearer("scraper-key")).status_code == 200
    assert client.get("/metrics", headers=bearer(OPERATOR_KEY)).status_code == 200


def test_without_a_metrics_key_only_the_operator_reads_metrics(market: Market) -> None:
    client = market.client
    assert client.get("/metrics", headers=bearer("")).status_code == 401
    assert client.get("/metrics", headers=bearer("scraper-key")).status_code == 401
    assert client.get("/metrics", headers=market.operator).status_code == 200


# ------------------------------------------------------------------ latency per route


def test_request_latency_is_recorded_per_route_template_never_per_raw_path(
    market: Market,
) -> None:
    head_start_sku(market, "ACME-1")
    before = scrape(market.client)

    market.offer("ACME-1")
    market.client.get("/v1/offers/NO-SUCH-SKU")
    market.client.get("/no/such/page/at/all")
    after = scrape(market.client)

    name = "headstart_http_request_duration_seconds_count"
    route = "/v1/offers/{sku}"
    assert increase(before, after, name, method="GET", route=route, status="2xx") == 1
    assert increase(before, after, name, method="GET", route=route, status="4xx") == 1
    assert increase(before, after, name, method="GET", route="<unmatched>", status="4xx") == 1
    routes = {dict(labels).get("route") for _, labels in after}
    assert not {r for r in routes if r and ("ACME-1" in r or "NO-SUCH" in r or "/no/" in r)}


# ------------------------------------------------------------------ offers and orders


def test_offers_are_counted_by_what_the_buyer_is_shown(market: Market) -> None:
    head_start_sku(market, "ACME-1", units=10)
    seller = next(iter(market.sellers))
    market.add_product(seller, "NOTHING-COMING")
    before = scrape(market.client)

    assert market.offer("ACME-1")["source"] == "head_start"
    assert market.offer("NOTHING-COMING")["buyable"] is False
    after = scrape(market.client)

    assert increase(before, after, "headstart_offers_total", outcome="head_start") == 1
    assert increase(before, after, "headstart_offers_total", outcome="not_buyable") == 1
    reasons = "headstart_not_buyable_reasons_total"
    assert increase(before, after, reasons, path="offer", reason="no_sellable_stock") == 1
    assert increase(before, after, reasons, path="offer", reason="no_counted_inbound_supply") == 1


def test_orders_are_counted_placed_replayed_or_refused_with_the_reason(market: Market) -> None:
    head_start_sku(market, "ACME-1", units=10)
    before = scrape(market.client)

    assert market.order("ACME-1", 1, **{"Idempotency-Key": "k-1"}).status_code == 201
    assert market.order("ACME-1", 1, **{"Idempotency-Key": "k-1"}).status_code == 200
    assert market.order("ACME-1", 500).status_code == 409
    assert market.order("NO-SUCH-SKU", 1).status_code == 404
    after = scrape(market.client)

    orders = "headstart_orders_total"
    assert increase(before, after, orders, outcome="placed", source="head_start", reason="") == 1
    assert increase(before, after, orders, outcome="replayed", source="head_start", reason="") == 1
    assert increase(before, after, orders, outcome="refused", source="", reason="unavailable") == 1
    assert increase(before, after, orders, outcome="refused", source="", reason="not_found") == 1
    assert (
        increase(
            before,
            after,
            "headstart_not_buyable_reasons_total",
            path="order",
            reason="insufficient_quantity",
        )
        == 1
    )


# ------------------------------------------------------------------ tracking-event lag


def test_tracking_event_lag_is_the_clock_at_ingest_minus_the_event_time(market: Market) -> None:
    head_start_sku(market, "ACME-1")
    market.set_clock(at(T0, hours=3))  # the sandbox clock stands still (rate 0)
    before = scrape(market.client)
    event = {"shipment_id": "SH-ACME-1", "type": "in_transit"}

    market.events(
        {**event, "event_id": "e-1", "occurred_at": at(T0, hours=1)},  # 2 h late
        {**event, "event_id": "e-2", "occurred_at": at(T0, hours=2.5)},  # 30 min late
    )
    market.events({**event, "event_id": "e-1", "occurred_at": at(T0, hours=1)})  # a duplicate
    after = scrape(market.client)

    lag = "headstart_tracking_event_lag_seconds"
    assert increase(before, after, f"{lag}_count", via="http") == 2
    assert increase(before, after, f"{lag}_sum", via="http") == 7200 + 1800
    assert increase(before, after, f"{lag}_bucket", via="http", le="3600.0") == 1


# ------------------------------------------------------------------ read from the database


def test_the_outbox_backlog_is_read_from_the_outbox_when_scraped(market: Market) -> None:
    seller = market.add_seller("Acme")
    assert value(scrape(market.client), "headstart_outbox_pending", kind="email") == 0

    expect(
        market.client.post(
            f"/v1/sellers/{seller}/enrollment/opt-out", headers=market.sellers[seller]
        ),
        200,
    )  # R1: the confirmation e-mail is queued in the same transaction

    samples = scrape(market.client)
    assert value(samples, "headstart_database_up") == 1
    pending = {
        dict(labels)["kind"]: v
        for (n, labels), v in samples.items()
        if n == "headstart_outbox_pending"
    }
    assert sum(pending.values()) == 1, pending


def test_estimate_coverage_counts_outcomes_in_stock_by_their_promised_quantile(
    market: Market,
) -> None:
    seller = market.add_seller("Acme")
    market.add_product(seller, "ACME-1")
    empty = scrape(market.client)
    assert value(empty, "headstart_estimate_coverage_target") == 0.97  # the policy's q (R4)
    assert ("headstart_estimate_coverage_ratio", frozenset()) not in empty  # no outcome yet

    # Both shipped now (one estimate snapshot each); one in stock within the hour, one
    # three months later: far beyond any quantile it was promised at.
    market.add_shipment(seller, "FAST", {"ACME-1": 5}, shipped_at=T0)
    market.add_shipment(seller, "LATE", {"ACME-1": 5}, shipped_at=T0)
    for shipment_id, hours in (("FAST", 1), ("LATE", 24 * 90)):
        market.set_clock(at(T0, hours=hours))
        market.receive(shipment_id, f"{shipment_id}-r", at(T0, hours=hours), {"ACME-1": 5})
    samples = scrape(market.client)

    assert value(samples, "headstart_estimate_outcomes_recorded") == 2
    assert value(samples, "headstart_estimate_coverage_outcomes") == 2
    assert value(samples, "headstart_estimate_coverage_ratio") == 0.5


# ------------------------------------------------------------------ request ids and logs


def test_a_request_id_is_echoed_or_made_up(client: TestClient) -> None:
    sent = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    made = client.get("/healthz")
    refused = client.get("/healthz", headers={"X-Request-ID": "has spaces, <and> more"})

    assert sent.headers["x-request-id"] == "lb-7f3a.42"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])
    assert made.headers["x-request-id"] != refused.headers["x-request-id"]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The server's own JSON logging, written to a stream of the test's."""
    previous = structlog.get_config()
    stream = io.StringIO()
    configure_logging(json=True)
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(stream), cache_logger_on_first_use=False
    )
    try:
        yield stream
    finally:
        structlog.configure(**previous)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_each_request_is_logged_as_json_with_its_request_id(
    market: Market, make_client: AppFactory, json_log: io.StringIO
) -> None:
    client = make_client(log_json=True)

    response = client.get("/v1/offers/NO-SUCH-SKU", headers={"X-Request-ID": "req-1"})

    [line] = [line for line in _lines(json_log) if line.get("event") == "request"]
    assert response.headers["x-request-id"] == "req-1"
    assert line["request_id"] == "req-1"
    assert line["route"] == "/v1/offers/{sku}"
    assert line["path"] == "/v1/offers/NO-SUCH-SKU"
    assert line["status"] == 404
    assert line["level"] == "info"
    assert isinstance(line["duration_ms"], float)


def test_a_key_sent_as_request_id_or_header_is_redacted_from_the_request_log(
    market: Market, make_client: AppFactory, json_log: io.StringIO
) -> None:
    key = market.storefront["Authorization"].removeprefix("Bearer ")
    assert key.startswith("hs_sf_")
    client = make_client(log_json=True)

    response = client.get("/v1/orders/ord-1", headers={"X-Request-ID": key, **market.storefront})

    assert response.headers["x-request-id"] == key  # echoed to its sender, as sent
    text = json_log.getvalue()
    assert '"event": "request"' in text
    assert key not in text
    assert "[redacted]" in text


def test_json_logs_render_the_standard_librarys_lines_too_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    previous = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging(json=True, standard_library=True)  # as headstart serve --json-logs
        with structlog.contextvars.bound_contextvars(request_id="req-9"):
            logging.getLogger("uvicorn.error").warning("refused %s", "Bearer hs_sf_abcdef")
    finally:
        root.handlers, root.level = handlers, level
        structlog.configure(**previous)

    [line] = _lines(stream)
    assert line["event"] == "refused [redacted]"
    assert (line["logger"], line["level"], line["request_id"]) == (
        "uvicorn.error",
        "warning",
        "req-9",
    )
