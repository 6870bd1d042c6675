"""R15/R16: who hears of a notification, the ids a resend keeps, and when a retry comes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from headstart.domain.delivery import (
    EMAIL,
    NATS,
    SCOPE_ALL,
    SCOPE_SELLER,
    SCOPE_STOREFRONT,
    WEBHOOK,
    RetryPolicy,
    Route,
    Subscription,
    event_id,
    message_id,
    routes,
)

EVERYTHING = Subscription("wh_ops", SCOPE_ALL)
SHOP = Subscription("wh_shop", SCOPE_STOREFRONT)
ACME = Subscription("wh_acme", SCOPE_SELLER, seller_id="acme")
BOLT = Subscription("wh_bolt", SCOPE_SELLER, seller_id="bolt")
HOOKS = [EVERYTHING, SHOP, ACME, BOLT]


def test_r1_opt_out_email_goes_to_the_seller_and_its_own_webhooks_only() -> None:
    found = routes(
        "opt_out_confirmation",
        "shop@acme.example",
        {"seller_id": "acme"},
        HOOKS,
        offer_subject_prefix="headstart",
    )

    assert found == [
        Route(EMAIL, "shop@acme.example"),
        Route(WEBHOOK, "wh_ops"),
        Route(WEBHOOK, "wh_acme"),
    ]


def test_r9a_delay_notice_reaches_the_buyer_through_the_storefront_webhook() -> None:
    found = routes(
        "delay_notice", "buyer:b-1", {"seller_id": "bolt"}, HOOKS, offer_subject_prefix=None
    )

    assert found == [Route(WEBHOOK, "wh_ops"), Route(WEBHOOK, "wh_shop"), Route(WEBHOOK, "wh_bolt")]


def test_r16_offer_change_goes_to_webhooks_and_the_nats_subject_of_its_sku() -> None:
    found = routes(
        "offer_changed",
        "storefront",
        {"seller_id": "acme", "sku": "SKU-1"},
        [SHOP, BOLT],
        offer_subject_prefix="headstart",
    )

    assert found == [Route(WEBHOOK, "wh_shop"), Route(NATS, "headstart.offers.SKU-1")]


def test_r16_without_nats_an_offer_change_has_no_stream_delivery() -> None:
    found = routes("offer_changed", "storefront", {"sku": "SKU-1"}, [], offer_subject_prefix=None)

    assert found == []


def test_r15_a_webhook_subscribed_to_some_events_hears_only_those() -> None:
    offers_only = Subscription("wh_1", SCOPE_ALL, events=frozenset({"offer.changed"}))

    assert offers_only.wants("offer.changed", None)
    assert not offers_only.wants("order.delayed", "acme")


def test_r15_the_storefront_never_hears_a_sellers_opt_out_or_short_receipt() -> None:
    assert not SHOP.wants("seller.opt_out_confirmed", "acme")
    assert not SHOP.wants("shipment.closed_short", "acme")
    assert SHOP.wants("order.cancelled", "acme")


def test_r15_a_seller_webhook_never_hears_a_notification_without_its_seller_id() -> None:
    assert not ACME.wants("offer.changed", None)
    assert not ACME.wants("offer.changed", "bolt")
    assert ACME.wants("offer.changed", "acme")


def test_r15_message_id_is_stable_per_notification_and_differs_between_them() -> None:
    first = message_id("opt_out:acme:2026-03-02T15:00:00+00:00")

    assert first == message_id("opt_out:acme:2026-03-02T15:00:00+00:00")
    assert first != message_id("opt_out:acme:2026-03-09T15:00:00+00:00")
    assert first.startswith("<") and first.endswith("@headstart>")
    assert len(first) == len("<@headstart>") + 32


def test_r15_event_id_is_stable_per_notification_and_receiver() -> None:
    assert event_id("delay:o-1:1", "wh_a") == event_id("delay:o-1:1", "wh_a")
    assert event_id("delay:o-1:1", "wh_a") != event_id("delay:o-1:1", "wh_b")
    assert event_id("delay:o-1:1", "wh_a") != event_id("delay:o-1:2", "wh_a")


def test_r15_backoff_ceiling_doubles_from_two_seconds_up_to_an_hour() -> None:
    policy = RetryPolicy()

    ceilings = [policy.ceiling(n).total_seconds() for n in (1, 2, 3, 4, 11, 12, 13, 500)]

    assert ceilings == [2, 4, 8, 16, 2048, 3600, 3600, 3600]


def test_r15_full_jitter_draws_the_wait_anywhere_below_the_ceiling() -> None:
    policy = RetryPolicy()

    assert policy.delay(3, 0.0) == timedelta(0)
    assert policy.delay(3, 0.5) == timedelta(seconds=4)
    assert policy.delay(3, 0.999) < timedelta(seconds=8)
    with pytest.raises(ValueError):
        policy.delay(3, 1.0)


def test_r15_retries_give_up_after_the_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=12)

    assert not policy.gives_up(11)
    assert policy.gives_up(12)
