"""Issue 7's security items on both engines: keyed key digests, throttled failures,
API headers, CSRF on every form, internal webhook targets refused, no secrets in logs."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import io
from typing import Any

import httpx
import pytest
import structlog
from fastapi.routing import APIRoute
from sqlalchemy import select

from headstart.bootstrap import build_runtime
from headstart.store.key_secret import stored_key_secret
from headstart.store.tables import ApiKeyRow
from headstart.web.pages import PageRoute
from headstart.workers.runner import configure_logging
from headstart.workers.webhook_delivery import DeliveryFailed, WebhookClient
from tests.integration.conftest import AppFactory, Server, settings
from tests.integration.test_web_security import browser, csrf_of, key_of, signed_in
from tests.support import OPERATOR_KEY, T0, Market, bearer, expect


def test_api_keys_are_stored_as_hmac_sha256_of_the_server_secret(
    server: Server, market: Market
) -> None:
    key = key_of(market.sellers[market.add_seller("Acme")])
    with server.runtime.reader() as uow:
        stored = uow.session.scalars(select(ApiKeyRow.key_hash)).all()
    inner = hashlib.sha256(key.encode()).hexdigest()
    expected = hmac.new(b"test-key-secret", inner.encode(), hashlib.sha256).hexdigest()
    assert expected in stored
    assert inner not in stored  # the unkeyed hash of earlier versions is gone


def test_without_a_key_secret_each_database_generates_one_and_keeps_it(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/own.db"
    first = build_runtime(settings(url, key_secret=None))
    second = build_runtime(settings(url, key_secret=None))
    try:
        with first.engine.connect() as connection:
            assert stored_key_secret(connection) == first.key_secret
        assert len(first.key_secret) == 32
        assert second.key_secret == first.key_secret  # a restart keeps every key valid
    finally:
        first.engine.dispose()
        second.engine.dispose()


def test_repeated_bad_keys_from_one_client_get_429_with_retry_after(
    make_client: AppFactory, market: Market
) -> None:
    client = make_client(auth_failure_limit=3, auth_failure_window_seconds=60)
    for attempt in range(3):
        expect(client.get("/v1/notifications", headers=bearer(f"wrong-{attempt}")), 401)

    refused = client.get("/v1/notifications", headers=bearer("wrong-4"))
    also_refused = client.get("/v1/notifications", headers=market.operator)

    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 20
    assert refused.json()["error"]["code"] == "rate_limited"
    assert also_refused.status_code == 429  # the client is slowed, whatever it sends now


def test_repeated_failed_sign_ins_get_429_on_the_form(make_client: AppFactory) -> None:
    client = make_client(auth_failure_limit=2)
    client.follow_redirects = False
    token = csrf_of(client.get("/sign-in").text)
    for _ in range(2):
        form = {"api_key": "nope", "time_zone": "UTC", "csrf_token": token}
        assert client.post("/sign-in", data=form).status_code == 401

    good = {"api_key": OPERATOR_KEY, "time_zone": "UTC", "csrf_token": token}
    response = client.post("/sign-in", data=good)

    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins" in response.text


@pytest.mark.parametrize("path", ["/v1/fulfillment-centers", "/v1/notifications", "/healthz"])
def test_api_responses_carry_nosniff_and_no_referrer(server: Server, path: str) -> None:
    response = server.client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "content-security-policy" not in response.headers


def every_route(routes: list[Any]) -> list[Any]:
    """The app's route table, flattened (newer FastAPI wraps each included router)."""
    flat = []
    for route in routes:
        original = getattr(route, "original_router", None)
        flat.extend(every_route(original.routes) if original is not None else [route])
    return flat


