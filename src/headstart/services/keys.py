"""API keys: issued once, stored as a keyed hash, compared in constant time (issue 7).

A key is stored as ``HMAC-SHA256(server secret, SHA-256(key))``. The inner
SHA-256 is what earlier versions stored, so migration 0004 turned every stored
key into the new form without knowing a single key. Keys are 192 random bits,
so the digest is the primary key: looking one up is one index probe, and no
slow KDF is needed (nobody can enumerate 2^192 guesses), while the secret makes
a dumped table useless for checking guesses offline. The same digest hides web
session tokens.
"""

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
    id: str  # stable, non-secret identifier of the key (random, stored beside the digest)
    seller_id: str | None = None


def digest_token(secret: bytes, token: str) -> str:
    """The stored form of a key or session token: HMAC-SHA256(secret, SHA-256(token))."""
    if not secret:
        raise RuntimeError("no key secret: build the unit of work with build_runtime()")
    inner = hashlib.sha256(token.encode()).hexdigest()
    return hmac.new(secret, inner.encode(), hashlib.sha256).hexdigest()


def key_prefix(key: str) -> str:
    """The start of a presented key: its role tag and about 60 random bits.

    Long enough that nobody who has not seen most of a real key can make its
    failure bucket run dry and lock its owner out.
    """
    return key[:16]


def issue_key(
    session: Session,
    secret: bytes,
    role: str,
    name: str,
    now: datetime,
    seller_id: str | None = None,
) -> str:
    """A new random key; only its digest is stored, so it is shown exactly once."""
    prefix = {SELLER: "hs_sel", STOREFRONT: "hs_sf"}[role]
    key = f"{prefix}_{secrets.token_urlsafe(24)}"
    session.add(
        ApiKeyRow(
            key_hash=digest_token(secret, key),
            key_id=secrets.token_hex(8),
            role=role,
            seller_id=seller_id,
            name=name,
            created_at=now,
        )
    )
    return key


def create_storefront_key(uow: UnitOfWork, name: str) -> str:
    with uow:
        key = issue_key(uow.session, uow.key_secret, STOREFRONT, name, uow.now())
        uow.commit()
        return key


def authenticate(uow: UnitOfWork, key: str, operator_key: str | None) -> Principal:
    digest = digest_token(uow.key_secret, key)
    # Both sides digested first: equal lengths, so compare_digest leaks no length either.
    if operator_key and hmac.compare_digest(digest, digest_token(uow.key_secret, operator_key)):
        return Principal(role=OPERATOR, id="operator")
    with uow:
        row = uow.session.get(ApiKeyRow, digest)
        # The index probe found the row by digest; compare again in constant time so the
        # decision never rests on how far a database's string comparison got.
        if row is None or not hmac.compare_digest(row.key_hash, digest):
            raise Unauthenticated("the API key is not valid")
        return Principal(role=row.role, id=row.key_id, seller_id=row.seller_id)
