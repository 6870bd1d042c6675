"""Webhooks (R15, R16): operators hear everything or the storefront's events, sellers their own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from headstart.api.deps import Reader, RuntimeDep, SellerOrOperator, Uow
from headstart.api.schemas import Code, WebhookIn
from headstart.services import webhooks

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks (R15, R16)"])


@router.post("", status_code=201)
def register_webhook(
    body: WebhookIn, uow: Uow, principal: SellerOrOperator, runtime: RuntimeDep
) -> dict[str, Any]:
    """Returns the signing secret once: deliveries carry
    ``Headstart-Signature: v1=hex(HMAC-SHA256(secret, f"{timestamp}.{body}"))``.
    URLs resolving to loopback, private, link-local or multicast addresses get 422."""
    return webhooks.register_webhook(
        uow,
        principal,
        str(body.url),
        body.events,
        body.scope,
        allow_private=runtime.settings.webhook_allow_private,
    )


@router.get("")
def list_webhooks(uow: Reader, principal: SellerOrOperator) -> dict[str, Any]:
    return webhooks.list_webhooks(uow, principal)


@router.delete("/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: Code, uow: Uow, principal: SellerOrOperator) -> Response:
    webhooks.delete_webhook(uow, principal, webhook_id)
    return Response(status_code=204)