def test_every_web_form_post_refuses_a_missing_csrf_token(server: Server, market: Market) -> None:
    routes = every_route(server.client.app.routes)
    posts = [r.path for r in routes if isinstance(r, PageRoute) and "POST" in r.methods]
    assert len(posts) >= 5, posts
    api_posts = [r.path for r in routes if isinstance(r, APIRoute) and "POST" in r.methods]
    # Every POST outside the JSON API (bearer keys, no cookies) is a page route: CSRF-checked.
    assert {p for p in api_posts if not p.startswith("/v1/")} == set(posts)
    signed = signed_in(server, OPERATOR_KEY)
    anonymous = browser(server)
    anonymous.get("/sign-in")  # holds a pre-session cookie, but sends no token
    for path in posts:
        concrete = path.replace("{", "").replace("}", "")
        for who in (signed, anonymous):
            response = who.post(concrete, data={"x": "1"})
            assert response.status_code == 403, (path, response.status_code)
            assert "security token" in response.text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://localhost:8080/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://0.0.0.0/hooks",
        "http://224.0.0.1/hooks",
    ],
)
def test_webhooks_to_internal_addresses_are_refused(
    make_client: AppFactory, market: Market, url: str
) -> None:
    client = make_client(webhook_allow_private=False)
    response = client.post("/v1/webhooks", json={"url": url}, headers=market.operator)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["addresses"]  # names what it resolved to


def test_a_webhook_whose_name_now_points_inside_is_not_posted_to() -> None:
    posted: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: posted.append(r) or httpx.Response(200))
    client = WebhookClient(transport=transport, resolve=lambda host, port: ["127.0.0.1"])
    with pytest.raises(DeliveryFailed, match="refused"):
        client.post("https://hooks.acme.example/h", "whsec_x", "evt_1", "offer.changed", b"{}")
    assert posted == []


LOG_STREAM = io.StringIO()


def test_no_key_secret_or_email_body_reaches_the_logs(
    server: Server,
    market: Market,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path,
) -> None:
    from headstart.workers.mail import mail_transport
    from headstart.workers.outbox_sender import build_outbox_sender

    caplog.set_level("DEBUG")
    previous = structlog.get_config()
    configure_logging(json=True)  # the worker's own processors, redaction included
    # ...writing to a stream of our own and never cached, so every test run sees its lines.
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(LOG_STREAM), cache_logger_on_first_use=False
    )
    LOG_STREAM.seek(0)
    LOG_STREAM.truncate()
    try:
        seller = market.add_seller("Acme")
        seller_key = key_of(market.sellers[seller])
        storefront_key = key_of(market.storefront)
        signed_in(server, seller_key)
        market.add_product(seller, "ACME-1")
        market.add_shipment(seller, "SH-1", {"ACME-1": 30}, shipped_at=T0)
        market.order("ACME-1", 1)
        hook = expect(
            server.client.post(
                "/v1/webhooks", json={"url": "https://acme.example/h"}, headers=market.operator
            ),
            201,
        )
        expect(
            server.client.post(
                f"/v1/sellers/{seller}/enrollment/opt-out", headers=market.sellers[seller]
            ),
            200,
        )
        sender = build_outbox_sender(
            server.runtime, mail=mail_transport(None, str(tmp_path / "mail"))
        )
        try:
            sender.run_once()
        finally:
            sender.close()
        structlog.get_logger("probe").warning(
            "probe",
            authorization=f"Bearer {storefront_key}",
            body="Dear seller, your opt-out is confirmed",
            error=f"HTTP 500: echoed {seller_key} and {hook['secret']}",
        )
        [mail_path] = (tmp_path / "mail" / "new").iterdir()
        mail = email.message_from_bytes(mail_path.read_bytes(), policy=email.policy.default)
        text_part = mail.get_body(("plain",))
        assert text_part is not None
        body_line = max(text_part.get_content().splitlines(), key=len)
        logged = capfd.readouterr()
        text = LOG_STREAM.getvalue() + logged.out + logged.err + caplog.text
        assert '"event": "probe"' in text or '"event":"probe"' in text.replace(" ", "")
        for secret in (seller_key, storefront_key, OPERATOR_KEY, hook["secret"], body_line):
            assert secret not in text, secret
        assert "Dear seller" not in text
    finally:
        structlog.configure(**previous)
