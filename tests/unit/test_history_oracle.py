"""The oracle (``sim/history/oracle.py``): promises from the generator's own law (issue 3).

Drawing from the true law given what has happened, its q-quantile covers q of
the outcomes in every bucket and however late a shipment runs; a promise that
forgot what had happened would not.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from typer.testing import CliRunner

from headstart.commands.history import app
from headstart.domain.estimate.stages import snapshot_times
from headstart.evaluation.replay import BUCKETS, split_history
from headstart.sim.history import SyntheticHistory, synthesize_history
from headstart.sim.history.draft import Draft
from headstart.sim.history.oracle import Oracle, OracleRun, cells_of, replay_oracle, seen_by
from headstart.sim.history.oracle_law import Array, Seen

START = datetime(2025, 1, 1, tzinfo=UTC)
Q = 0.97
_MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def history() -> SyntheticHistory:
    return synthesize_history(2000, 7, START)


@pytest.fixture(scope="module")
def oracle_run(history: SyntheticHistory) -> OracleRun:
    return replay_oracle(history, resamples=400, stride=2)


class _Forgetful(Oracle):
    """Draws every future as if the shipment had just shipped: ignores elapsed time."""

    def futures(
        self, rng: np.random.Generator, n: int, d: Draft, seen: Seen, now: float
    ) -> tuple[Array, Array]:
        return super().futures(rng, n, d, {}, d.shipped)


def test_oracle_covers_its_quantile_overall_and_in_every_bucket(oracle_run: OracleRun) -> None:
    cells = {c.name: c.scores for c in cells_of(oracle_run.promises, Q)}
    by_bucket: dict[str, list[bool]] = defaultdict(list)
    for p in oracle_run.promises:
        by_bucket[p.bucket].append(p.actual_hours <= p.promised_hours)

    assert oracle_run.failed == 0
    assert len(oracle_run.promises) > 3000
    assert cells["overall"].coverage == pytest.approx(Q, abs=0.012)
    for bucket in BUCKETS:
        assert statistics.mean(by_bucket[bucket]) == pytest.approx(Q, abs=0.03), bucket


def test_oracle_gives_the_actual_outcome_a_uniform_probability(oracle_run: OracleRun) -> None:
    # the true law's P(in stock by the actual instant) is uniform: each tenth holds 10%
    pits = np.array([p.pit for p in oracle_run.promises])
    tenths = np.histogram(pits, bins=10, range=(0.0, 1.0))[0] / pits.size

    assert tenths == pytest.approx(np.full(10, 0.1), abs=0.025)


def test_oracle_stays_calibrated_for_late_shipments_where_ignoring_elapsed_time_fails(
    history: SyntheticHistory,
) -> None:
    # given the snapshots of shipments already out longer than 90% of their mode take
    train, test = split_history(list(history.shipments()), 0.6)
    took: dict[str, list[float]] = defaultdict(list)
    for s in train:
        took[s.mode].append((s.in_stock_at - s.shipped_at) / timedelta(days=1))
    p90 = {mode: np.quantile(days, 0.9) for mode, days in took.items()}
    late = [
        (s, at)
        for s in test
        for at in snapshot_times(s)
        if (at - s.shipped_at) / timedelta(days=1) > p90[s.mode]
    ]
    index = {s.shipment_id: i for i, s in enumerate(history.shipments())}
    drafts = history.drafts()

    def judged(oracle: Oracle) -> tuple[float, float]:
        """(coverage of the q-quantile, mean probability given to the actual outcome)."""
        covered, pits = [], []
        for s, at in late:
            i, minute = index[s.shipment_id], round((at - START) / _MINUTE)
            now, actual = minute / 1440, (s.in_stock_at - START) / timedelta(days=1)
            rng = np.random.default_rng([i, minute])
            drawn = oracle.draw(rng, drafts[i], seen_by(drafts[i], minute), now, 400)
            assert drawn is not None
            covered.append(drawn.quantiles([Q])[0] >= actual)
            pits.append(drawn.share_by(actual))
        return statistics.mean(covered), statistics.mean(pits)

    coverage, pit = judged(Oracle(history))
    forgetful_coverage, forgetful_pit = judged(_Forgetful(history))

    # then the oracle, conditioning on what has happened, still covers q of them, and
    # its probability of the actual outcome is uniform (mean 1/2)
    assert len(late) > 100
    assert coverage >= 0.94
    assert pit == pytest.approx(0.5, abs=0.08)
    # while one that forgets how long the shipment has been under way does not
    assert forgetful_coverage < 0.92
    assert forgetful_pit > 0.65


def test_oracle_receiving_law_leaves_only_the_generators_residual(
    history: SyntheticHistory,
) -> None:
    # the FC, the freight and the backlog explain all but N(0, 0.3) of log receiving time
    oracle = Oracle(history)
    residuals = []
    for d in history.drafts():
        mean, sigma = oracle.receiving.log_location(d, np.array([d.delivered]))
        assert sigma[0] == pytest.approx(0.3)
        residuals.append(math.log(d.in_stock - d.delivered) - mean[0])

    assert statistics.mean(residuals) == pytest.approx(0.0, abs=0.02)
    assert statistics.stdev(residuals) == pytest.approx(0.3, abs=0.015)


def test_same_seed_gives_the_same_oracle_numbers() -> None:
    first = replay_oracle(synthesize_history(300, 5, START), resamples=100, stride=3)
    again = replay_oracle(synthesize_history(300, 5, START), resamples=100, stride=3)

    assert first == again
    assert [repr(c) for c in cells_of(first.promises, Q)] == [
        repr(c) for c in cells_of(again.promises, Q)
    ]


def test_oracle_command_prints_a_cell_table_and_json() -> None:
    runner = CliRunner()
    options = ["--shipments", "300", "--seed", "7", "--resamples", "50", "--stride", "3"]

    table = runner.invoke(app, ["oracle", *options])
    as_json = runner.invoke(app, ["oracle", *options, "--json"])

    assert table.exit_code == 0, table.output
    for text in ("Oracle at q = 0.97", "ocean at sea", "parcel peak", "target", "Scored"):
        assert text in table.output
    assert as_json.exit_code == 0, as_json.output
    document = json.loads(as_json.stdout)
    assert document["stride"] == 3 and document["resamples"] == 50
    names = [cell["name"] for cell in document["cells"]]
    assert names[0] == "overall" and "ocean berthed peak" in names
