"""``headstart eta``: fit the in-stock model on a history, and evaluate it honestly (issue 3).

``fit`` writes the fitted estimator (model and calibration state) as JSON.
``evaluate`` trains on the earliest part of a history by ``shipped_at``, replays
the rest event by event as if live (refitting weekly from what has closed, as
the service does), and prints coverage, padding, pinball loss
and the rolling 4-week coverage per mode (ocean split at berthing) and per
mode x season cell, beside three baselines, then a weekly series (per ISO week
the promise was made and per bucket: raw and corrected coverage, mean padding,
count; ``evaluation.weekly``); with ``--json`` the same as JSON.
It writes ``evaluation.json`` and two PNG charts into ``--out`` (by default
the folder the history file is in); ``--record FILE`` also keeps the model's pass.
``recalibrate FILE --set NAME=VALUE`` replays that pass through the online
correction with its settings changed and prints the targets: seconds a try,
where ``evaluate`` takes minutes.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from headstart.domain.estimate.calibrated import fit_estimator
from headstart.domain.estimate.calibration import ConformalCalibration
from headstart.domain.estimate.errors import InvalidEstimateInput
from headstart.domain.estimate.milestone import MilestoneSettings
from headstart.evaluation.baselines import BASELINES
from headstart.evaluation.recording_file import RecordingFileError, load_recording, save_recording
from headstart.evaluation.replay import calibrate, record
from headstart.evaluation.report import Row, Target, rows_of, targets_of, to_json
from headstart.evaluation.weekly import WeekCell, weekly_of
from headstart.history.jsonl import HistoryReadResult, read_history_file

app = typer.Typer(help="In-stock estimates: fit the model, evaluate it against baselines.")
console = Console()
_SHOWN_ERRORS = 10

HistoryOption = Annotated[
    Path, typer.Option("--history", exists=True, dir_okay=False, help="closed shipments, JSONL")
]


def _read(path: Path) -> HistoryReadResult:
    result = read_history_file(path)
    for error in result.errors[:_SHOWN_ERRORS]:
        console.print(f"[yellow]line {error.line_number}: {error.message}[/]", soft_wrap=True)
    if len(result.errors) > _SHOWN_ERRORS:
        console.print(f"[yellow]... and {len(result.errors) - _SHOWN_ERRORS} more bad lines[/]")
    if not result.shipments:
        console.print(f"[red]{path} holds no valid closed shipment[/]")
        raise typer.Exit(code=1)
    return result


@app.command()
def fit(
    history: HistoryOption,
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="model JSON to write")],
    quantile: Annotated[float, typer.Option(help="promise quantile (calibrated)")] = 0.97,
) -> None:
    """Fit the milestone model with its calibration on a history and write it as JSON."""
    result = _read(history)
    started = time.perf_counter()
    estimator = fit_estimator(result.shipments, MilestoneSettings(quantile=quantile))
    seconds = time.perf_counter() - started
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(estimator.to_dict(), separators=(",", ":")))
    console.print(
        f"fitted [bold]{estimator.version}[/] on {len(result.shipments)} shipments "
        f"({len(result.errors)} bad lines skipped) in {seconds:.1f} s -> {out}"
    )


@app.command()
def evaluate(
    history: HistoryOption,
    train_fraction: Annotated[
        float, typer.Option(min=0.05, max=0.95, help="earliest share (by shipped_at) to train on")
    ] = 0.6,
    quantile: Annotated[float, typer.Option(min=0.5, max=0.999, help="promise quantile")] = 0.97,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", file_okay=False, help="folder for charts and evaluation.json"),
    ] = None,
    stride: Annotated[
        int, typer.Option(min=1, help="replay every n-th later shipment only (quicker)")
    ] = 1,
    refit_days: Annotated[
        float, typer.Option(min=0.0, help="refit from closed shipments this often (0: never)")
    ] = 7.0,
    overdue: Annotated[
        bool,
        typer.Option(
            "--overdue/--no-overdue",
            help="tell the calibration of a miss when the promised date passes, not only "
            "once in stock (as the service's sweep does)",
        ),
    ] = True,
    record_to: Annotated[
        Path | None,
        typer.Option(
            "--record",
            dir_okay=False,
            help="also write the model's pass (.npz) for `eta recalibrate` to reuse",
        ),
    ] = None,
) -> None:
    """Train on the earliest part, replay the rest as if live, and score it beside baselines."""
    result = _read(history)
    with console.status("fitting and replaying...", spinner="dots"):
        recording = record(
            result.shipments,
            train_fraction=train_fraction,
            quantile=quantile,
            clock=time.perf_counter,
            stride=stride,
            refit_days=refit_days,
        )
        if record_to is not None:
            record_to.parent.mkdir(parents=True, exist_ok=True)
            save_recording(recording, record_to)
        replayed = calibrate(recording, recording.calibration, overdue=overdue)
    rows = rows_of(replayed, quantile)
    targets = targets_of(rows, quantile, replayed.fit_seconds)
    document = to_json(replayed, rows, targets, quantile)
    folder = out if out is not None else history.resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evaluation.json").write_text(json.dumps(document, indent=2))
    # matplotlib costs a second to import: only charts pay for it, not every CLI start.
    from headstart.evaluation.charts import coverage_by_month, padding_histograms

    charts = [
        coverage_by_month(replayed.predictions, quantile, folder),
        padding_histograms(replayed.predictions, folder),
    ]
    if as_json:
        typer.echo(json.dumps(document, indent=2))
        return
    if not console.is_terminal:
        console.width = max(console.width, 150)  # a report piped to a file keeps its columns
    console.print(
        f"trained on {replayed.train_count} shipments (shipped before "
        f"{replayed.split_at:%Y-%m-%d}), fit {replayed.fit_seconds:.1f} s; replayed "
        f"{replayed.test_count} shipments, {len(replayed.predictions)} promises at q={quantile:g}"
    )
    console.print(_model_table(rows, quantile))
    console.print(_baseline_table(rows))
    console.print(_target_table(targets))
    console.print(_weekly_table(weekly_of(replayed.predictions)))
    for chart in charts:
        console.print(f"chart: {chart}")


# The online correction's settings a recalibration may change: the rest either shaped the
# recorded warm start (quantile, floor_hours, window) or are its state.
TUNABLE = ("step", "margin", "memory_days", "min_kept", "floor_offset", "young_group")


@app.command()
def recalibrate(
    recording_file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="a recording from `evaluate --record`"),
    ],
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NAME=VALUE",
            help=f"change one setting of the online correction; one of {', '.join(TUNABLE)}",
        ),
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue/--no-overdue", help="as `evaluate --overdue`")
    ] = True,
    weekly: Annotated[bool, typer.Option("--weekly", help="print the weekly series too")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the targets as JSON")] = False,
) -> None:
    """Replay a recorded evaluation's promises through the online correction again, with
    its settings changed: the model's pass is reused, so each try takes seconds."""
    changes = _tunables(settings or [])
    try:
        recording = load_recording(recording_file)
        calibration = dataclasses.replace(recording.calibration, **changes)
    except (RecordingFileError, InvalidEstimateInput) as error:
        raise typer.BadParameter(str(error)) from error
    replayed = calibrate(recording, calibration, overdue=overdue)
    q = recording.quantile
    rows = rows_of(replayed, q)
    targets = targets_of(rows, q, None)
    if as_json:
        document = [
            {"name": t.name, "measured": t.measured, "limit": t.limit, "holds": bool(t.holds)}
            for t in targets
        ]
        typer.echo(json.dumps({"settings": changes, "targets": document}, indent=2))
        return
    if not console.is_terminal:
        console.width = max(console.width, 150)
    shown = ", ".join(f"{k}={v}" for k, v in changes.items()) or "as recorded"
    console.print(f"{len(replayed.predictions)} promises at q={q:g}; correction: {shown}")
    console.print(_model_table(rows, q))
    console.print(_target_table(targets))
    if weekly:
        console.print(_weekly_table(weekly_of(replayed.predictions)))


