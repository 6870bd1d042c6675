"""Bring a database's schema to the newest Alembic revision.

The migrations live outside the package, in the repository's ``migrations/``
directory; the package is only ever installed in editable mode, so that
directory is found by walking up from this file. HEADSTART_MIGRATIONS_DIR
overrides the search.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS_DIR_ENV = "HEADSTART_MIGRATIONS_DIR"


def find_migrations_dir() -> Path:
    override = os.environ.get(MIGRATIONS_DIR_ENV)
    if override:
        directory = Path(override).expanduser().resolve()
        if not (directory / "env.py").is_file():
            raise FileNotFoundError(f"{MIGRATIONS_DIR_ENV}={override} has no env.py")
        return directory
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "migrations"
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError(
        f"no migrations/env.py above {here}; set {MIGRATIONS_DIR_ENV} to the directory"
    )


def upgrade_to_head(engine: Engine, *, key_secret: str | None = None) -> None:
    """Run every pending migration on ``engine`` in one transaction.

    ``key_secret`` is the configured HEADSTART_KEY_SECRET (migration 0004 re-hashes
    the stored keys with it); the Alembic command line reads the variable itself.
    """
    config = Config()  # no ini file: the application's own logging stays as it is
    # ConfigParser interpolates '%', so a path containing one must be escaped.
    config.set_main_option("script_location", str(find_migrations_dir()).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["key_secret"] = key_secret
        command.upgrade(config, "head")
