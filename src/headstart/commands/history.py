"""``headstart history``: generate a synthetic history, check a history file, run the oracle."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from headstart.domain.estimate import MODES, ClosedShipment
from headstart.evaluation.report import CELL_COVERAGE
from headstart.history import read_history_file, write_history
from headstart.sim.history import DEFAULTS, REGIMES, HistorySummary, synthesize_history
from headstart.sim.history.oracle import OracleCell, OracleRun, cells_of, replay_oracle

app = typer.Typer(
    help="Shipment histories in JSON Lines (DESIGN.md section 4).", no_args_is_help=True
)
_PROGRESS_STEP = 500


def _start_instant(text: str) -> datetime:
    """``2025-01-01`` is midnight UTC; a full ISO 8601 instant keeps its offset."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 date or instant: {text!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="JSONL file to write", dir_okay=False)],
    shipments: Annotated[int, typer.Option(min=0, help="closed shipments to draw")] = 30_000,
    seed: Annotated[int, typer.Option(help="random seed; the same seed, the same file")] = 7,
    start: Annotated[
        str, typer.Option(help="first shipping day (UTC), or an ISO 8601 instant")
    ] = "2025-01-01",
    days: Annotated[int, typer.Option(min=1, help="days over which shipments leave")] = int(
        DEFAULTS.value("history.days")
    ),
) -> None:
    """Draw a synthetic history from the published figures (PARAMETERS.md) and write it."""
    if not out.parent.is_dir():
        raise typer.BadParameter(f"no such directory: {out.parent}", param_hint="--out")
    console = Console(highlight=False)
    began = time.perf_counter()
    parameters = DEFAULTS.with_values({"history.days": days})
    with console.status("Drawing shipments..."):
        history = synthesize_history(shipments, seed, _start_instant(start), parameters)
    durations: dict[str, list[float]] = {mode: [] for mode in MODES}
    columns = (
        TextColumn("Writing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with out.open("w", encoding="utf-8") as file, Progress(*columns, console=console) as bar:
        task = bar.add_task("write", total=len(history))

        def tallied() -> Iterator[ClosedShipment]:
            for count, shipment in enumerate(history.shipments(), start=1):
                days_to_stock = (shipment.in_stock_at - shipment.shipped_at).total_seconds()
                durations[shipment.mode].append(days_to_stock / 86_400)
                if count % _PROGRESS_STEP == 0:
                    bar.update(task, completed=count)
                yield shipment

        written = write_history(tallied(), file)
        bar.update(task, completed=written)
    console.print(_summary_table(history.summary, durations))
    console.print(_world_table(history.summary))
    console.print(f"Wrote {written} shipments to {out} in {time.perf_counter() - began:.1f} s.")


def _summary_table(summary: HistorySummary, durations: dict[str, list[float]]) -> Table:
    table = Table(title="Shipments by mode (days from shipped to in stock)")
    for name in ("mode", "shipments", "share", "shipped in peak", "p50", "p90", "p97"):
        table.add_column(name, justify="left" if name == "mode" else "right")
    total = max(summary.shipments, 1)
    for mode in MODES:
        days = durations[mode]
        quantiles = [f"{_quantile(days, q):.1f}" if days else "-" for q in (0.5, 0.9, 0.97)]
        count = summary.by_mode.get(mode, 0)
        peak = summary.shipped_in_peak_by_mode.get(mode, 0) / max(count, 1)
        table.add_row(mode, str(count), f"{count / total:.0%}", f"{peak:.0%}", *quantiles)
    table.add_row(
        "all",
        str(summary.shipments),
        "100%",
        f"{summary.shipped_in_peak / total:.0%}",
        style="bold",
    )
    return table


def _world_table(summary: HistorySummary) -> Table:
    table = Table(title="What the generator drew")
    table.add_column("what")
    table.add_column("count", justify="right")
    for regime in REGIMES:
        table.add_row(f"weeks of ocean regime {regime}", str(summary.regime_weeks.get(regime, 0)))
    table.add_row("shipments delivered in peak", str(summary.delivered_in_peak))
    table.add_row("customs exams (ocean)", str(summary.customs_exams))
    table.add_row("shipments received short", str(summary.short_shipments))
    table.add_row("units short", str(summary.units_short))
    return table


@app.command()
def check(
    file: Annotated[
        Path, typer.Argument(help="JSONL history", exists=True, dir_okay=False, readable=True)
    ],
) -> None:
    """Validate a history: report every bad line by number; exit 1 if there was one."""
    console = Console(highlight=False)
    result = read_history_file(file)
    for error in result.errors:
        console.print(f"line {error.line_number}: {error.message}", markup=False)
    table = Table(title=f"{file}")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("lines", str(result.lines))
    table.add_row("shipments read", str(len(result.shipments)))
    table.add_row("bad lines", str(len(result.errors)), style="red" if result.errors else None)
    for mode in MODES:
        table.add_row(f"  {mode}", str(sum(1 for s in result.shipments if s.mode == mode)))
    if result.shipments:
        shipped = [s.shipped_at for s in result.shipments]
        table.add_row("first shipped_at", min(shipped).isoformat())
        table.add_row("last shipped_at", max(shipped).isoformat())
    console.print(table)
    if result.errors:
        raise typer.Exit(code=1)


@app.command()
def oracle(
    shipments: Annotated[int, typer.Option(min=1, help="closed shipments to draw")] = 30_000,
    seed: Annotated[int, typer.Option(help="random seed, as for generate")] = 7,
    start: Annotated[
        str, typer.Option(help="first shipping day (UTC), or an ISO 8601 instant")
    ] = "2025-01-01",
    days: Annotated[int, typer.Option(min=1, help="days over which shipments leave")] = int(
        DEFAULTS.value("history.days")
    ),
    resamples: Annotated[
        int, typer.Option(min=20, help="futures per snapshot (effective sample size)")
    ] = 400,
    quantile: Annotated[float, typer.Option(min=0.5, max=0.999, help="promise quantile")] = 0.97,
    train_fraction: Annotated[
        float, typer.Option(min=0.05, max=0.95, help="earliest share left out, as eta evaluate")
    ] = 0.6,
    stride: Annotated[
        int, typer.Option(min=1, help="score every n-th test snapshot only (quicker)")
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """The padding of an oracle that knows the generator's law: a floor for calibrated models.

    Draws the history as ``generate`` does, then at every snapshot ``eta evaluate``
    replays (the latest 1 - train-fraction by shipping time) promises the
    q-quantile of the shipment's in-stock time under the generator's own law given
    what has happened by then, and scores it as the evaluation does.
    """
    console = Console(highlight=False, stderr=as_json)
    began = time.perf_counter()
    parameters = DEFAULTS.with_values({"history.days": days})
    with console.status("Drawing shipments..."):
        history = synthesize_history(shipments, seed, _start_instant(start), parameters)
    columns = (TextColumn("Oracle"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("oracle", total=None)
        run = replay_oracle(
            history,
            parameters,
            train_fraction=train_fraction,
            quantile=quantile,
            resamples=resamples,
            stride=stride,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    seconds = time.perf_counter() - began
    cells = cells_of(run.promises, quantile)
    if as_json:
        document = _oracle_json(run, cells, shipments, seed, start, quantile, resamples, seconds)
        print(json.dumps(document, indent=2))
        return
    console.print(_oracle_table(cells, quantile))
    every = f" (1 in {stride} of {run.snapshots})" if stride > 1 else ""
    console.print(
        f"Scored {len(run.promises)} snapshots{every} of {run.test_shipments} test shipments, "
        f"{resamples} futures each (effective size short at {run.starved}, none possible at "
        f"{run.failed}), in {seconds:.0f} s."
    )


def _oracle_table(cells: list[OracleCell], quantile: float) -> Table:
    table = Table(
        title=f"Oracle at q = {quantile}: mean padding (promised - actual in-stock, days)",
        caption=f"at {CELL_COVERAGE}: the mean padding promising the {CELL_COVERAGE} quantile "
        "instead (the cell coverage floor)",
    )
    names = ("cell", "snapshots", "coverage", "padding", "target", "met", f"at {CELL_COVERAGE}")
    for name in names:
        table.add_column(name, justify="left" if name == "cell" else "right")
    for cell in cells:
        s, limit = cell.scores, cell.target_padding_days
        table.add_row(
            cell.name,
            str(s.count),
            f"{s.coverage:.3f}",
            f"{s.mean_padding_days:.2f}",
            "-" if limit is None else f"{limit:g}",
            "-" if limit is None else "yes" if s.mean_padding_days <= limit else "no",
            f"{cell.floor.mean_padding_days:.2f}",
            style="bold" if limit is None else None,
        )
    return table


def _oracle_json(
    run: OracleRun,
    cells: list[OracleCell],
    shipments: int,
    seed: int,
    start: str,
    quantile: float,
    resamples: int,
    seconds: float,
) -> dict[str, object]:
    return {
        "shipments": shipments,
        "seed": seed,
        "start": start,
        "quantile": quantile,
        "resamples": resamples,
        "stride": run.stride,
        "test_shipments": run.test_shipments,
        "snapshots": run.snapshots,
        "scored": len(run.promises),
        "effective_size_short": run.starved,
        "impossible": run.failed,
        "seconds": round(seconds, 1),
        "cells": [
            {
                "name": c.name,
                "snapshots": c.scores.count,
                "coverage": _number(c.scores.coverage),
                "mean_padding_days": _number(c.scores.mean_padding_days),
                "p90_padding_days": _number(c.scores.p90_padding_days),
                "target_padding_days": c.target_padding_days,
                "promising_the_cell_floor": {
                    "quantile": CELL_COVERAGE,
                    "coverage": _number(c.floor.coverage),
                    "mean_padding_days": _number(c.floor.mean_padding_days),
                },
            }
            for c in cells
        ],
    }


def _number(value: float) -> float | None:
    """JSON has no NaN: an empty cell's scores are null."""
    return None if math.isnan(value) else value