def _tunables(settings: list[str]) -> dict[str, Any]:
    types = {f.name: f.type for f in dataclasses.fields(ConformalCalibration)}
    changes: dict[str, Any] = {}  # float or int, by the field's own type
    for item in settings:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in TUNABLE:
            raise typer.BadParameter(
                f"{item!r}: expected NAME=VALUE with NAME one of {', '.join(TUNABLE)}",
                param_hint="--set",
            )
        try:
            changes[name] = int(value) if types[name] in (int, "int") else float(value)
        except ValueError:
            raise typer.BadParameter(
                f"{item!r}: {value!r} is not a number", param_hint="--set"
            ) from None
    return changes


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def _model_table(rows: list[Row], q: float) -> Table:
    table = Table(title=f"Model (milestone + adaptive conformal), q = {q:g}")
    for name in ("row", "n", "coverage", "mean pad d", "p90 pad d", "pinball d", "roll-4w min"):
        table.add_column(name, justify="left" if name == "row" else "right")
    for r in rows:
        m = r.model
        if m.count == 0:
            continue
        table.add_row(
            r.name, str(m.count), _fmt(m.coverage, 3), _fmt(m.mean_padding_days),
            _fmt(m.p90_padding_days), _fmt(m.pinball_days, 3), _fmt(m.rolling_min_coverage, 3),
        )  # fmt: skip
    return table


