"""Signed webhook deliveries (R15, R16).

Each POST carries::

    Headstart-Event-Id:   evt_... (the same on every retry: receivers dedupe on it)
    Headstart-Event-Type: order.delayed, offer.changed, ...
    Headstart-Timestamp:  Unix seconds when this attempt was signed
    Headstart-Signature:  v1=hex(HMAC-SHA256(secret, f"{timestamp}.{body}"))

A receiver recomputes the signature over the raw body and refuses a timestamp far
from its own clock (replays); ``verify_signature`` is the reference implementation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from headstart import __version__
from headstart.domain.errors import InvalidRequest
from headstart.services.webhook_targets import Resolve, check_webhook_url, resolve_host

SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
RESPONSE_EXCERPT_CHARS = 200


class DeliveryFailed(Exception):
    """The receiver did not take the event; the sender retries with backoff."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify_signature(
    secret: str,
    timestamp: str,
    signature: str,
    body: bytes,
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when ``signature`` signs ``body`` at ``timestamp``, and that is close to ``now``."""
    try:
        signed_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - signed_at) > tolerance:
        return False
    expected = sign(secret, signed_at, body)
    # Several signatures may be sent during a secret rotation, comma-separated.
    return any(hmac.compare_digest(expected, part.strip()) for part in signature.split(","))


def encode_event(event: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(event, separators=(",", ":"), sort_keys=True, default=str).encode()


class WebhookClient:
    """One pooled HTTP client for every webhook POST; safe to share between threads."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        wall_clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
        allow_private: bool = False,
        resolve: Resolve = resolve_host,
    ) -> None:
        self._wall_clock = wall_clock
        self._allow_private = allow_private
        self._resolve = resolve
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,  # a redirect is a misconfigured URL, not a delivery
            headers={"User-Agent": f"headstart-webhooks/{__version__}"},
            transport=transport,
        )

    def post(self, url: str, secret: str, event_id: str, event_type: str, body: bytes) -> int:
        """POST one event; return the status of a 2xx answer, raise ``DeliveryFailed`` else."""
        # Checked again now, not only at registration: the name may point elsewhere today.
        try:
            check_webhook_url(url, allow_private=self._allow_private, resolve=self._resolve)
        except InvalidRequest as error:
            raise DeliveryFailed(f"refused: {error.message}") from error
        # The timestamp is the real wall clock, not the sandbox clock: receivers compare
        # it with their own clock to refuse replays.
        timestamp = int(self._wall_clock())
        headers = {
            "Content-Type": "application/json",
            "Headstart-Event-Id": event_id,
            "Headstart-Event-Type": event_type,
            "Headstart-Timestamp": str(timestamp),
            "Headstart-Signature": sign(secret, timestamp, body),
        }
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
        if not response.is_success:
            excerpt = response.text[:RESPONSE_EXCERPT_CHARS]
            raise DeliveryFailed(f"HTTP {response.status_code}: {excerpt}")
        return response.status_code

    def close(self) -> None:
        self._client.close()
