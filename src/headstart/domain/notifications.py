"""What each notification of R15 says. Sending them is the outbox's job."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from headstart.domain.enrollment import OPT_OUT_NOTICE
from headstart.domain.promise import Promise


@dataclass(frozen=True)
class Notification:
    kind: str
    recipient: str  # an e-mail address, or "buyer:<ref>" / "storefront" for webhooks
    subject: str
    body: str
    dedupe_key: str  # recorded exactly once (R15)
    payload: dict[str, object] = field(default_factory=dict)


def opt_out_confirmation(seller_id: str, email: str, confirmed_at: datetime) -> Notification:
    """R1: the e-mail states the instant from which new shipments stop participating."""
    effective = confirmed_at + OPT_OUT_NOTICE
    return Notification(
        kind="opt_out_confirmation",
        recipient=email,
        subject="Head Start opt-out confirmed",
        body=(
            f"Your opt-out from Head Start was confirmed at {confirmed_at.isoformat()}. "
            f"Shipments you create from {effective.isoformat()} on will not participate; "
            "shipments created before then keep participating until they close, and every "
            "promise already made to buyers is honored."
        ),
        dedupe_key=f"opt_out:{seller_id}:{confirmed_at.isoformat()}",
        payload={
            "seller_id": seller_id,
            "opt_out_confirmed_at": confirmed_at.isoformat(),
            "effective_for_shipments_created_from": effective.isoformat(),
        },
    )


def delay_notice(
    order_id: str,
    buyer_ref: str,
    old: Promise,
    new: Promise,
    *,
    requires_consent: bool,
    seq: int,
    seller_id: str,
) -> Notification:
    """R9/R9a: the revised date and a one-step cancellation with a full refund."""
    consent = (
        "Please confirm you still want this order; without your confirmation it will be "
        "cancelled and fully refunded."
        if requires_consent
        else "If you do nothing, your order stays open with the new date."
    )
    return Notification(
        kind="delay_notice",
        recipient=f"buyer:{buyer_ref}",
        subject=f"Your order {order_id} is delayed",
        body=(
            f"Your order {order_id} will now arrive by {new.promised_delivery_date.isoformat()} "
            f"instead of {old.promised_delivery_date.isoformat()}. You may cancel it in one "
            f"step for a full refund: POST /v1/orders/{order_id}/cancel. {consent}"
        ),
        dedupe_key=f"delay:{order_id}:{seq}",
        payload={
            "seller_id": seller_id,  # the seller's own webhooks hear of it too
            "order_id": order_id,
            "old": old.to_dict(),
            "new": new.to_dict(),
            "requires_consent": requires_consent,
            "cancel_path": f"/v1/orders/{order_id}/cancel",
        },
    )


def order_cancelled(order_id: str, buyer_ref: str, reason: str, *, seller_id: str) -> Notification:
    """R10/R11: the buyer is told, with a full refund."""
    if reason == "buyer_cancelled":
        body = f"Your order {order_id} was cancelled as you asked. You will be refunded in full."
    else:
        body = (
            f"We are sorry: your order {order_id} could not be filled on time ({reason}) and was "
            "cancelled. You will be refunded in full."
        )
    return Notification(
        kind="order_cancelled",
        recipient=f"buyer:{buyer_ref}",
        subject=f"Your order {order_id} was cancelled",
        body=body,
        dedupe_key=f"cancelled:{order_id}",
        payload={"seller_id": seller_id, "order_id": order_id, "reason": reason},
    )


def short_receipt(
    seller_id: str, email: str, shipment_id: str, shortfall: dict[str, int]
) -> Notification:
    """R11: the seller hears which SKUs closed short, and by how much."""
    lines = ", ".join(f"{sku}: {units} short" for sku, units in sorted(shortfall.items()))
    return Notification(
        kind="short_receipt",
        recipient=email,
        subject=f"Shipment {shipment_id} closed short",
        body=f"Shipment {shipment_id} was closed with fewer units than shipped ({lines}).",
        dedupe_key=f"short:{shipment_id}",
        payload={"seller_id": seller_id, "shipment_id": shipment_id, "shortfall": shortfall},
    )


def offer_changed(sku: str, offer: dict[str, object], seq: int, *, seller_id: str) -> Notification:
    """R16: every change of a SKU's offer is published."""
    return Notification(
        kind="offer_changed",
        recipient="storefront",
        subject=f"Offer for {sku} changed",
        body="",
        dedupe_key=f"offer:{sku}:{seq}",
        payload={"seller_id": seller_id, "sku": sku, "offer": offer},
    )
