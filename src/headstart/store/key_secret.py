"""The server secret that API keys and session tokens are hashed with (issue 7).

Production sets ``HEADSTART_KEY_SECRET``, kept apart from the database, so a
database dump alone cannot confirm a guessed key. Without it (sandbox, demo, a
laptop) one secret is generated per database and kept in the ``settings``
table, so restarts keep every key valid; that protects nothing against a dump,
which is why production must set the variable. Changing the secret invalidates
every key and session.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from headstart.store.tables import SettingRow

KEY_SECRET_SETTING = "key_secret"


def stored_key_secret(connection: Connection) -> bytes | None:
    value = connection.scalar(select(SettingRow.value).where(SettingRow.key == KEY_SECRET_SETTING))
    return bytes.fromhex(value["secret"]) if value else None


def ensure_key_secret(connection: Connection, configured: str | None) -> bytes:
    """The configured secret, else this database's own (generated on first use)."""
    if configured:
        return configured.encode()
    stored = stored_key_secret(connection)
    if stored is not None:
        return stored
    generated = secrets.token_bytes(32)
    try:
        with connection.begin_nested():  # another process may be generating it right now
            connection.execute(
                insert(SettingRow).values(key=KEY_SECRET_SETTING, value={"secret": generated.hex()})
            )
    except IntegrityError:
        pass
    stored = stored_key_secret(connection)
    assert stored is not None
    return stored
