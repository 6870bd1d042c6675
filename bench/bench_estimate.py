"""In-stock estimation speed (issue 3): one re-estimate on a tracking event, and a fit.

Prints the median in-process time of one ``estimate`` call on a tracking event
(target ≤ 2 ms) and the time to fit 30,000 shipments (target ≤ 60 s) for the
milestone model with its calibration, each beside the core release's
``EmpiricalEstimator`` measured in the same run on the same data, as a ratio.

Run: ``.venv/bin/python bench/bench_estimate.py [--shipments 30000] [--seed 7]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from headstart.domain.estimate import ClosedShipment, EmpiricalEstimator, InStockEstimator
from headstart.domain.estimate.calibrated import fit_estimator, replay_snapshots
from headstart.domain.estimate.fc_load import FcLoadIndex
from headstart.sim.history import generate_history

SAMPLE_EVENTS = 3000


def _timed(build: Callable[[], InStockEstimator]) -> tuple[InStockEstimator, float]:
    started = time.perf_counter()
    built = build()
    return built, time.perf_counter() - started


def _median_estimate_ms(estimator: InStockEstimator, events: Sequence[tuple]) -> float:
    times = []
    for _, at, progress in events:
        started = time.perf_counter()
        estimator.estimate(progress, at)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shipments", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    history: list[ClosedShipment] = list(
        generate_history(args.shipments, args.seed, datetime(2025, 1, 1, tzinfo=UTC))
    )
    model, fit_s = _timed(lambda: fit_estimator(history))
    empirical, empirical_fit_s = _timed(lambda: EmpiricalEstimator(history))
    step = max(1, len(history) // 1000)
    events = list(replay_snapshots(history[::step], FcLoadIndex.of(history)))[:SAMPLE_EVENTS]
    for estimator in (model, empirical):  # warm caches before timing
        _median_estimate_ms(estimator, events[:50])
    model_ms = _median_estimate_ms(model, events)
    empirical_ms = _median_estimate_ms(empirical, events)
    print(f"history: {len(history)} shipments (seed {args.seed}); {len(events)} tracking events")
    print(
        f"re-estimate on a tracking event, median: {model_ms:.3f} ms "
        f"(EmpiricalEstimator {empirical_ms:.3f} ms, ratio {model_ms / empirical_ms:.1f}x; "
        "target <= 2 ms)"
    )
    print(
        f"fit {len(history)} shipments: {fit_s:.1f} s "
        f"(EmpiricalEstimator {empirical_fit_s:.1f} s, ratio {fit_s / empirical_fit_s:.1f}x; "
        "target <= 60 s)"
    )


if __name__ == "__main__":
    main()
