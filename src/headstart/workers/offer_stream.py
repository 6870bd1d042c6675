"""R16's stream: offer changes published to NATS, ``<prefix>.offers.<sku>``.

JetStream when a stream covers the subject (the ``Nats-Msg-Id`` header lets the
stream drop a resend within its duplicate window), core NATS publish-and-flush
otherwise. The asyncio client
lives on one event loop; the sender's threads hand it coroutines and wait.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats
from nats.aio.client import Client as NATS
from nats.errors import NoRespondersError
from nats.js.errors import NotFoundError, ServiceUnavailableError

PUBLISH_TIMEOUT_SECONDS = 5.0
T = TypeVar("T")


class NatsOfferPublisher:
    """Publish from any thread but the loop's own.

    Share the worker's connection: ``NatsOfferPublisher(connection, asyncio.get_running_loop())``
    (the sender then runs in ``asyncio.to_thread``), or own one: ``NatsOfferPublisher.start(url)``.
    """

    def __init__(
        self,
        connection: NATS,
        loop: asyncio.AbstractEventLoop,
        *,
        timeout: float = PUBLISH_TIMEOUT_SECONDS,
        owned_thread: threading.Thread | None = None,
    ) -> None:
        self._connection = connection
        self._loop = loop
        self._timeout = timeout
        self._owned_thread = owned_thread

    @classmethod
    def start(cls, url: str, *, timeout: float = PUBLISH_TIMEOUT_SECONDS) -> NatsOfferPublisher:
        """Connect on a private event loop in a daemon thread (for a sync process)."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="nats-offers", daemon=True)
        thread.start()
        connect = nats.connect(url, connect_timeout=timeout, max_reconnect_attempts=-1)
        try:
            connection = asyncio.run_coroutine_threadsafe(connect, loop).result(timeout * 2)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            loop.close()
            raise
        return cls(connection, loop, timeout=timeout, owned_thread=thread)

    def publish(self, subject: str, body: bytes, msg_id: str) -> str:
        """Publish once; return the transport used ("jetstream" or "nats")."""
        return self._call(self._publish(subject, body, msg_id), self._timeout * 3)

    async def _publish(self, subject: str, body: bytes, msg_id: str) -> str:
        headers = {"Nats-Msg-Id": msg_id}
        if await self._stream_covers(subject):
            await self._connection.jetstream().publish(
                subject, body, timeout=self._timeout, headers=headers
            )
            return "jetstream"
        await self._connection.publish(subject, body, headers=headers)
        await self._connection.flush(timeout=max(1, round(self._timeout)))
        return "nats"

    async def _stream_covers(self, subject: str) -> bool:
        """Ask, rather than try a JetStream publish: a plain subscriber would swallow that
        request, and the publish would time out although the message went out."""
        manager = self._connection.jsm(timeout=self._timeout)
        try:
            await manager.find_stream_name_by_subject(subject)
        except (NotFoundError, NoRespondersError, ServiceUnavailableError):
            return False  # no stream covers it, or the server has no JetStream
        return True

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def close(self) -> None:
        """Close what ``start`` opened; a shared connection is its owner's to close."""
        if self._owned_thread is None:
            return
        if not self._connection.is_closed:
            self._call(self._connection.close(), self._timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._owned_thread.join(self._timeout)
        self._loop.close()
