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
    key_secret: str | None = Field(
        None,
        description=(
            "Server secret API keys and session tokens are hashed with (HMAC-SHA256); "
            "unset: one is generated per database and kept in it (set it in production)"
        ),
    )
    auth_failure_limit: int = Field(
        10, ge=1, description="Failed authentications allowed in a burst per client IP or key"
    )
    auth_failure_window_seconds: float = Field(
        60.0, gt=0, description="A client's allowance of failed authentications refills in this"
    )
    sandbox: bool = Field(
        False, description="Sandbox mode: the operator may set the clock (POST /v1/sandbox/clock)"
    )
    max_body_bytes: int = Field(1_048_576, description="Larger request bodies get 413")
    db_pool_size: int = Field(10, description="PostgreSQL connections kept per process")
    # Seeing it run (issue 8): /metrics and the logs.
    metrics_key: str | None = Field(
        None,
        description=(
            "Bearer key that may read GET /metrics (a Prometheus scraper's), besides the "
            "operator key; unset: only the operator key may"
        ),
    )
    log_json: bool = Field(
        False,
        description=(
            "headstart serve logs JSON lines (every request with its request id, uvicorn's "
            "own lines too) instead of uvicorn's readable access log"
        ),
    )
    session_hours: float = Field(
        12.0, gt=0, le=24 * 30, description="A web sign-in lasts this long (issue 5)"
    )
    # The outbox sender (issue 4, R15): e-mail, webhooks, offer events to NATS.
    smtp_url: str | None = Field(
        None,
        description=(
            "smtp://host:port, smtp+starttls://user:pass@host:587 or smtps://...; "
            "unset: e-mails are written to mail_dir"
        ),
    )
    mail_dir: str = Field(
        "./headstart-mail", description="Maildir that receives e-mails when smtp_url is unset"
    )
    mail_from: str = Field(
        "Head Start <headstart@localhost>", description="From: of every e-mail sent"
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8000", description="Base of the links in e-mails (the cancel link, R9a)"
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="Per webhook POST: connect and read timeout"
    )
    webhook_allow_private: bool = Field(
        False,
        description=(
            "Allow webhook URLs on loopback, private, link-local or multicast addresses "
            "(tests, a receiver on the same host); off: refused at registration and delivery"
        ),
    )
    webhook_max_attempts: int = Field(
        12, ge=1, description="A webhook delivery is marked failed after this many attempts"
    )
    email_max_attempts: int = Field(
        48, ge=1, description="An e-mail delivery is marked failed after this many attempts"
    )
    outbox_poll_seconds: float = Field(
        1.0, gt=0, description="Idle wait of the outbox sender between polls"
    )
    # The worker (issue 4): tracking events from NATS JetStream, and the scheduler.
    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        description="NATS server of the worker; empty or 'none': tracking events over HTTP only",
    )
    nats_stream: str = Field(
        "HEADSTART", description="JetStream stream holding <prefix>.tracking.> (made if missing)"
    )
    nats_dead_letter_stream: str = Field(
        "HEADSTART_DLQ", description="JetStream stream keeping <prefix>.deadletter.> to inspect"
    )
    nats_subject_prefix: str = Field(
        "headstart", description="First token of every subject: <prefix>.tracking.<fc>"
    )
    nats_durable: str = Field(
        "headstart-tracking", description="Durable consumer name shared by every worker"
    )
    tracking_batch_size: int = Field(
        100, ge=1, le=1000, description="Tracking messages fetched and applied per transaction"
    )
    tracking_ack_wait_seconds: float = Field(
        60.0, gt=0, description="Unacknowledged tracking messages are redelivered after this"
    )
    scheduler_interval_seconds: float = Field(
        60.0, gt=0, description="Real seconds between sweeps (R9a consent, R12 silence, R9/R10)"
    )
    model_refit_hours: float = Field(
        24.0,
        gt=0,
        description="Real hours between fits of the in-stock model on every closed shipment",
    )
    run_worker_in_process: bool = Field(
        False, description="The API server also runs the scheduler (and NATS consumer if up)"
    )
