"""``headstart worker``: the tracking consumer, the scheduler and the outbox sender in one
asyncio process.

Without NATS (``HEADSTART_NATS_URL`` empty or ``none``, or unreachable at start) the
worker runs the scheduler only and tracking events come over HTTP. The same loop can run
inside the API server (``in_process_worker``, a FastAPI lifespan), so a laptop demo has
time that moves without a second process.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import nats
import structlog
from nats.aio.client import Client as NATS

from headstart.bootstrap import Runtime
from headstart.config import Settings
from headstart.observability.logs import configure_logging
from headstart.workers.offer_stream import NatsOfferPublisher
from headstart.workers.outbox_sender import build_outbox_sender
from headstart.workers.scheduler import Job, default_jobs, run_scheduler
from headstart.workers.tracking_consumer import TrackingConsumer
from headstart.workers.tracking_streams import Topology

log = structlog.get_logger("headstart.worker")

CONNECT_TIMEOUT_SECONDS = 2.0

Loop = Callable[[asyncio.Event], Awaitable[None]]


def nats_enabled(settings: Settings) -> bool:
    return settings.nats_url.strip().lower() not in {"", "none"}


async def connect_nats(settings: Settings) -> NATS | None:
    """A connection that reconnects for ever once made; None (with a warning) if none answers."""
    if not nats_enabled(settings):
        log.info("nats_disabled", note="tracking events arrive over HTTP only")
        return None

    async def on_error(error: Exception) -> None:
        log.warning("nats_error", error=repr(error))

    async def on_disconnected() -> None:
        log.info("nats_disconnected")  # also on a clean close; outages log errors too

    async def on_reconnected() -> None:
        log.info("nats_reconnected")

    # Probed first: with reconnects allowed, nats-py would retry an unreachable server
    # for ever instead of failing the first connect.
    if not await nats_reachable(settings):
        log.warning(
            "nats_unreachable",
            url=settings.nats_url,
            note="running the scheduler only; tracking events arrive over HTTP",
        )
        return None
    try:
        return await nats.connect(
            settings.nats_url,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            error_cb=on_error,
            disconnected_cb=on_disconnected,
            reconnected_cb=on_reconnected,
        )
    except Exception as error:
        log.warning(
            "nats_unreachable",
            url=settings.nats_url,
            error=repr(error),
            note="running the scheduler only; tracking events arrive over HTTP",
        )
        return None


async def nats_reachable(settings: Settings) -> bool:
    """Whether a NATS server answers now (for a printout; the worker connects on its own)."""
    if not nats_enabled(settings):
        return False

    async def quiet(_: Exception) -> None:
        pass  # the caller reports that no server answered

    try:
        connection = await nats.connect(
            settings.nats_url,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            allow_reconnect=False,
            # nats-py retries even a first connect inside its server selection: at most
            # once more, quickly (0 would mean for ever).
            max_reconnect_attempts=1,
            reconnect_time_wait=0.1,
            error_cb=quiet,
        )
    except Exception:
        return False
    await connection.close()
    return True


async def run_worker(
    runtime: Runtime,
    stop: asyncio.Event,
    *,
    jobs: Sequence[Job] | None = None,
    loops: Sequence[Loop] = (),
    consume: bool = True,
    send: bool = True,
) -> None:
    """Run the scheduler, the outbox sender (``send``), and the tracking consumer when NATS
    is there (R16's offer events then go to NATS too), until ``stop``.

    ``jobs`` replaces the default job list (``default_jobs``); ``loops`` are further
    long-running coroutines (e.g. an outbox sender's ``run(stop)``) run beside them.

    On stop, the batch in hand and any job in progress finish (their transactions commit
    or roll back whole), unsent acknowledgements are flushed and NATS is closed.
    """
    settings = runtime.settings
    connection = await connect_nats(settings) if consume else None
    consumer = await _start_consumer(runtime, connection) if connection is not None else None
    sender = None
    if send:
        offers = NatsOfferPublisher(connection, asyncio.get_running_loop()) if connection else None
        sender = build_outbox_sender(runtime, offers=offers)
    parts = [
        run_scheduler(runtime, default_jobs(settings) if jobs is None else jobs, stop),
        *(loop(stop) for loop in loops),
        *([consumer.run(stop)] if consumer is not None else []),
        *([sender.run(stop)] if sender is not None else []),
    ]
    tasks = [asyncio.ensure_future(part) for part in parts]
    try:
        await asyncio.gather(*tasks)
    finally:
        stop.set()  # if one part failed, the others stop too, finishing what they hold
        await asyncio.gather(*tasks, return_exceptions=True)
        if sender is not None:
            await asyncio.to_thread(sender.close)
        if connection is not None and not connection.is_closed:
            # Acknowledgements are fire-and-forget publishes: flush sends the last ones.
            # (Not drain(): it waits out a pull subscription's open fetch, up to 30 s.)
            with contextlib.suppress(Exception):
                await connection.flush(timeout=5)
            await connection.close()
        log.info("worker_stopped")


async def _start_consumer(runtime: Runtime, connection: NATS) -> TrackingConsumer | None:
    settings = runtime.settings
    consumer = TrackingConsumer(
        runtime,
        Topology.from_settings(settings),
        batch_size=settings.tracking_batch_size,
        ack_wait=settings.tracking_ack_wait_seconds,
    )
    try:
        await consumer.start(connection)
    except Exception as error:  # e.g. a NATS server without JetStream
        log.warning(
            "tracking_consumer_unavailable",
            error=repr(error),
            note="running the scheduler only; tracking events arrive over HTTP",
        )
        return None
    return consumer


async def serve_worker(runtime: Runtime) -> None:
    """The ``headstart worker`` process: stops cleanly on SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("worker_starting", database=runtime.engine.url.render_as_string(hide_password=True))
    await run_worker(runtime, stop)


@asynccontextmanager
async def in_process_worker(app: Any) -> AsyncIterator[None]:
    """A FastAPI lifespan: the worker runs beside the API (``run_worker_in_process``)."""
    runtime: Runtime = app.state.runtime
    if not structlog.is_configured():
        configure_logging(json=False)
    stop = asyncio.Event()
    task = asyncio.create_task(run_worker(runtime, stop))
    try:
        yield
    finally:
        stop.set()
        await task