_SHORT = {"carrier_eta": "ETA+3d", "mode_quantile": "mode q", "lane_quantile": "lane q"}


def _baseline_table(rows: list[Row]) -> Table:
    table = Table(
        title="Baselines (ETA+3d: carrier ETA + 3 days receiving; mode q: static per-mode "
        "quantile; lane q: per-lane empirical quantile): coverage, mean padding d, pinball d"
    )
    table.add_column("row")
    table.add_column("model pin", justify="right")
    for name in BASELINES:
        for metric in ("cov", "pad", "pin"):
            table.add_column(f"{_SHORT[name]} {metric}", justify="right")
    for r in rows:
        if r.model.count == 0:
            continue
        cells = [_fmt(r.model.pinball_days, 3)]
        for s in (r.baselines[b] for b in BASELINES):
            cells += [_fmt(s.coverage, 3), _fmt(s.mean_padding_days, 1), _fmt(s.pinball_days, 3)]
        table.add_row(r.name, *cells)
    return table


def _target_table(targets: list[Target]) -> Table:
    table = Table(title="Issue 3 targets")
    for name in ("target", "measured", "limit", "holds"):
        table.add_column(name, justify="left" if name == "target" else "right")
    for t in targets:
        table.add_row(
            t.name, _fmt(t.measured, 3), _fmt(t.limit, 3),
            "[green]yes[/]" if t.holds else "[red]NO[/]",
        )  # fmt: skip
    return table


def _weekly_table(cells: list[WeekCell]) -> Table:
    table = Table(
        title="By ISO week the promise was made, per bucket: coverage of the promise and of the "
        "model's own quantile (raw, before the online correction), mean padding of each"
    )
    for name in ("week", "bucket", "n", "coverage", "raw cov", "mean pad d", "raw pad d"):
        table.add_column(name, justify="left" if name in ("week", "bucket") else "right")
    for c in cells:
        table.add_row(
            c.week, c.bucket, str(c.count), _fmt(c.coverage, 3), _fmt(c.raw_coverage, 3),
            _fmt(c.mean_padding_days), _fmt(c.raw_mean_padding_days),
        )  # fmt: skip
    return table
