"""The worker's scheduler: time alone cancels unconfirmed delays (R9a) and re-estimates
silent shipments (R12); however many workers tick, one runs a job per interval.

The sandbox clock is moved here without the sweep that ``POST /v1/sandbox/clock`` runs,
so that only the scheduler can have done what the tests observe.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import mailbox
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from headstart.bootstrap import Runtime
from headstart.store.job_claims import JobClaim
from headstart.store.tables import SettingRow
from headstart.store.uow import SANDBOX_CLOCK_KEY
from headstart.workers.runner import run_worker
from headstart.workers.scheduler import Job, JobRun, default_jobs, run_job, run_scheduler
from tests.integration.checks import order_of, shipment_of
from tests.integration.conftest import Server
from tests.support import T0, Market, expect

START = datetime.fromisoformat(T0)


def at(days: float) -> str:
    return (START + timedelta(days=days)).isoformat()


def set_clock_without_sweeping(runtime: Runtime, now: datetime) -> None:
    with runtime.uow() as uow:
        value = {"now": now.isoformat(), "set_at": uow.real_now().isoformat(), "rate": 0.0}
        uow.session.merge(SettingRow(key=SANDBOX_CLOCK_KEY, value=value))
        uow.commit()


def run_scheduler_for(runtime: Runtime, jobs: Sequence[Job], seconds: float) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        scheduler = asyncio.create_task(run_scheduler(runtime, jobs, stop))
        await asyncio.sleep(seconds)
        stop.set()
        await scheduler

    asyncio.run(main())


def run_scheduler_until(
    runtime: Runtime, jobs: Sequence[Job], done: Callable[[], bool], timeout: float = 20.0
) -> None:
    """Run the scheduler until ``done()`` holds (a loaded machine ticks late, not never)."""

    async def main() -> None:
        stop = asyncio.Event()
        scheduler = asyncio.create_task(run_scheduler(runtime, jobs, stop))
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the scheduler did not get there in time"
            await asyncio.sleep(0.02)
        stop.set()
        await scheduler

    asyncio.run(main())


def head_start_order(market: Market, sku: str, shipment: str) -> dict[str, Any]:
    seller = market.add_seller()
    market.add_product(seller, sku)
    market.add_shipment(seller, shipment, {sku: 20}, shipped_at=T0)
    return expect(market.order(sku), 201)


def quick_sweeps(runtime: Runtime) -> list[Job]:
    """The worker's own jobs, due again 0.2 s after they ran (not 60 s)."""
    settings = runtime.settings.model_copy(update={"scheduler_interval_seconds": 0.2})
    return default_jobs(settings)


def test_r9a_scheduler_cancels_a_delayed_order_whose_buyer_did_not_confirm(
    server: Server, market: Market
) -> None:
    # given a policy under which silence covers no slip, and an order on a parcel
    # shipment delivered on day 2 and then not received (R12: a delay found by the scheduler)
    expect(
        market.client.patch(
            "/v1/policy",
            json={"consent_slip_days": 0, "max_slip_days": 60},
            headers=market.operator,
        ),
        200,
    )
    order = head_start_order(market, "R9A-SKU", "R9A-SHIP")
    market.advance(48)
    market.events(
        {"event_id": "r9a-d", "shipment_id": "R9A-SHIP", "type": "delivered", "occurred_at": at(2)}
    )
    set_clock_without_sweeping(server.runtime, START + timedelta(days=8))
    run_scheduler_for(server.runtime, quick_sweeps(server.runtime), 0.1)
    slipped = order_of(market, order["order_id"])
    assert slipped["status"] == "promised"
    assert slipped["consent_required_by"] is not None
    # when the consent window passes unanswered and the scheduler ticks again
    deadline = datetime.fromisoformat(slipped["consent_required_by"])
    set_clock_without_sweeping(server.runtime, deadline + timedelta(minutes=1))
    assert order_of(market, order["order_id"])["status"] == "promised"
    run_scheduler_for(server.runtime, quick_sweeps(server.runtime), 0.6)
    # then the order is cancelled and the buyer told
    after = order_of(market, order["order_id"])
    assert (after["status"], after["cancel_reason"]) == ("cancelled", "delay_not_confirmed")
    assert [n["payload"]["order_id"] for n in market.notifications("order_cancelled")] == [
        order["order_id"]
    ]


def test_r12_scheduler_reestimates_silent_shipments(server: Server, market: Market) -> None:
    # given a head-start order on a parcel shipment delivered on day 2
    order = head_start_order(market, "R12-SKU", "R12-SHIP")
    market.advance(48)
    market.events(
        {"event_id": "r12-d", "shipment_id": "R12-SHIP", "type": "delivered", "occurred_at": at(2)}
    )
    before = shipment_of(market, "R12-SHIP")
    # when six days pass with no receipt and the scheduler ticks
    set_clock_without_sweeping(server.runtime, START + timedelta(days=8))
    run_scheduler_for(server.runtime, default_jobs(server.runtime.settings), 0.5)
    # then the shipment was re-estimated from the silence, and the promise moved later
    after = shipment_of(market, "R12-SHIP")
    assert after["estimate"]["computed_at"] == at(8)
    assert after["estimate"]["p97"] > before["estimate"]["p97"]
    view = order_of(market, order["order_id"])
    assert [revision["reason"] for revision in view["revisions"]] == ["time_passed"]
    assert view["promise"]["promised_in_stock_date"] > order["promise"]["promised_in_stock_date"]


