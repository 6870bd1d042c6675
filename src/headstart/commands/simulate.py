"""``headstart simulate``: a marketplace played through the real services, with head start
and without it from the same seed, and the report of what head start earned and cost."""

from __future__ import annotations

import json
import multiprocessing
import time as wallclock
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from headstart.bootstrap import Runtime, build_runtime
from headstart.config import Settings
from headstart.history import read_history_file
from headstart.sim.market.config import MarketConfig
from headstart.sim.market.run import Market, MarketOutcome
from headstart.sim.report.build import build_report
from headstart.sim.report.html import render_html
from headstart.store.database import skip_sqlite_fsync_per_commit

console = Console()
OPERATOR_KEY = "hs_op_simulator"


def _runtime(url: str) -> Runtime:
    runtime = build_runtime(Settings(database_url=url, sandbox=True, operator_key=OPERATOR_KEY))
    skip_sqlite_fsync_per_commit(runtime.engine)  # a run's database is a scratch file
    return runtime


def _fresh_sqlite(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def play(
    config: MarketConfig,
    url: str,
    progress: Progress,
    label: str,
    beside: Callable[[], None] = lambda: None,
) -> tuple[Runtime, MarketOutcome]:
    """One run in this process; ``beside`` is called each simulated day (the other run's
    progress, when it plays apart)."""
    runtime = _runtime(url)
    task = progress.add_task(label, total=config.days)

    def step(done: int, _total: int) -> None:
        progress.update(task, completed=done)
        beside()

    return runtime, Market(runtime, config).play(step)


# The paired run's days done, when it plays in a process of its own (--jobs 2).
_days_done: Synchronized[int] | None = None


def _count_days_in(counter: Synchronized[int]) -> None:
    global _days_done
    _days_done = counter


def _play_apart(config: MarketConfig, url: str) -> MarketOutcome:
    """A run in a worker process; its database is left in ``url`` for the report."""

    def step(done: int, _total: int) -> None:
        if _days_done is not None:
            _days_done.value = done

    return Market(_runtime(url), config).play(step)


def play_pair(
    config: MarketConfig, hs_url: str, base_url: str, jobs: int
) -> tuple[tuple[Runtime, MarketOutcome], tuple[Runtime, MarketOutcome]]:
    """The run with head start and the paired run without it: one after the other, or
    with ``jobs`` 2 side by side, the paired one in a process of its own (the same
    numbers, in about half the time on two cores)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        if jobs < 2:
            with_hs = play(config, hs_url, progress, "with head start   ")
            return with_hs, play(config.paired(), base_url, progress, "without head start")
        context = multiprocessing.get_context("spawn")
        counter = context.Value("i", 0)
        with ProcessPoolExecutor(
            1, mp_context=context, initializer=_count_days_in, initargs=(counter,)
        ) as pool:
            apart = pool.submit(_play_apart, config.paired(), base_url)
            task = progress.add_task("without head start", total=config.days)

            def beside() -> None:
                progress.update(task, completed=counter.value)

            with_hs = play(config, hs_url, progress, "with head start   ", beside)
            while not apart.done():
                beside()
                wallclock.sleep(0.5)
            without = apart.result()
            beside()
    return with_hs, (_runtime(base_url), without)


def from_history(path: Path, config: MarketConfig) -> MarketConfig:
    """The what-if of one seller: their closed shipments fit the model and set lead times,
    their usual mode, origin and FC are every simulated seller's, and their demand is
    estimated from the units they shipped per day."""
    read = read_history_file(path)
    for error in read.errors:
        console.print(f"[yellow]{path}:{error.line_number}: {error.message}[/]")
    history = read.shipments
    if not history:
        raise typer.BadParameter(f"{path} holds no closed shipment")
    usual = Counter((s.mode, s.origin, s.destination_fc) for s in history).most_common(1)[0][0]
    first = min(s.shipped_at for s in history)
    last = max(s.in_stock_at for s in history)
    span = max((last - first) / timedelta(days=1), 1.0)
    units_per_day = sum(s.quantity_received for s in history) / span
    return MarketConfig(
        **{
            **config.__dict__,
            "history": tuple(history),
            "seller_profile": usual,
            "sellers": 1,
            "demand_per_sku": units_per_day / 1.2 / config.skus,
            "start": max(config.start, last.astimezone(UTC)),
        }
    )


def headline_table(report: dict[str, object]) -> Table:
    table = Table(title="Head start vs the same marketplace without it")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in report["headline"].items():  # type: ignore[attr-defined]
        table.add_row(key, str(value))
    return table


def simulate(
    days: Annotated[int, typer.Option(help="simulated days")] = 365,
    sellers: Annotated[int, typer.Option(help="sellers")] = 200,
    skus: Annotated[int, typer.Option(help="SKUs, dealt to the sellers")] = 5000,
    seed: Annotated[int, typer.Option(help="same seed, same report")] = 7,
    start: Annotated[str, typer.Option(help="first simulated day (UTC)")] = "2025-01-01",
    demand: Annotated[float, typer.Option(help="mean buyers per SKU and day")] = 0.3,
    steps_per_day: Annotated[int, typer.Option(help="clock steps a day (24: hourly)")] = 24,
    database_url: Annotated[
        str | None,
        typer.Option(help="database of the head-start run (default: a new SQLite in --out)"),
    ] = None,
    out: Annotated[Path, typer.Option(help="directory for report.json and report.html")] = Path(
        "simulation"
    ),
    history_file: Annotated[
        Path | None,
        typer.Option("--from-history", help="a seller's closed shipments (JSONL): what-if"),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(min=1, max=2, help="2: play the paired run beside, in a process of its own"),
    ] = 1,
) -> None:
    """Play the marketplace with head start and, from the same seed, without it."""
    out.mkdir(parents=True, exist_ok=True)
    first = datetime.fromisoformat(start)
    config = MarketConfig(
        days=days,
        sellers=sellers,
        skus=skus,
        seed=seed,
        start=first if first.tzinfo else first.replace(tzinfo=UTC),
        demand_per_sku=demand,
        steps_per_day=steps_per_day,
    )
    if history_file is not None:
        config = from_history(history_file, config)
    hs_url = database_url or _fresh_sqlite(out / "head-start.db")
    base_url = _fresh_sqlite(out / "without-head-start.db")
    with_hs, without = play_pair(config, hs_url, base_url, jobs)
    report = build_report(with_hs, without)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.html").write_text(render_html(report))
    console.print(headline_table(report))
    console.print(
        f"with head start {with_hs[1].seconds:.1f} s, without {without[1].seconds:.1f} s; "
        f"report: {out / 'report.html'} and {out / 'report.json'}"
    )
