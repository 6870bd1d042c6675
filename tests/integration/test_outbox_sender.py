"""R15/R16: the outbox sender against a real SMTP server, a real webhook receiver and real NATS.

Each test runs on SQLite and PostgreSQL. Time is injected: ``run_once(now)`` takes the
business clock (backoff waits pass without sleeping); leases use the wall clock, which a
test moves by handing the sender another ``wall_clock``.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import random
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from headstart.domain.delivery import RetryPolicy, message_id
from headstart.store.uow import real_now
from headstart.workers.mail import SmtpTransport, mail_transport
from headstart.workers.offer_stream import NatsOfferPublisher
from headstart.workers.outbox_sender import OutboxSender, build_outbox_sender
from headstart.workers.webhook_delivery import verify_signature
from tests.integration.checks import assert_error
from tests.integration.conftest import Server
from tests.support import T0, Market, expect

NOW = datetime.fromisoformat(T0)
NATS_URL = os.environ.get("HEADSTART_TEST_NATS_URL", "nats://127.0.0.1:4222")


# --------------------------------------------------------------------------- real services


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@dataclass
class Smtp:
    port: int
    inbox: Inbox = field(default_factory=Inbox)
    controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    """A real SMTP server on a free port, not yet started (a test may start it late)."""
    server = Smtp(free_port())
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A webhook receiver over real HTTP; answers each POST with the next scripted status."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}{path}"

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    try:
        yield server
    finally:
        server.close()


# --------------------------------------------------------------------------- helpers


def sender_for(server: Server, smtp: Smtp, **overrides: Any) -> OutboxSender:
    options: dict[str, Any] = {
        "mail": SmtpTransport.from_url(smtp.url, timeout=5),
        "rng": random.Random(4),
        **overrides,
    }
    sender = build_outbox_sender(server.runtime, **options)
    return sender


@pytest.fixture
def senders(server: Server) -> Iterator[list[OutboxSender]]:
    built: list[OutboxSender] = []
    yield built
    for sender in built:
        sender.close()


def later(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


def opt_out(market: Market, seller: str) -> None:
    expect(
        market.client.post(
            f"/v1/sellers/{seller}/enrollment/opt-out", headers=market.sellers[seller]
        ),
        200,
    )


def notification(market: Market, kind: str) -> dict[str, Any]:
    [found] = market.notifications(kind)
    return found


def register(market: Market, headers: dict[str, str], **body: Any) -> Any:
    return market.client.post("/v1/webhooks", json=body, headers=headers)


def cancelled_order(market: Market) -> str:
    """A head-start order the buyer cancels: one order_cancelled notice (R10)."""
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")
    market.add_shipment(seller, "SH1", {"SKU1": 100}, shipped_at=T0)
    order = expect(market.order("SKU1", 2, buyer="b7"), 201)
    expect(
        market.client.post(f"/v1/orders/{order['order_id']}/cancel", headers=market.storefront),
        200,
    )
    return str(order["order_id"])


# --------------------------------------------------------------------------- e-mail (R1, R11)


def test_r1_opt_out_email_is_sent_once_with_text_html_and_a_stable_message_id(
    market: Market, server: Server, smtp: Smtp, senders: list[OutboxSender]
) -> None:
    smtp.start()
    seller = market.add_seller("Acme")
    opt_out(market, seller)
    sender = sender_for(server, smtp)
    senders.append(sender)

    sender.run_once(later(0.1))
    sender.run_once(later(1))

    [mail] = smtp.inbox.messages
    notice = notification(market, "opt_out_confirmation")
    assert mail["To"] == "acme@example.com"
    assert mail["Subject"] == "Head Start opt-out confirmed"
    assert mail["Message-ID"] == message_id(f"opt_out:{seller}:{T0}")
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    effective = notice["payload"]["effective_for_shipments_created_from"]
    assert effective in text.get_content()
    assert effective in html.get_content()
    assert (notice["state"], notice["attempts"], notice["last_error"]) == ("delivered", 1, None)
    assert notice["sent_at"] == later(0.1).isoformat()
    assert notice["deliveries"] == [
        {
            "channel": "email",
            "target": "acme@example.com",
            "state": "delivered",
            "attempts": 1,
            "last_error": None,
            "next_attempt_at": None,
            "transport": "smtp",
            "delivered_at": later(0.1).isoformat(),
        }
    ]


def test_r1_opt_out_email_survives_smtp_outage(
    market: Market, server: Server, smtp: Smtp, senders: list[OutboxSender]
) -> None:
    seller = market.add_seller("Acme")
    opt_out(market, seller)
    sender = sender_for(server, smtp)  # the SMTP server is not running yet
    senders.append(sender)

    sender.run_once(later(0.1))
    sender.run_once(later(1))
    down = notification(market, "opt_out_confirmation")

    assert (down["state"], down["attempts"]) == ("pending", 2)
    [delivery] = down["deliveries"]
    assert delivery["state"] == "pending"
    assert "ConnectionRefusedError" in delivery["last_error"]
    assert down["last_error"] == delivery["last_error"]
    assert datetime.fromisoformat(delivery["next_attempt_at"]) > later(1)

    smtp.start()
    sender.run_once(later(2))
    up = notification(market, "opt_out_confirmation")

    [mail] = smtp.inbox.messages
    assert mail["Message-ID"] == message_id(f"opt_out:{seller}:{T0}")
    assert (up["state"], up["attempts"]) == ("delivered", 3)
    assert up["deliveries"][0]["state"] == "delivered"


def test_r15_a_crash_between_send_and_record_resends_with_the_same_message_id(
    market: Market, server: Server, smtp: Smtp, senders: list[OutboxSender]
) -> None:
    smtp.start()
    seller = market.add_seller("Acme")
    opt_out(market, seller)
    crashed = sender_for(server, smtp)
    senders.append(crashed)
    crashed.route(later(0.1))
    [claim] = crashed.claim(later(0.1))
    lost = crashed.deliver(claim)  # sent, then the process dies before recording it

    # Its lease runs out; another sender takes the delivery over.
    successor = sender_for(server, smtp, wall_clock=lambda: real_now() + timedelta(minutes=6))
    senders.append(successor)
    successor.run_once(later(0.2))

    first, second = smtp.inbox.messages
    assert first["Message-ID"] == second["Message-ID"] == message_id(f"opt_out:{seller}:{T0}")
    assert crashed.record(lost, later(0.3)) is False  # too late: recorded once, by the successor
    notice = notification(market, "opt_out_confirmation")
    assert (notice["state"], notice["attempts"]) == ("delivered", 1)


def test_r15_without_smtp_url_emails_go_to_a_local_maildir(
    market: Market, server: Server, tmp_path: Path, senders: list[OutboxSender]
) -> None:
    seller = market.add_seller("Acme")
    opt_out(market, seller)
    sender = build_outbox_sender(server.runtime, mail=mail_transport(None, str(tmp_path / "mail")))
    senders.append(sender)

    sender.run_once(later(0.1))

    [path] = (tmp_path / "mail" / "new").iterdir()
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert mail["Message-ID"] == message_id(f"opt_out:{seller}:{T0}")
    [delivery] = notification(market, "opt_out_confirmation")["deliveries"]
    assert (delivery["state"], delivery["transport"]) == ("delivered", "maildir")


def test_r15_two_senders_share_the_outbox_and_send_each_email_once(
    market: Market, server: Server, smtp: Smtp, senders: list[OutboxSender]
) -> None:
    smtp.start()
    sellers = [market.add_seller(f"Seller{n}") for n in range(8)]
    for seller in sellers:
        opt_out(market, seller)
    pair = [sender_for(server, smtp, batch_size=3), sender_for(server, smtp, batch_size=3)]
    senders.extend(pair)

    def drain(sender: OutboxSender) -> None:
        while sender.run_once(later(0.1)):
            pass

    threads = [threading.Thread(target=drain, args=(sender,)) for sender in pair]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    ids = sorted(str(mail["Message-ID"]) for mail in smtp.inbox.messages)
    assert ids == sorted(message_id(f"opt_out:{seller}:{T0}") for seller in sellers)
    assert {n["state"] for n in market.notifications("opt_out_confirmation")} == {"delivered"}


# --------------------------------------------------------------------------- webhooks (R10, R16)


def test_r10_webhook_failing_twice_then_succeeding_gets_the_event_once_marked_delivered(
    market: Market,
    server: Server,
    smtp: Smtp,
    receiver: Receiver,
    senders: list[OutboxSender],
) -> None:
    hook = expect(
        register(
            market,
            market.operator,
            url=receiver.url(),
            scope="storefront",
            events=["order.cancelled"],
        ),
        201,
    )
    order_id = cancelled_order(market)
    receiver.statuses = [500, 503]
    sender = sender_for(server, smtp)
    senders.append(sender)

    for hours in (0.1, 1.2, 2.3, 3.4):  # an hour is past the longest wait this early
        sender.run_once(later(hours))

    assert len(receiver.requests) == 3
    assert len({r.headers["Headstart-Event-Id"] for r in receiver.requests}) == 1
    event = receiver.requests[-1].json()
    assert (event["type"], event["data"]["order_id"]) == ("order.cancelled", order_id)
    assert event["recipient"] == "buyer:b7"
    assert "refunded in full" in event["message"]["text"]
    notice = notification(market, "order_cancelled")
    assert (notice["state"], notice["attempts"]) == ("delivered", 3)
    [delivery] = notice["deliveries"]
    assert (delivery["channel"], delivery["target"], delivery["state"]) == (
        "webhook",
        hook["id"],
        "delivered",
    )
    assert delivery["attempts"] == 3
    assert delivery["last_error"] == "HTTP 503: ok"
    assert delivery["delivered_at"] == later(2.3).isoformat()


def test_r16_seller_webhook_hears_its_own_offer_changes_signed(
    market: Market,
    server: Server,
    smtp: Smtp,
    receiver: Receiver,
    senders: list[OutboxSender],
) -> None:
    acme = market.add_seller("Acme")
    bolt = market.add_seller("Bolt")
    hook = expect(
        register(market, market.sellers[acme], url=receiver.url("/acme"), events=["offer.changed"]),
        201,
    )
    market.add_product(bolt, "BOLT-1")
    market.add_product(acme, "ACME-1")
    sender = sender_for(server, smtp)
    senders.append(sender)

    sender.run_once(later(0.1))

    [request] = receiver.requests
    headers = request.headers
    assert verify_signature(
        hook["secret"],
        headers["Headstart-Timestamp"],
        headers["Headstart-Signature"],
        request.body,
        now=real_now().timestamp(),
    )
    event = request.json()
    assert event["id"] == headers["Headstart-Event-Id"]
    assert headers["Headstart-Event-Type"] == event["type"] == "offer.changed"
    assert event["data"]["seller_id"] == acme
    assert event["data"]["sku"] == "ACME-1"


def test_r15_webhook_that_never_answers_2xx_is_failed_after_the_last_attempt(
    market: Market,
    server: Server,
    smtp: Smtp,
    receiver: Receiver,
    senders: list[OutboxSender],
) -> None:
    expect(register(market, market.operator, url=receiver.url(), events=["order.cancelled"]), 201)
    cancelled_order(market)
    receiver.statuses = [500] * 10
    sender = sender_for(server, smtp, webhook_retry=RetryPolicy(max_attempts=3))
    senders.append(sender)

    for hours in range(1, 6):
        sender.run_once(later(hours))

    assert len(receiver.requests) == 3
    notice = notification(market, "order_cancelled")
    assert (notice["state"], notice["attempts"], notice["last_error"]) == (
        "failed",
        3,
        "HTTP 500: ok",
    )
    assert notice["deliveries"][0]["state"] == "failed"


def test_r15_a_deleted_webhook_gets_no_delivery_still_waiting(
    market: Market,
    server: Server,
    smtp: Smtp,
    receiver: Receiver,
    senders: list[OutboxSender],
) -> None:
    hook = expect(register(market, market.operator, url=receiver.url(), scope="storefront"), 201)
    cancelled_order(market)
    sender = sender_for(server, smtp)
    senders.append(sender)
    sender.route(later(0.1))

    expect(market.client.delete(f"/v1/webhooks/{hook['id']}", headers=market.operator), 204)
    sender.run_once(later(0.2))

    assert receiver.requests == []
    notice = notification(market, "order_cancelled")
    assert notice["state"] == "cancelled"
    assert notice["deliveries"][0]["last_error"] == "webhook deleted before delivery"


def test_r15_a_notification_nobody_can_receive_is_marked_unrouted(
    market: Market, server: Server, smtp: Smtp, senders: list[OutboxSender]
) -> None:
    cancelled_order(market)  # no storefront webhook: the buyer cannot be reached
    sender = sender_for(server, smtp)
    senders.append(sender)

    sender.run_once(later(0.1))

    notice = notification(market, "order_cancelled")
    assert (notice["state"], notice["deliveries"]) == ("unrouted", [])
    assert notice["last_error"] == "no e-mail address, webhook or stream for order_cancelled"


# --------------------------------------------------------------------------- the webhook API


def test_r15_webhook_registration_returns_the_secret_once(market: Market) -> None:
    seller = market.add_seller("Acme")

    created = expect(
        register(market, market.sellers[seller], url="https://acme.example/hooks"), 201
    )
    listed = expect(market.client.get("/v1/webhooks", headers=market.sellers[seller]), 200)

    assert created["secret"].startswith("whsec_")
    assert (created["scope"], created["seller_id"], created["events"]) == ("seller", seller, None)
    assert listed == {"webhooks": [{k: v for k, v in created.items() if k != "secret"}]}


def test_r15_a_seller_cannot_see_or_delete_another_sellers_webhook(market: Market) -> None:
    acme = market.add_seller("Acme")
    bolt = market.add_seller("Bolt")
    hook = expect(register(market, market.sellers[acme], url="https://acme.example/h"), 201)

    listed = expect(market.client.get("/v1/webhooks", headers=market.sellers[bolt]), 200)
    deleted = market.client.delete(f"/v1/webhooks/{hook['id']}", headers=market.sellers[bolt])

    assert listed == {"webhooks": []}
    assert_error(deleted, 404, "not_found")
    everyone = expect(market.client.get("/v1/webhooks", headers=market.operator), 200)
    assert [h["id"] for h in everyone["webhooks"]] == [hook["id"]]
    expect(market.client.delete(f"/v1/webhooks/{hook['id']}", headers=market.sellers[acme]), 204)
    assert expect(market.client.get("/v1/webhooks", headers=market.operator), 200) == {
        "webhooks": []
    }


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://acme.example/hooks"},
        {"url": "javascript:alert(1)"},
        {"url": "not a url"},
        {"url": "https://acme.example/" + "x" * 2100},
        {"url": "https://acme.example/h", "events": ["order.exploded"]},
        {"url": "https://acme.example/h", "events": []},
        {"url": "https://acme.example/h", "secret": "mine"},
        {"url": "https://acme.example/h", "scope": "everything"},
        {
            "url": "https://acme.example/h",
            "scope": "storefront",
            "events": ["seller.opt_out_confirmed"],
        },
    ],
)
def test_r15_bad_webhook_registrations_are_refused(market: Market, body: dict[str, Any]) -> None:
    assert_error(register(market, market.operator, **body), 422, "invalid_request")
    assert expect(market.client.get("/v1/webhooks", headers=market.operator), 200) == {
        "webhooks": []
    }


def test_r15_webhooks_are_for_operators_and_sellers_only(market: Market) -> None:
    seller = market.add_seller("Acme")
    url = "https://acme.example/h"

    assert_error(register(market, market.storefront, url=url), 403, "forbidden")
    assert_error(register(market, market.sellers[seller], url=url, scope="all"), 403, "forbidden")
    assert_error(market.client.post("/v1/webhooks", json={"url": url}), 401, "unauthenticated")


# --------------------------------------------------------------------------- NATS (R16)


def nats_or_skip() -> None:
    async def probe() -> bool:
        import nats

        try:
            connection = await nats.connect(NATS_URL, connect_timeout=1, allow_reconnect=False)
        except Exception:
            return False
        await connection.close()
        return True

    if not asyncio.run(probe()):
        message = f"NATS not reachable at {NATS_URL} (start nats-server -js)"
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"{message}; CI=true, so this is a failure, not a skip")
        pytest.skip(message)


def test_r16_offer_changes_are_published_to_nats_per_sku(
    market: Market, server: Server, smtp: Smtp, senders: list[OutboxSender]
) -> None:
    nats_or_skip()
    import nats

    prefix = f"test{uuid.uuid4().hex[:12]}"  # no stream covers it: core NATS publish
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")
    publisher = NatsOfferPublisher.start(NATS_URL)
    sender = sender_for(server, smtp, offers=publisher, offer_subject_prefix=prefix)
    senders.append(sender)

    async def publish_and_receive() -> list[Any]:
        connection = await nats.connect(NATS_URL)
        subscription = await connection.subscribe(f"{prefix}.offers.>")
        await connection.flush()
        await asyncio.to_thread(sender.run_once, later(0.1))
        message = await subscription.next_msg(timeout=5)
        await connection.close()
        return [message]

    try:
        [message] = asyncio.run(publish_and_receive())
    finally:
        publisher.close()

    event = json.loads(message.data)
    assert message.subject == f"{prefix}.offers.SKU1"
    assert (event["type"], event["data"]["sku"], event["data"]["seller_id"]) == (
        "offer.changed",
        "SKU1",
        seller,
    )
    assert message.headers["Nats-Msg-Id"] == event["id"]
    [delivery] = notification(market, "offer_changed")["deliveries"]
    assert (delivery["channel"], delivery["target"], delivery["state"]) == (
        "nats",
        f"{prefix}.offers.SKU1",
        "delivered",
    )
    assert delivery["transport"] == "nats"


def test_r16_offer_changes_go_to_jetstream_when_a_stream_covers_the_subject(
    market: Market, server: Server, smtp: Smtp, senders: list[OutboxSender]
) -> None:
    nats_or_skip()
    import nats

    prefix = f"test{uuid.uuid4().hex[:12]}"
    stream = f"OFFERS_{prefix}"
    seller = market.add_seller("Acme")
    market.add_product(seller, "SKU1")

    async def with_stream(create: bool) -> Any:
        connection = await nats.connect(NATS_URL)
        manager = connection.jsm()
        try:
            if create:
                await manager.add_stream(name=stream, subjects=[f"{prefix}.offers.>"])
                return None
            stored = await manager.get_last_msg(stream, f"{prefix}.offers.SKU1")
            await manager.delete_stream(stream)
            return stored
        finally:
            await connection.close()

    asyncio.run(with_stream(create=True))
    publisher = NatsOfferPublisher.start(NATS_URL)
    sender = sender_for(server, smtp, offers=publisher, offer_subject_prefix=prefix)
    senders.append(sender)
    try:
        sender.run_once(later(0.1))
    finally:
        publisher.close()
        stored = asyncio.run(with_stream(create=False))

    event = json.loads(stored.data)
    assert (event["type"], event["data"]["sku"]) == ("offer.changed", "SKU1")
    assert stored.headers["Nats-Msg-Id"] == event["id"]
    [delivery] = notification(market, "offer_changed")["deliveries"]
    assert (delivery["state"], delivery["transport"]) == ("delivered", "jetstream")
