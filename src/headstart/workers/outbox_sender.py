"""The outbox sender (R15, R16): every notification delivered at least once, recorded once.

One pass (``run_once``) has three short transactions and no I/O inside any of them:

1. **route**: split new outbox rows into deliveries, one per channel and target
   (the seller's e-mail, each webhook that subscribes, the NATS offer subject);
2. **claim**: take due deliveries with a lease (``claimed_until``, a token);
   PostgreSQL skips rows another sender holds (``FOR UPDATE SKIP LOCKED``),
   SQLite's single writer lock does the same job;
3. send each claimed delivery, outside any transaction, in a small thread pool
   so one slow receiver does not hold up the others; then **record** each
   outcome in its own transaction, only if the claim is still ours.

A crash between sending and recording leaves the claim to expire; the next
sender sends again with the same Message-ID / Headstart-Event-Id, so the
receiver can recognise the duplicate. Failures wait with exponential backoff
and full jitter on the notification's ``next_attempt_at`` (the business clock,
which the sandbox moves); leases run on the real clock, because they guard
against crashed processes. Outbox rows are never deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import Select, or_, select

from headstart.bootstrap import Runtime
from headstart.domain.delivery import (
    EMAIL,
    NATS,
    WEBHOOK,
    RetryPolicy,
    Subscription,
    event_id,
    event_type,
    message_id,
    routes,
)
from headstart.store.tables import DeliveryRow, OutboxRow, WebhookRow
from headstart.store.uow import UnitOfWork, UnitOfWorkFactory, real_now
from headstart.workers.mail import MailTransport, compose_email, mail_transport
from headstart.workers.rendering import MessageRenderer, Notice
from headstart.workers.webhook_delivery import DeliveryFailed, WebhookClient, encode_event

log = structlog.get_logger("headstart.outbox_sender")

DELIVERED = "delivered"
PENDING = "pending"
FAILED = "failed"
CANCELLED = "cancelled"
UNROUTED = "unrouted"
ERROR_CHARS = 500


class OfferPublisher(Protocol):
    def publish(self, subject: str, body: bytes, msg_id: str) -> str: ...


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    token: str
    channel: str
    target: str
    notice: Notice
    webhook_url: str | None = None
    webhook_secret: str | None = None  # None with a webhook channel: the webhook was deleted


@dataclass(frozen=True)
class Outcome:
    claim: Claim
    state: str  # delivered | pending (retry) | cancelled
    transport: str | None = None
    error: str | None = None


class OutboxSender:
    """Sends what the outbox holds. Build it with ``build_outbox_sender(runtime)``.

    * ``run_once(now=None) -> int``: one pass; returns how many rows it routed and
      deliveries it attempted (0: nothing was due). ``now`` is the business clock
      (default: the unit of work's, i.e. the sandbox clock in sandbox mode).
    * ``run_forever(stop: threading.Event)``: passes until ``stop`` is set, at once
      while there is work, else every ``poll_seconds`` (setting ``outbox_poll_seconds``).
    * ``await run(stop: asyncio.Event)``: the same for an asyncio worker; each pass
      runs in a thread (``asyncio.to_thread``), never on the event loop.
    * ``close()``: release the HTTP client and the thread pool.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        mail: MailTransport,
        mail_from: str,
        renderer: MessageRenderer,
        webhooks: WebhookClient,
        offers: OfferPublisher | None = None,
        offer_subject_prefix: str = "headstart",
        email_retry: RetryPolicy | None = None,
        webhook_retry: RetryPolicy | None = None,
        batch_size: int = 50,
        lease: timedelta = timedelta(minutes=5),
        concurrency: int = 8,
        poll_seconds: float = 1.0,
        wall_clock: Callable[[], datetime] = real_now,
        rng: random.Random | None = None,
    ) -> None:
        self._uow = uow_factory
        self._mail = mail
        self._mail_from = mail_from
        self._renderer = renderer
        self._webhooks = webhooks
        self._offers = offers
        self._offer_prefix = offer_subject_prefix if offers is not None else None
        self._retry = {
            EMAIL: email_retry or RetryPolicy(max_attempts=48),
            WEBHOOK: webhook_retry or RetryPolicy(),
            NATS: webhook_retry or RetryPolicy(),
        }
        self._batch = batch_size
        self._lease = lease
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="outbox")
        self.poll_seconds = poll_seconds
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()

    # ------------------------------------------------------------------ loops

    def run_once(self, now: datetime | None = None) -> int:
        now = now or self._now()
        routed = self.route(now)
        claims = self.claim(now)
        for outcome in self._pool.map(self.deliver, claims):
            self.record(outcome, now)
        return routed + len(claims)

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if not self._pass() and stop.wait(self.poll_seconds):
                break

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if await asyncio.to_thread(self._pass):
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_seconds)

    def _pass(self) -> int:
        try:
            return self.run_once()
        except Exception:  # the database went away, say: log, wait, try again
            log.exception("outbox_pass_failed")
            return 0

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._webhooks.close()

    def _now(self) -> datetime:
        with self._uow() as uow:
            return uow.now()

    # ------------------------------------------------------------------ steps

    def route(self, now: datetime) -> int:
        """Give each new notification its deliveries; returns how many it routed."""
        with self._uow() as uow:
            query = (
                select(OutboxRow)
                .where(OutboxRow.state == PENDING, OutboxRow.routed_at.is_(None))
                .order_by(OutboxRow.id)
                .limit(self._batch)
            )
            rows = uow.session.scalars(_skip_locked(uow, query)).all()
            if not rows:
                return 0
            subscriptions = [
                Subscription(
                    webhook_id=hook.id,
                    scope=hook.scope,
                    seller_id=hook.seller_id,
                    events=frozenset(hook.events) if hook.events is not None else None,
                )
                for hook in uow.session.scalars(
                    select(WebhookRow).where(WebhookRow.deleted_at.is_(None))
                )
            ]
            for row in rows:
                found = routes(
                    row.kind,
                    row.recipient,
                    row.payload,
                    subscriptions,
                    offer_subject_prefix=self._offer_prefix,
                )
                for route in found:
                    uow.session.add(
                        DeliveryRow(
                            outbox_id=row.id,
                            channel=route.channel,
                            target=route.target,
                            webhook_id=route.target if route.channel == WEBHOOK else None,
                            state=PENDING,
                            attempts=0,
                            next_attempt_at=now,
                            created_at=now,
                        )
                    )
                row.routed_at = now
                if not found:
                    # Visible, never silently dropped: no address, webhook or stream takes it.
                    row.state = UNROUTED
                    row.last_error = f"no e-mail address, webhook or stream for {row.kind}"
            uow.commit()
            return len(rows)

    def claim(self, now: datetime) -> list[Claim]:
        """Lease the due deliveries to this sender, in one short transaction."""
        wall = self._wall_clock()
        with self._uow() as uow:
            query = (
                select(DeliveryRow)
                .where(
                    DeliveryRow.state == PENDING,
                    DeliveryRow.next_attempt_at <= now,
                    or_(DeliveryRow.claimed_until.is_(None), DeliveryRow.claimed_until < wall),
                )
                .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
                .limit(self._batch)
            )
            rows = uow.session.scalars(_skip_locked(uow, query)).all()
            if not rows:
                return []
            notices = {
                row.id: _notice(row)
                for row in uow.session.scalars(
                    select(OutboxRow).where(OutboxRow.id.in_({d.outbox_id for d in rows}))
                )
            }
            hook_ids = {d.webhook_id for d in rows if d.webhook_id is not None}
            hooks = {
                hook.id: hook
                for hook in uow.session.scalars(
                    select(WebhookRow).where(
                        WebhookRow.id.in_(hook_ids), WebhookRow.deleted_at.is_(None)
                    )
                )
            }
            token = secrets.token_hex(16)
            claims = []
            for row in rows:
                row.claimed_until = wall + self._lease
                row.claim_token = token
                hook = hooks.get(row.webhook_id) if row.webhook_id else None
                claims.append(
                    Claim(
                        delivery_id=row.id,
                        token=token,
                        channel=row.channel,
                        target=row.target,
                        notice=notices[row.outbox_id],
                        webhook_url=hook.url if hook else None,
                        webhook_secret=hook.secret if hook else None,
                    )
                )
            uow.commit()
            return claims

    def deliver(self, claim: Claim) -> Outcome:
        """Send one claimed delivery; never raises (a failure is an outcome)."""
        try:
            if claim.channel == EMAIL:
                return self._send_email(claim)
            if claim.channel == WEBHOOK:
                return self._post_webhook(claim)
            if claim.channel == NATS:
                return self._publish_offer(claim)
            return Outcome(claim, CANCELLED, error=f"unknown channel {claim.channel}")
        except Exception as error:
            log.warning(
                "delivery_failed",
                delivery_id=claim.delivery_id,
                channel=claim.channel,
                error=repr(error),
            )
            # A receiver's answer speaks for itself; anything else is named by its type.
            said = (
                str(error)
                if isinstance(error, DeliveryFailed)
                else f"{type(error).__name__}: {error}"
            )
            return Outcome(claim, PENDING, error=said[:ERROR_CHARS])

    def record(self, outcome: Outcome, now: datetime) -> bool:
        """Record one outcome, once: False when the lease was lost to another sender."""
        claim = outcome.claim
        with self._uow() as uow:
            lock = True if uow.is_postgres else None
            # The notification first, then its delivery: every recorder locks in this order.
            notice = uow.session.get(OutboxRow, claim.notice.id, with_for_update=lock)
            row = uow.session.get(DeliveryRow, claim.delivery_id, with_for_update=lock)
            assert notice is not None and row is not None  # never deleted
            if row.state != PENDING or row.claim_token != claim.token:
                return False
            row.claimed_until = None
            row.claim_token = None
            if outcome.state == DELIVERED:
                row.attempts += 1
                row.state = DELIVERED
                row.delivered_at = now
                row.transport = outcome.transport
            elif outcome.state == CANCELLED:
                row.state = CANCELLED
                row.last_error = outcome.error
            else:
                row.attempts += 1
                row.last_error = outcome.error
                policy = self._retry[row.channel]
                if policy.gives_up(row.attempts):
                    row.state = FAILED
                else:
                    row.next_attempt_at = now + policy.delay(row.attempts, self._rng.random())
            _settle(uow, notice)
            uow.commit()
            return True

    # ------------------------------------------------------------------ channels

    def _send_email(self, claim: Claim) -> Outcome:
        notice = claim.notice
        message = compose_email(
            sender=self._mail_from,
            to=claim.target,
            message_id=message_id(notice.dedupe_key),
            date=notice.created_at,
            rendered=self._renderer.render(notice),
        )
        self._mail.send(message)
        return Outcome(claim, DELIVERED, transport=self._mail.name)

    def _post_webhook(self, claim: Claim) -> Outcome:
        if claim.webhook_url is None or claim.webhook_secret is None:
            return Outcome(claim, CANCELLED, error="webhook deleted before delivery")
        notice = claim.notice
        identifier = event_id(notice.dedupe_key, claim.target)
        kind = event_type(notice.kind)
        body = encode_event(self._event(notice, identifier, kind, with_message=True))
        self._webhooks.post(claim.webhook_url, claim.webhook_secret, identifier, kind, body)
        return Outcome(claim, DELIVERED, transport="http")

    def _publish_offer(self, claim: Claim) -> Outcome:
        if self._offers is None:
            return Outcome(claim, PENDING, error="no NATS connection in this sender")
        notice = claim.notice
        identifier = event_id(notice.dedupe_key, claim.target)
        body = encode_event(self._event(notice, identifier, event_type(notice.kind)))
        transport = self._offers.publish(claim.target, body, identifier)
        return Outcome(claim, DELIVERED, transport=transport)

    def _event(
        self, notice: Notice, identifier: str, kind: str, *, with_message: bool = False
    ) -> dict[str, object]:
        event: dict[str, object] = {
            "id": identifier,
            "type": kind,
            "notification_id": notice.id,
            "created_at": notice.created_at.isoformat(),
            "recipient": notice.recipient,
            "data": notice.payload,
        }
        if with_message and notice.body:
            # The storefront owns the buyer's contact: it forwards this text (R9a, R10).
            rendered = self._renderer.render(notice)
            event["message"] = {
                "subject": rendered.subject,
                "text": rendered.text,
                "html": rendered.html,
            }
            if notice.kind == "delay_notice":
                event["cancel_url"] = self._renderer.link(str(notice.payload["cancel_path"]))
        return event