def test_an_exclusive_job_runs_once_per_interval_however_many_workers_tick(
    server: Server,
) -> None:
    runs: list[float] = []
    lock = threading.Lock()

    def slow(_: Runtime) -> None:
        with lock:
            runs.append(time.monotonic())
        time.sleep(0.3)

    job = Job("test-exclusive", timedelta(seconds=1), slow)

    async def three_workers_tick() -> list[JobRun]:
        return list(await asyncio.gather(*(run_job(server.runtime, job) for _ in range(3))))

    first = asyncio.run(three_workers_tick())
    again_at_once = asyncio.run(three_workers_tick())
    time.sleep(1.0)
    next_interval = asyncio.run(three_workers_tick())

    assert sorted(run.ran for run in first) == [False, False, True]
    assert not any(run.ran for run in again_at_once)
    assert sorted(run.ran for run in next_interval) == [False, False, True]
    assert len(runs) == 2


def test_an_exclusive_job_is_not_run_again_by_a_worker_that_read_the_clock_a_moment_earlier(
    server: Server,
) -> None:
    # Given three workers that read the clock at t, t + 1 ms, and an hour before t (a clock
    # set back), the second one taking the claim first
    t = datetime(2026, 3, 2, 15, tzinfo=UTC)
    claim = JobClaim(server.runtime.engine, "test-clock-order", timedelta(seconds=10))

    assert claim.acquire(t + timedelta(milliseconds=1))
    claim.release()
    # Then the first does not run it again, the set-back one does
    assert not claim.acquire(t)
    assert claim.acquire(t - timedelta(hours=1))
    claim.release()


def test_a_shared_job_runs_at_once_then_every_interval(server: Server) -> None:
    runs: list[float] = []
    job = Job("test-shared", timedelta(seconds=0.1), lambda _: runs.append(time.monotonic()), False)
    started = time.monotonic()

    run_scheduler_until(server.runtime, [job], lambda: len(runs) >= 3)

    assert runs[0] - started < 5  # at once, not after the first interval
    gaps = [later - earlier for earlier, later in itertools.pairwise(runs)]
    assert all(gap >= 0.09 for gap in gaps)  # never more often than the interval


def test_a_failing_job_is_retried_next_tick_and_does_not_stop_the_others(server: Server) -> None:
    calls = {"failing": 0, "healthy": 0}

    def failing(_: Runtime) -> None:
        calls["failing"] += 1
        raise RuntimeError("boom")

    def healthy(_: Runtime) -> None:
        calls["healthy"] += 1

    jobs = [
        Job("test-failing", timedelta(seconds=0.1), failing, exclusive=False),
        Job("test-healthy", timedelta(seconds=0.1), healthy, exclusive=False),
    ]
    run_scheduler_until(
        server.runtime, jobs, lambda: calls["failing"] >= 2 and calls["healthy"] >= 2
    )


def sweeps_last_started(runtime: Runtime) -> Any:
    with runtime.reader() as uow:
        row = uow.session.get(SettingRow, "job:sweeps")
        return None if row is None else row.value["last_started_at"]


@pytest.mark.parametrize("nats_url", ["none", "nats://127.0.0.1:1"], ids=["off", "unreachable"])
def test_without_nats_the_worker_runs_the_scheduler_only(server: Server, nats_url: str) -> None:
    settings = server.runtime.settings.model_copy(update={"nats_url": nats_url})
    runtime = dataclasses.replace(server.runtime, settings=settings)

    async def run_briefly() -> None:
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop))
        await asyncio.sleep(0.5)
        stop.set()
        await worker

    asyncio.run(run_briefly())

    assert sweeps_last_started(server.runtime) is not None


def test_the_api_server_runs_the_worker_in_process_when_asked(
    server: Server, make_client: Any
) -> None:
    make_client(run_worker_in_process=True, nats_url="none")  # the lifespan starts it

    deadline = time.monotonic() + 10
    while sweeps_last_started(server.runtime) is None:
        assert time.monotonic() < deadline, "the in-process scheduler never swept"
        time.sleep(0.05)


def test_r1_the_worker_sends_the_opt_out_email(
    market: Market, server: Server, tmp_path: Any
) -> None:
    seller = market.add_seller("Acme")
    expect(
        market.client.post(
            f"/v1/sellers/{seller}/enrollment/opt-out", headers=market.sellers[seller]
        ),
        200,
    )
    settings = server.runtime.settings.model_copy(
        update={"nats_url": "none", "mail_dir": str(tmp_path / "mail")}
    )
    runtime = dataclasses.replace(server.runtime, settings=settings)

    async def run_briefly() -> None:
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop, jobs=[]))
        deadline = time.monotonic() + 10
        while market.notifications("opt_out_confirmation")[0]["state"] != "delivered":
            assert time.monotonic() < deadline, "the worker never sent the opt-out e-mail"
            await asyncio.sleep(0.05)
        stop.set()
        await worker

    asyncio.run(run_briefly())

    mailbox = mailbox_messages(tmp_path / "mail")
    assert [message["Subject"] for message in mailbox] == ["Head Start opt-out confirmed"]


def mailbox_messages(path: Any) -> list[Any]:
    return list(mailbox.Maildir(str(path), create=False))


def test_section4_the_refit_job_stores_a_model_once_per_change_of_history(
    market: Market, server: Server
) -> None:
    refit = next(job for job in default_jobs(server.runtime.settings) if job.name == "refit_model")
    first = asyncio.run(run_job(server.runtime, refit))
    again = asyncio.run(run_job(server.runtime, dataclasses.replace(refit, exclusive=False)))

    assert first.ran and first.result["stored"] is True
    assert again.result["stored"] is False  # nothing closed since: nothing fitted
    info = expect(market.client.get("/v1/estimator", headers=market.operator), 200)
    assert (info["stored"], info["version"]) == (True, first.result["version"])
