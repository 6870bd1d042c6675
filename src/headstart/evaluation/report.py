"""From replayed promises to the evaluation's rows, targets and JSON (issue 3's targets)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from headstart.evaluation.baselines import BASELINES
from headstart.evaluation.metrics import Scores, score
from headstart.evaluation.replay import BUCKETS, OCEAN_AT_SEA, OCEAN_BERTHED, Prediction, Replay
from headstart.evaluation.weekly import weekly_of

# Issue 3: mean padding off-peak per bucket (days); in peak at most twice these.
PADDING_TARGET_DAYS: dict[str, float] = {
    "parcel": 3.0,
    "ltl": 3.0,
    "ftl": 3.0,
    "air": 4.0,
    OCEAN_BERTHED: 4.0,
    OCEAN_AT_SEA: 7.0,
}
CELL_COVERAGE = 0.95
ROLLING_FLOOR = 0.94
PINBALL_GAIN = 0.30  # at least 30% below the per-lane empirical quantile


@dataclass(frozen=True)
class Row:
    name: str  # "overall", a bucket, or "<bucket> peak" / "<bucket> off-peak"
    model: Scores
    baselines: dict[str, Scores]


@dataclass(frozen=True)
class Target:
    name: str
    measured: float | None
    limit: float
    holds: bool


def _scores(
    predictions: list[Prediction], q: float, promised: Callable[[Prediction], float]
) -> Scores:
    return score(((p.made_at, promised(p), p.actual_hours) for p in predictions), q)


def _row(name: str, predictions: list[Prediction], q: float) -> Row:
    return Row(
        name,
        _scores(predictions, q, lambda p: p.promised_hours),
        {
            b: _scores(predictions, q, lambda p, b=b: p.baseline_hours[b])  # type: ignore[misc]
            for b in BASELINES
        },
    )


def rows_of(replay: Replay, q: float) -> list[Row]:
    """Overall, each bucket, then each bucket x (off-peak, peak) cell."""
    preds = replay.predictions
    rows = [_row("overall", preds, q)]
    for bucket in BUCKETS:
        rows.append(_row(bucket, [p for p in preds if p.bucket == bucket], q))
    for bucket in BUCKETS:
        for peak, label in ((False, "off-peak"), (True, "peak")):
            cell = [p for p in preds if p.bucket == bucket and p.peak == peak]
            rows.append(_row(f"{bucket} {label}", cell, q))
    return rows


def targets_of(rows: list[Row], q: float, fit_seconds: float | None) -> list[Target]:
    """Each target of issue 3 with what was measured and whether it holds."""
    by_name = {r.name: r for r in rows}
    overall = by_name["overall"]
    out = [Target("coverage overall", overall.model.coverage, q, overall.model.coverage >= q)]
    for bucket in BUCKETS:
        for label, factor in (("off-peak", 1.0), ("peak", 2.0)):
            cell = by_name[f"{bucket} {label}"].model
            if cell.count == 0:
                continue
            out.append(
                Target(f"coverage {bucket} {label}", cell.coverage, CELL_COVERAGE,
                       cell.coverage >= CELL_COVERAGE)
            )  # fmt: skip
            limit = PADDING_TARGET_DAYS[bucket] * factor
            out.append(
                Target(f"mean padding {bucket} {label} (d)", cell.mean_padding_days, limit,
                       cell.mean_padding_days <= limit)
            )  # fmt: skip
    rolling = overall.model.rolling_min_coverage
    out.append(
        Target("rolling 4-week coverage min", rolling, ROLLING_FLOOR,
               rolling is not None and rolling >= ROLLING_FLOOR)
    )  # fmt: skip
    lane = overall.baselines["lane_quantile"].pinball_days
    gain = 1.0 - overall.model.pinball_days / lane if lane > 0 else 0.0
    out.append(
        Target("pinball gain vs per-lane quantile", gain, PINBALL_GAIN, gain >= PINBALL_GAIN)
    )
    if fit_seconds is not None:
        out.append(Target("fit seconds", fit_seconds, 60.0, fit_seconds <= 60.0))
    return out


def to_json(replay: Replay, rows: list[Row], targets: list[Target], q: float) -> dict[str, object]:
    return {
        "quantile": q,
        "train_shipments": replay.train_count,
        "replayed_shipments": replay.test_count,
        "promises": len(replay.predictions),
        "split_at": replay.split_at.isoformat(),
        "fit_seconds": replay.fit_seconds,
        "model_version": replay.estimator.version,
        "rows": [
            {
                "name": r.name,
                "model": r.model.to_dict(),
                "baselines": {b: s.to_dict() for b, s in r.baselines.items()},
            }
            for r in rows
        ],
        "targets": [
            {
                "name": t.name,
                "measured": None if t.measured is None else float(t.measured),
                "limit": t.limit,
                "holds": bool(t.holds),
            }
            for t in targets
        ],
        "weekly": [c.to_dict() for c in weekly_of(replay.predictions)],
    }
