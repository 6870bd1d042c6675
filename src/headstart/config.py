"""Settings, read from ``HEADSTART_*`` environment variables; SQLite by default."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEADSTART_", extra="ignore")

    database_url: str = Field(
        "sqlite:///./headstart.db",
        description="SQLAlchemy URL: sqlite:///path.db or postgresql+psycopg://user@host/db",
    )
    operator_key: str | None = Field(
        None, description="Bearer key of the operator role; without it no operator can sign in"
    )
    sandbox: bool = Field(
        False, description="Sandbox mode: the operator may set the clock (POST /v1/sandbox/clock)"
    )
    max_body_bytes: int = Field(1_048_576, description="Larger request bodies get 413")
    db_pool_size: int = Field(10, description="PostgreSQL connections kept per process")
