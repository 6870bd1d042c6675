"""How a notification reaches its audience (R15, R16): routes, ids and retry timing.

Pure: the outbox sender (``workers/outbox_sender.py``) feeds it stored rows, the
time and a random draw, and does the sending.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

EMAIL = "email"
WEBHOOK = "webhook"
NATS = "nats"

# Webhook scopes: an operator's hook hears everything or what a storefront needs;
# a seller's hook hears only notifications carrying its own seller_id.
SCOPE_ALL = "all"
SCOPE_STOREFRONT = "storefront"
SCOPE_SELLER = "seller"

# The public name of each notification kind, as a webhook receiver sees it.
EVENT_TYPES: Mapping[str, str] = {
    "opt_out_confirmation": "seller.opt_out_confirmed",
    "short_receipt": "shipment.closed_short",
    "delay_notice": "order.delayed",
    "delay_confirmed": "order.delay_confirmed",
    "order_cancelled": "order.cancelled",
    "offer_changed": "offer.changed",
}
# What the storefront owns: the buyer's contact (R9a, R10) and the shop window (R16).
STOREFRONT_EVENTS = frozenset(
    {"order.delayed", "order.delay_confirmed", "order.cancelled", "offer.changed"}
)
SCOPE_EVENTS: Mapping[str, frozenset[str]] = {
    SCOPE_ALL: frozenset(EVENT_TYPES.values()),
    SCOPE_STOREFRONT: STOREFRONT_EVENTS,
    SCOPE_SELLER: frozenset(EVENT_TYPES.values()),
}


def event_type(kind: str) -> str:
    return EVENT_TYPES.get(kind, f"notification.{kind}")


@dataclass(frozen=True)
class Subscription:
    """A registered webhook, as routing sees it."""

    webhook_id: str
    scope: str
    seller_id: str | None = None
    events: frozenset[str] | None = None  # None: every event of the scope

    def wants(self, event: str, seller_id: str | None) -> bool:
        if event not in SCOPE_EVENTS.get(self.scope, frozenset()):
            return False
        if self.events is not None and event not in self.events:
            return False
        # A seller hears only its own notifications, never another seller's.
        return self.scope != SCOPE_SELLER or (seller_id is not None and seller_id == self.seller_id)


@dataclass(frozen=True)
class Route:
    channel: str  # email | webhook | nats
    target: str  # an e-mail address, a webhook id, a NATS subject


def is_email_address(recipient: str) -> bool:
    """Buyers ("buyer:<ref>") and the storefront have no address here: webhooks reach them."""
    return "@" in recipient and not recipient.startswith("buyer:")


def routes(
    kind: str,
    recipient: str,
    payload: Mapping[str, object],
    subscriptions: Iterable[Subscription],
    *,
    offer_subject_prefix: str | None,
) -> list[Route]:
    """Every channel one notification goes out on; each becomes its own delivery."""
    found: list[Route] = []
    if is_email_address(recipient):
        found.append(Route(EMAIL, recipient))
    event = event_type(kind)
    seller = payload.get("seller_id")
    seller_id = seller if isinstance(seller, str) else None
    found.extend(
        Route(WEBHOOK, sub.webhook_id) for sub in subscriptions if sub.wants(event, seller_id)
    )
    if kind == "offer_changed" and offer_subject_prefix is not None:
        found.append(Route(NATS, offer_subject(offer_subject_prefix, str(payload["sku"]))))
    return found


def offer_subject(prefix: str, sku: str) -> str:
    """R16's stream: one subject per SKU. A SKU containing '.' spans several tokens."""
    return f"{prefix}.offers.{sku}"


def message_id(dedupe_key: str) -> str:
    """The same notification always carries the same Message-ID, so a resend is recognised."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]
    return f"<{digest}@headstart>"


def event_id(dedupe_key: str, target: str) -> str:
    """Stable per notification and receiver: a redelivery carries the same id."""
    digest = hashlib.sha256(f"{dedupe_key}\n{target}".encode()).hexdigest()[:32]
    return f"evt_{digest}"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter (each wait drawn from [0, ceiling))."""

    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 12

    def ceiling(self, attempts_made: int) -> timedelta:
        """The longest wait after ``attempts_made`` failed attempts (1 → base)."""
        exponent = max(attempts_made - 1, 0)
        if exponent >= 40:  # 2**40 base units are far past any cap; avoid huge numbers
            return self.cap
        grown: timedelta = self.base * (2**exponent)
        return min(self.cap, grown)

    def delay(self, attempts_made: int, draw: float) -> timedelta:
        """``draw`` is uniform in [0, 1); the caller owns the randomness."""
        if not 0.0 <= draw < 1.0:
            raise ValueError(f"draw must lie in [0, 1), got {draw}")
        ceiling: timedelta = self.ceiling(attempts_made)
        return ceiling * draw

    def gives_up(self, attempts_made: int) -> bool:
        return attempts_made >= self.max_attempts
