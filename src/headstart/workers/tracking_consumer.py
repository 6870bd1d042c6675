"""Tracking events from NATS JetStream into the same service as ``POST /v1/tracking-events``.

Subjects ``<prefix>.tracking.<fc>`` are kept in one stream; every worker pulls from one
durable consumer, so several workers share the load as a consumer group. A fetched batch
is applied in one transaction and acknowledged only after it commits; a redelivered or
duplicate event (same ``event_id``) changes nothing, because the service is idempotent.

A message that can never be applied (not JSON, not a valid event, an unknown shipment,
anything else the service refuses) is published to ``<prefix>.deadletter.tracking`` with
its reason, then terminated, so it never blocks the stream. When a batch is refused
because of one such message, the batch is applied again message by message and only that
one is dead-lettered. A transient failure (the database down or locked) is retried later
(``nak`` with a delay), never dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import exc as db_errors

from headstart.bootstrap import Runtime
from headstart.domain.errors import HeadStartError
from headstart.observability.metrics import tracking_lag_observer
from headstart.services.tracking import TrackingEvent, ingest_events
from headstart.workers.tracking_messages import Refusal, dead_letter, decode
from headstart.workers.tracking_streams import Topology, ensure_streams

log = structlog.get_logger("headstart.tracking_consumer")
observe_lag = tracking_lag_observer("nats")  # issue 8: how late events reach the worker

RETRY_DELAY_SECONDS = 5.0  # a transient failure: the database restarting, a lock queue
# A message that keeps failing for an unexpected reason (a bug) is dead-lettered after
# this many deliveries rather than retried for ever.
MAX_FAILED_DELIVERIES = 10
FETCH_TIMEOUT_SECONDS = 1.0  # also how long a stop request waits for an idle worker


@dataclass
class BatchReport:
    """What one fetch did, message by message."""

    fetched: int = 0
    applied: int = 0
    dead_lettered: int = 0
    retried: int = 0


def is_transient(error: Exception) -> bool:
    """Failures that go away by waiting: the database unreachable, locked, or raced."""
    if isinstance(error, db_errors.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        db_errors.OperationalError
        | db_errors.InterfaceError
        | db_errors.TimeoutError
        # Two workers inserting the same event_id at once: the retry finds it recorded.
        | db_errors.IntegrityError,
    )


class TrackingConsumer:
    """One worker's share of the durable consumer; ``run`` until stopped."""

    def __init__(
        self,
        runtime: Runtime,
        topology: Topology,
        *,
        batch_size: int,
        ack_wait: float,
        retry_delay: float = RETRY_DELAY_SECONDS,
    ) -> None:
        self.runtime = runtime
        self.topology = topology
        self.batch_size = batch_size
        self.ack_wait = ack_wait
        self.retry_delay = retry_delay
        self._js: JetStreamContext | None = None
        self._subscription: JetStreamContext.PullSubscription | None = None

    async def start(self, nc: NATS) -> None:
        js = nc.jetstream()
        await ensure_streams(js, self.topology)
        # Creates the durable, or updates its settings if it exists: idempotent.
        await js.add_consumer(
            self.topology.stream,
            ConsumerConfig(
                durable_name=self.topology.durable,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                filter_subject=self.topology.tracking_subjects,
                ack_wait=self.ack_wait,
                # Bounds what a stalled worker can hold back from the others.
                max_ack_pending=self.batch_size * 10,
            ),
        )
        self._js = js
        self._subscription = await js.pull_subscribe_bind(
            durable=self.topology.durable, stream=self.topology.stream
        )
        log.info(
            "tracking_consumer_started",
            stream=self.topology.stream,
            subjects=self.topology.tracking_subjects,
            durable=self.topology.durable,
            dead_letters=self.topology.dead_letter_subject,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and apply batches until ``stop``; the batch in hand is finished first."""
        while not stop.is_set():
            try:
                await self.poll_once()
            except Exception:
                # NATS reconnecting, a JetStream API hiccup: keep going, never crash the worker.
                log.exception("tracking_fetch_failed")
                await _sleep_unless(stop, RETRY_DELAY_SECONDS)

    async def poll_once(self, timeout: float = FETCH_TIMEOUT_SECONDS) -> BatchReport:
        """Fetch up to one batch (waiting at most ``timeout``) and settle every message."""
        assert self._subscription is not None, "start() first"
        try:
            messages = await self._subscription.fetch(self.batch_size, timeout=timeout)
        except (NatsTimeout, TimeoutError):
            # nats-py also ends an idle fetch with a bare asyncio TimeoutError (when the
            # deadline passes between its two pull requests): nothing to fetch, not a failure.
            return BatchReport()
        if not messages:  # an expired pull request can also end with nothing
            return BatchReport()
        started = time.monotonic()
        report = BatchReport(fetched=len(messages))
        decodable: list[tuple[Msg, list[TrackingEvent]]] = []
        for message in messages:
            decoded = decode(message.data)
            if isinstance(decoded, Refusal):
                await self._dead_letter(message, decoded, report)
            else:
                decodable.append((message, decoded))
        if decodable:
            await self._apply(decodable, report)
        log.info(
            "tracking_batch",
            fetched=report.fetched,
            applied=report.applied,
            dead_lettered=report.dead_lettered,
            retried=report.retried,
            seconds=round(time.monotonic() - started, 3),
        )
        return report

    async def _apply(
        self, batch: list[tuple[Msg, list[TrackingEvent]]], report: BatchReport
    ) -> None:
        events = [event for _, message_events in batch for event in message_events]
        try:
            await asyncio.to_thread(self._ingest, events)
        except Exception as error:
            if is_transient(error):
                log.warning("tracking_batch_retried", error=type(error).__name__)
                for message, _ in batch:
                    await self._retry(message, report)
                return
            if len(batch) > 1:
                # One message spoiled the batch: find it by applying them one at a time.
                for item in batch:
                    await self._apply_one(*item, report=report)
                return
            await self._settle_failure(batch[0][0], error, report)
            return
        for message, _ in batch:
            await message.ack()
        report.applied += len(batch)

    async def _apply_one(
        self, message: Msg, events: list[TrackingEvent], report: BatchReport
    ) -> None:
        try:
            await asyncio.to_thread(self._ingest, events)
        except Exception as error:
            await self._settle_failure(message, error, report)
            return
        await message.ack()
        report.applied += 1

    async def _settle_failure(self, message: Msg, error: Exception, report: BatchReport) -> None:
        if isinstance(error, HeadStartError):  # the service refuses it: it never will apply
            await self._dead_letter(
                message, Refusal(error.code, error.message, error.details), report
            )
        elif is_transient(error):
            log.warning("tracking_message_retried", error=type(error).__name__)
            await self._retry(message, report)
        elif message.metadata.num_delivered >= MAX_FAILED_DELIVERIES:
            log.error("tracking_message_failed", error=repr(error), exc_info=error)
            refusal = Refusal("internal_error", f"failed {MAX_FAILED_DELIVERIES} times: {error!r}")
            await self._dead_letter(message, refusal, report)
        else:
            log.error("tracking_message_failed", error=repr(error), exc_info=error)
            await self._retry(message, report)

    def _ingest(self, events: list[TrackingEvent]) -> None:
        ingest_events(self.runtime.uow(), self.runtime.estimators, events, on_applied=observe_lag)

    async def _retry(self, message: Msg, report: BatchReport) -> None:
        await message.nak(delay=self.retry_delay)
        report.retried += 1

    async def _dead_letter(self, message: Msg, refusal: Refusal, report: BatchReport) -> None:
        assert self._js is not None
        metadata = message.metadata
        body, headers = dead_letter(
            message.data,
            refusal,
            subject=message.subject,
            stream=metadata.stream,
            stream_sequence=metadata.sequence.stream,
            deliveries=metadata.num_delivered,
            at=datetime.now(UTC),
        )
        # Published (and stored by JetStream) before the original is let go: a dead
        # letter is never lost, at worst recorded twice and de-duplicated by Nats-Msg-Id.
        await self._js.publish(self.topology.dead_letter_subject, body, headers=headers)
        await message.term()
        report.dead_lettered += 1
        log.warning(
            "tracking_message_dead_lettered",
            reason=refusal.code,
            subject=message.subject,
            stream_sequence=metadata.sequence.stream,
        )


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