def _skip_locked(uow: UnitOfWork, query: Select[Any]) -> Select[Any]:
    """PostgreSQL: rows another sender holds are skipped, not waited for."""
    return query.with_for_update(skip_locked=True) if uow.is_postgres else query


def _notice(row: OutboxRow) -> Notice:
    return Notice(
        id=row.id,
        kind=row.kind,
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        payload=dict(row.payload),
        dedupe_key=row.dedupe_key,
        created_at=row.created_at,
    )


def _settle(uow: UnitOfWork, notice: OutboxRow) -> None:
    """The notification's state from its deliveries: pending until every one is done."""
    deliveries = uow.session.scalars(
        select(DeliveryRow).where(DeliveryRow.outbox_id == notice.id)
    ).all()
    notice.attempts = sum(d.attempts for d in deliveries)
    errors = [d for d in deliveries if d.last_error and d.state != DELIVERED]
    notice.last_error = errors[-1].last_error if errors else None
    times = [d.delivered_at for d in deliveries if d.delivered_at is not None]
    notice.sent_at = max(times) if times else None
    if any(d.state == PENDING for d in deliveries):
        notice.state = PENDING
    elif any(d.state == FAILED for d in deliveries):
        notice.state = FAILED
    elif times:
        notice.state = DELIVERED
    else:  # every receiver went away (deleted webhooks) before it could be sent
        notice.state = CANCELLED


def build_outbox_sender(
    runtime: Runtime, *, offers: OfferPublisher | None = None, **overrides: Any
) -> OutboxSender:
    """The sender as configured: SMTP (or the Maildir fallback), webhooks, and, given a
    publisher (e.g. ``NatsOfferPublisher``), R16's offer events on NATS."""
    settings = runtime.settings
    options: dict[str, Any] = {
        "mail": mail_transport(settings.smtp_url, settings.mail_dir),
        "mail_from": settings.mail_from,
        "renderer": MessageRenderer(settings.public_base_url),
        "webhooks": WebhookClient(
            timeout=settings.webhook_timeout_seconds,
            allow_private=settings.webhook_allow_private,
        ),
        "offers": offers,
        "offer_subject_prefix": settings.nats_subject_prefix,
        "email_retry": RetryPolicy(max_attempts=settings.email_max_attempts),
        "webhook_retry": RetryPolicy(max_attempts=settings.webhook_max_attempts),
        "poll_seconds": settings.outbox_poll_seconds,
        **overrides,
    }
    return OutboxSender(runtime.uow, **options)
