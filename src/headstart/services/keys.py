"""API keys: issued once, stored hashed, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from headstart.domain.errors import Unauthenticated
from headstart.store.tables import ApiKeyRow
from headstart.store.uow import UnitOfWork

OPERATOR = "operator"
SELLER = "seller"
STOREFRONT = "storefront"


@dataclass(frozen=True)
class Principal:
    role: str
    id: str  # stable, non-secret identifier of the key (a hash prefix)
    seller_id: str | None = None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(
    session: Session, role: str, name: str, now: datetime, seller_id: str | None = None
) -> str:
    """A new random key; only its hash is stored, so it is shown exactly once."""
    prefix = {SELLER: "hs_sel", STOREFRONT: "hs_sf"}[role]
    key = f"{prefix}_{secrets.token_urlsafe(24)}"
    session.add(
        ApiKeyRow(key_hash=hash_key(key), role=role, seller_id=seller_id, name=name, created_at=now)
    )
    return key


def create_storefront_key(uow: UnitOfWork, name: str) -> str:
    with uow:
        key = issue_key(uow.session, STOREFRONT, name, uow.now())
        uow.commit()
        return key


def authenticate(uow: UnitOfWork, key: str, operator_key: str | None) -> Principal:
    if operator_key and hmac.compare_digest(hash_key(key), hash_key(operator_key)):
        return Principal(role=OPERATOR, id="operator")
    with uow:
        row = uow.session.get(ApiKeyRow, hash_key(key))
        if row is None:
            raise Unauthenticated("the API key is not valid")
        return Principal(role=row.role, id=row.key_hash[:16], seller_id=row.seller_id)
