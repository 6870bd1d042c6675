"""PNG charts of an evaluation: coverage by month and mode, and padding histograms.

Drawn with matplotlib's object API (a bare ``Figure``, rendered by Agg): no
pyplot, no display and no global backend switched at import. Each function
writes one file and returns its path.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from headstart.evaluation.replay import BUCKETS, Prediction

COVERAGE_CHART = "coverage_by_month.png"
PADDING_CHART = "padding_histograms.png"


def coverage_by_month(predictions: list[Prediction], q: float, folder: Path) -> Path:
    """Coverage of the q-promise per month the promise was made, one line per bucket."""
    cells: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for p in predictions:
        month = p.made_at.strftime("%Y-%m")
        covered = p.actual_hours <= p.promised_hours
        cells[(p.bucket, month)].append(covered)
        cells[("overall", month)].append(covered)
    months = sorted({month for _, month in cells})
    figure = Figure(figsize=(10, 5.5))
    axes = figure.subplots()
    for bucket in ("overall", *BUCKETS):
        values = [
            float(np.mean(cells[(bucket, m)])) if cells.get((bucket, m)) else np.nan for m in months
        ]
        style = {"linewidth": 3, "color": "black"} if bucket == "overall" else {"marker": "o"}
        axes.plot(months, values, label=bucket, **style)
    axes.axhline(q, color="red", linestyle="--", label=f"target {q:g}")
    axes.set_ylim(max(0.0, min(0.8, q - 0.2)), 1.005)
    axes.set_xlabel("month the promise was made")
    axes.set_ylabel(f"share in stock by the {q:g}-quantile")
    axes.set_title("Coverage by month and mode")
    axes.legend(loc="lower left", ncols=2, fontsize="small")
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    return _save(figure, folder / COVERAGE_CHART)


def padding_histograms(predictions: list[Prediction], folder: Path) -> Path:
    """Promised minus actual in-stock time (days), per bucket, model against lane baseline."""
    figure = Figure(figsize=(13, 7))
    grid = figure.subplots(2, 3)
    for axes, bucket in zip(grid.flat, BUCKETS, strict=True):
        chosen = [p for p in predictions if p.bucket == bucket]
        model = np.array([(p.promised_hours - p.actual_hours) / 24.0 for p in chosen])
        lane = np.array(
            [(p.baseline_hours["lane_quantile"] - p.actual_hours) / 24.0 for p in chosen]
        )
        if model.size:
            bins = np.linspace(
                min(float(model.min()), float(lane.min()), -5.0),
                min(max(float(np.quantile(model, 0.99)), float(np.quantile(lane, 0.99))), 60.0),
                40,
            )
            axes.hist(lane, bins=bins, alpha=0.45, label="per-lane quantile", color="grey")
            axes.hist(model, bins=bins, alpha=0.7, label="model")
            axes.axvline(float(model.mean()), color="C0", linestyle="--")
        axes.axvline(0.0, color="red", linewidth=1)
        axes.set_title(f"{bucket} (n={model.size})")
        axes.set_xlabel("padding, days (negative = late)")
    grid.flat[0].legend(fontsize="small")
    figure.suptitle("Padding: promised minus actual in-stock time")
    figure.tight_layout()
    return _save(figure, folder / PADDING_CHART)


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path
