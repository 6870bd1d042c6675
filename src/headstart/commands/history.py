"""``headstart history``: generate a synthetic shipment history, check a history file."""

from __future__ import annotations

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
from headstart.history import read_history_file, write_history
from headstart.sim.history import DEFAULTS, REGIMES, HistorySummary, synthesize_history

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
