"""R15: webhook signatures a receiver can check, and refuse when forged or replayed."""

from __future__ import annotations

import hashlib
import hmac

from headstart.workers.webhook_delivery import encode_event, sign, verify_signature

SECRET = "whsec_test"
BODY = encode_event({"id": "evt_1", "type": "offer.changed", "data": {"sku": "SKU-1"}})
NOW = 1_780_000_000


def test_r15_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert sign(SECRET, NOW, BODY) == f"v1={expected}"


def test_r15_a_receiver_verifies_a_fresh_signature() -> None:
    assert verify_signature(SECRET, str(NOW), sign(SECRET, NOW, BODY), BODY, now=NOW + 10)


def test_r15_a_changed_body_or_another_secret_fails_verification() -> None:
    signature = sign(SECRET, NOW, BODY)

    assert not verify_signature(SECRET, str(NOW), signature, BODY + b" ", now=NOW)
    assert not verify_signature("whsec_other", str(NOW), signature, BODY, now=NOW)
    assert not verify_signature(SECRET, str(NOW + 1), signature, BODY, now=NOW)


def test_r15_an_old_signature_is_refused_as_a_replay() -> None:
    signature = sign(SECRET, NOW, BODY)

    assert not verify_signature(SECRET, str(NOW), signature, BODY, now=NOW + 301)
    assert not verify_signature(SECRET, "not-a-number", signature, BODY, now=NOW)


def test_r15_event_bodies_are_canonical_json() -> None:
    assert encode_event({"b": 1, "a": [1, 2]}) == b'{"a":[1,2],"b":1}'
