"""Marketplace simulator (issue 6): CPU per simulated day, by phase, with and without head start.

Plays the first ``--days`` days of ``headstart simulate``'s marketplace (default 5,000
SKUs, 200 sellers, seed 7) twice, as the command does: with head start, then the paired
run without it, each on a new SQLite file. Every phase of a day is timed in CPU seconds
of this process (SQLite runs in it too): the clock steps with their due shipping,
tracking batches, receipts and closes (``run_due``), the buyers (``serve_buyers``), the
buyers answering delays, the sellers' daily review and reorders, the daily sweep, the
weekly refit of the in-stock model (head-start run only), and the end-of-day count.

The baseline is the paired run: the same marketplace and draws, where every order is an
in-stock one and no shipment carries head-start promises. Its ratio says what head start's
own work costs on top of running the marketplace at all.

A run's cost per day grows while the first shipments are still on their way (more of them
in flight, more waiting orders), so the figures of the last ``--tail`` days are printed
beside the whole run's, and the default run's length (365 days, both runs) is extrapolated
from them against the 10-minute target.

Run: ``.venv/bin/python bench/bench_simulate.py [--days 30] [--skus 5000] [--sellers 200]
[--tail 7] [--profile out.prof]`` (about 15-30 CPU s per simulated day at the defaults).
"""

from __future__ import annotations

import argparse
import cProfile
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import headstart.sim.market.run as market_run
from headstart.commands.simulate import _fresh_sqlite, _runtime
from headstart.domain.estimate.milestone import MilestoneModel
from headstart.services.sandbox import move_clock
from headstart.sim.market.config import MarketConfig
from headstart.sim.market.run import Market

PHASES = ("run_due", "serve_buyers", "answer_delays", "review_stock", "refit", "count_day")
TARGET_SECONDS = 600.0  # issue 6: the default paired run, 365 days each, on one core


class ModelMeter:
    """Counts the in-stock model's draws (``MilestoneModel.hours``: every estimate, and
    every calibration outcome scored) and their CPU seconds, per simulated day."""

    def __init__(self) -> None:
        self.calls = 0
        self.seconds = 0.0
        original = MilestoneModel.hours

        def hours(model: MilestoneModel, *args: Any, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return original(model, *args, **kwargs)
            finally:
                self.calls += 1
                self.seconds += time.process_time() - began

        MilestoneModel.hours = hours  # type: ignore[method-assign]

    def take(self) -> tuple[int, float]:
        taken = self.calls, self.seconds
        self.calls, self.seconds = 0, 0.0
        return taken


METER = ModelMeter()


class TimedMarket(Market):
    """A Market whose phases add their CPU seconds to ``spent[day][phase]``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spent: list[dict[str, float]] = []
        for phase in PHASES:
            setattr(self, phase, self._timed(phase, getattr(self, phase)))

    def _timed(self, phase: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                if self.spent:  # not during the set-up, timed apart
                    self.spent[-1][phase] += time.process_time() - began

        return timed

    def play_day(self, day: int) -> None:
        self.spent.append(defaultdict(float))
        METER.take()
        began = time.process_time()
        super().play_day(day)
        self.spent[-1]["day"] = time.process_time() - began
        self.spent[-1]["model draws"], self.spent[-1]["model"] = METER.take()


def _sweeps_timed(market: TimedMarket) -> None:
    """The day's sweep runs through ``sandbox.move_clock``, called by ``play_day``."""
    market_run.move_clock = market._timed("sweeps", move_clock)  # type: ignore[assignment]


def play(config: MarketConfig, directory: Path, name: str) -> TimedMarket:
    runtime = _runtime(_fresh_sqlite(directory / f"{name}.db"))
    market = TimedMarket(runtime, config)
    _sweeps_timed(market)
    began = time.process_time()
    market.setup()
    setup = time.process_time() - began
    for day in range(config.days):
        market.play_day(day)
        print(f"  {name} day {day + 1}: {market.spent[-1]['day']:.1f} CPU s", flush=True)
    market.spent.insert(0, {"setup": setup})
    return market


def per_day(spent: list[dict[str, float]], key: str) -> float:
    return sum(day.get(key, 0.0) for day in spent) / len(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--skus", type=int, default=5000)
    parser.add_argument("--sellers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tail", type=int, default=7, help="days the late figures average")
    parser.add_argument("--profile", type=Path, help="cProfile of the head-start run")
    args = parser.parse_args()
    config = MarketConfig(days=args.days, skus=args.skus, sellers=args.sellers, seed=args.seed)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        profile = cProfile.Profile() if args.profile else None
        if profile:
            profile.enable()
        with_hs = play(config, directory, "head-start")
        if profile:
            profile.disable()
            profile.dump_stats(args.profile)
        without = play(config.paired(), directory, "without")

    tail = min(args.tail, args.days)
    print(
        f"\n{args.days} days, {args.skus} SKUs, {args.sellers} sellers, seed {args.seed}: "
        f"{len(with_hs.outcome.orders)} orders with head start, {len(without.outcome.orders)} "
        f"without; {len(with_hs.outcome.shipments)} shipments"
    )
    print(f"set-up: {with_hs.spent[0]['setup']:.1f} and {without.spent[0]['setup']:.1f} CPU s")
    print(
        f"\n{'CPU s per simulated day':<24}{'head start':>12}{'last ' + str(tail):>10}"
        f"{'without':>10}{'last ' + str(tail):>10}{'ratio':>8}"
    )
    days_hs, days_without = with_hs.spent[1:], without.spent[1:]
    for key in (*PHASES, "sweeps", "day", "model draws", "model"):
        hs, hs_tail = per_day(days_hs, key), per_day(days_hs[-tail:], key)
        base, base_tail = per_day(days_without, key), per_day(days_without[-tail:], key)
        ratio = f"{hs_tail / base_tail:.2f}" if base_tail else "-"
        label = {"day": "whole day", "model": "of it the model"}.get(key, key)
        print(f"{label:<24}{hs:>12.2f}{hs_tail:>10.2f}{base:>10.2f}{base_tail:>10.2f}{ratio:>8}")
    default_run = 365 * (per_day(days_hs[-tail:], "day") + per_day(days_without[-tail:], "day"))
    print(
        f"\ndefault run (365 days, both runs) at the last {tail} days' rate: "
        f"{default_run / 60:.0f} CPU min, {default_run / TARGET_SECONDS:.1f}x the 10-minute "
        "target (a lower bound: the cost per day still grows after the first month)"
    )
    model_only = 365 * (per_day(days_hs[-tail:], "model") + per_day(days_without[-tail:], "model"))
    print(
        f"of which the in-stock model's draws alone (R9 re-estimates, the sweep's, calibration "
        f"outcomes scored): {model_only / 60:.1f} CPU min, {model_only / TARGET_SECONDS:.2f}x; "
        "the weekly refits come on top"
    )


if __name__ == "__main__":
    main()
