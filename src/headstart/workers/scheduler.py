"""Periodic jobs: what time alone makes necessary (R9a, R12, R9/R10), and whatever comes next.

A job is a name, an interval and a function of the runtime. Blocking functions run in a
thread (``asyncio.to_thread``); coroutine functions are awaited. An exclusive job (the
default) runs on one worker per interval however many workers tick (``store.job_claims``);
a shared job (``exclusive=False``, e.g. an outbox sender that claims rows itself) runs on
every worker. Add jobs by passing a longer list to ``run_scheduler``::

    jobs = [*default_jobs(settings), Job("refit_model", timedelta(hours=1), refit)]
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from headstart.bootstrap import Runtime
from headstart.config import Settings
from headstart.services.estimation import refit_model
from headstart.services.sweeps import run_sweeps
from headstart.store.job_claims import JobClaim

log = structlog.get_logger("headstart.scheduler")

JobFunction = Callable[[Runtime], Any] | Callable[[Runtime], Awaitable[Any]]


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    fn: JobFunction
    exclusive: bool = True


@dataclass(frozen=True)
class JobRun:
    """What one tick of a job did: ran (with its result), or skipped because another ran it."""

    name: str
    ran: bool
    result: Any = None


def sweep(runtime: Runtime) -> dict[str, Any]:
    """R9a consent expiry, R12 re-estimation of silent shipments, R9/R10 refresh."""
    return run_sweeps(runtime.uow(), runtime.estimators)


def refit(runtime: Runtime) -> dict[str, Any]:
    """Section 4: fit the in-stock model on every closed shipment, when any closed since."""
    fitted = refit_model(runtime.uow(), time.perf_counter, estimators=runtime.estimators)
    return {
        "version": fitted.version,
        "history_count": fitted.history_count,
        "fit_seconds": round(fitted.seconds, 3),
        "stored": fitted.stored,
    }


def default_jobs(settings: Settings) -> list[Job]:
    return [
        Job("sweeps", timedelta(seconds=settings.scheduler_interval_seconds), sweep),
        Job("refit_model", timedelta(hours=settings.model_refit_hours), refit),
    ]


async def run_job(runtime: Runtime, job: Job) -> JobRun:
    """One tick of one job; its exceptions propagate to the caller."""
    claim = JobClaim(runtime.engine, job.name, job.every) if job.exclusive else None
    if claim is not None and not await asyncio.to_thread(claim.acquire, datetime.now(UTC)):
        return JobRun(job.name, ran=False)
    try:
        if inspect.iscoroutinefunction(job.fn):
            result = await job.fn(runtime)
        else:
            result = await asyncio.to_thread(job.fn, runtime)
    finally:
        if claim is not None:
            await asyncio.to_thread(claim.release)
    return JobRun(job.name, ran=True, result=result)


async def run_scheduler(runtime: Runtime, jobs: Sequence[Job], stop: asyncio.Event) -> None:
    """Run every job at once, then every ``job.every``, until ``stop`` is set.

    A job in progress when ``stop`` is set is allowed to finish (its transaction commits
    or rolls back whole); no new run starts.
    """
    log.info("scheduler_started", jobs={job.name: job.every.total_seconds() for job in jobs})
    await asyncio.gather(*(_repeat(runtime, job, stop) for job in jobs))
    log.info("scheduler_stopped")


async def _repeat(runtime: Runtime, job: Job, stop: asyncio.Event) -> None:
    interval = job.every.total_seconds()
    while not stop.is_set():
        started = time.monotonic()
        try:
            outcome = await run_job(runtime, job)
        except Exception:
            # A failed run (the database down, a bug) is logged and retried next tick;
            # it must not stop the other jobs or the consumer.
            log.exception("job_failed", job=job.name)
        else:
            if outcome.ran:
                log.info(
                    "job_ran",
                    job=job.name,
                    seconds=round(time.monotonic() - started, 3),
                    result=outcome.result if isinstance(outcome.result, dict) else None,
                )
            else:
                log.debug("job_skipped", job=job.name, reason="another worker ran it")
        delay = max(0.0, interval - (time.monotonic() - started))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
