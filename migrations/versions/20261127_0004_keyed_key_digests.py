"""keyed key digests: API keys and session tokens stored as HMAC-SHA256 (issue 7)

Until now a key was stored as SHA-256(key) and its first 16 hex digits were the
key's public id (orders remember the storefront that placed them by it). Now the
stored form is HMAC-SHA256(secret, SHA-256(key)), so every stored digest is
re-hashed here without knowing any key, and the old public id is kept in the new
``key_id`` column. Session tokens are re-hashed the same way, so nobody is signed
out. The secret is HEADSTART_KEY_SECRET, else the one generated for this database
(kept in ``settings``).

The downgrade cannot undo a keyed hash: keys and sessions must be issued again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 18:00:00

"""

import hashlib
import hmac
import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from headstart.store.key_secret import ensure_key_secret

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rehashed(secret: bytes, old_sha256: str) -> str:
    # services.keys.digest_token is HMAC(secret, SHA-256(key)); the column held SHA-256(key).
    return hmac.new(secret, old_sha256.encode(), hashlib.sha256).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    configured = op.get_context().config.attributes.get("key_secret")
    secret = ensure_key_secret(bind, configured or os.environ.get("HEADSTART_KEY_SECRET"))

    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
    keys = sa.table("api_keys", sa.column("key_hash", sa.String), sa.column("key_id", sa.String))
    for (old,) in bind.execute(sa.select(keys.c.key_hash)).all():
        bind.execute(
            keys.update()
            .where(keys.c.key_hash == old)
            .values(key_hash=_rehashed(secret, old), key_id=old[:16])
        )
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("key_id", existing_type=sa.String(length=32), nullable=False)

    sessions = sa.table("web_sessions", sa.column("token_hash", sa.String))
    for (old,) in bind.execute(sa.select(sessions.c.token_hash)).all():
        bind.execute(
            sessions.update()
            .where(sessions.c.token_hash == old)
            .values(token_hash=_rehashed(secret, old))
        )


def downgrade() -> None:
    op.execute("DELETE FROM web_sessions")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("key_id")
