"""Webhooks (R15, R16): operators hear everything or the storefront's events, sellers their own.

The signing secret is returned once, at registration; it is stored as issued
because the sender needs it to sign every delivery (HMAC-SHA256).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from headstart.domain.delivery import SCOPE_ALL, SCOPE_EVENTS, SCOPE_SELLER
from headstart.domain.errors import Forbidden, InvalidRequest, NotFound
from headstart.services.keys import SELLER, Principal
from headstart.services.webhook_targets import Resolve, check_webhook_url, resolve_host
from headstart.store.tables import SellerRow, WebhookRow
from headstart.store.uow import UnitOfWork


def register_webhook(
    uow: UnitOfWork,
    principal: Principal,
    url: str,
    events: list[str] | None = None,
    scope: str | None = None,
    *,
    allow_private: bool = False,
    resolve: Resolve = resolve_host,
) -> dict[str, Any]:
    """A new webhook; the response is the only place its secret is ever shown."""
    if principal.role == SELLER:
        if scope is not None:
            raise Forbidden("a seller key registers webhooks for its own events only")
        scope, seller_id = SCOPE_SELLER, principal.seller_id
    else:
        scope, seller_id = scope or SCOPE_ALL, None
    unknown = sorted(set(events or ()) - SCOPE_EVENTS[scope])
    if unknown:
        raise InvalidRequest(
            f"events not delivered to a {scope} webhook: {', '.join(unknown)}",
            {"events": unknown, "allowed": sorted(SCOPE_EVENTS[scope])},
        )
    check_webhook_url(url, allow_private=allow_private, resolve=resolve)
    with uow:
        if seller_id is not None and uow.session.get(SellerRow, seller_id) is None:
            raise NotFound(f"seller {seller_id} not found")
        row = WebhookRow(
            id=f"wh_{secrets.token_hex(12)}",
            url=url,
            events=sorted(set(events)) if events else None,
            scope=scope,
            seller_id=seller_id,
            secret=f"whsec_{secrets.token_urlsafe(32)}",
            created_at=uow.now(),
            deleted_at=None,
        )
        uow.session.add(row)
        view = {**webhook_view(row), "secret": row.secret}
        uow.commit()
        return view


def list_webhooks(uow: UnitOfWork, principal: Principal) -> dict[str, Any]:
    """A seller sees its own webhooks; an operator sees every one."""
    with uow:
        query = select(WebhookRow).where(WebhookRow.deleted_at.is_(None)).order_by(WebhookRow.id)
        if principal.role == SELLER:
            query = query.where(WebhookRow.seller_id == principal.seller_id)
        return {"webhooks": [webhook_view(row) for row in uow.session.scalars(query)]}


def delete_webhook(uow: UnitOfWork, principal: Principal, webhook_id: str) -> None:
    """Stops new deliveries at once; pending ones are cancelled by the sender."""
    with uow:
        row = uow.session.get(WebhookRow, webhook_id)
        # Another seller's webhook is "not found", never "forbidden": ids do not leak.
        if (
            row is None
            or row.deleted_at is not None
            or (principal.role == SELLER and row.seller_id != principal.seller_id)
        ):
            raise NotFound(f"webhook {webhook_id} not found")
        row.deleted_at = uow.now()
        uow.commit()


def webhook_view(row: WebhookRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "events": row.events,
        "scope": row.scope,
        "seller_id": row.seller_id,
        "created_at": row.created_at.isoformat(),
    }
