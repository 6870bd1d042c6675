"""Evaluation measures on tiny inputs whose answers are known by hand (section 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from headstart.evaluation.metrics import pinball, rolling_min_coverage, score

T0 = datetime(2025, 8, 1, tzinfo=UTC)


def test_coverage_padding_and_pinball_of_four_promises() -> None:
    # promised vs actual, in hours: 2 days early, 1 day early, exact, 1 day late
    rows = [(T0, 72.0, 24.0), (T0, 48.0, 24.0), (T0, 24.0, 24.0), (T0, 24.0, 48.0)]

    s = score(rows, q=0.9, min_window=1)

    assert s.count == 4
    assert s.coverage == 0.75
    assert s.mean_padding_days == pytest.approx((2 + 1 + 0 - 1) / 4)
    assert s.p90_padding_days == pytest.approx(float(np.quantile([2, 1, 0, -1], 0.9)))
    # pinball at 0.9: over-promising costs 0.1 per day, under-promising 0.9 per day
    assert s.pinball_days == pytest.approx((0.1 * 2 + 0.1 * 1 + 0 + 0.9 * 1) / 4)


def test_pinball_is_zero_for_a_perfect_promise_and_asymmetric_otherwise() -> None:
    actual = np.array([1.0, 2.0])

    assert pinball(actual, actual, 0.97) == 0.0
    assert pinball(actual, actual + 1.0, 0.97) == pytest.approx(0.03)
    assert pinball(actual, actual - 1.0, 0.97) == pytest.approx(0.97)


def test_rolling_coverage_finds_the_worst_four_week_window() -> None:
    # 10 weeks of 10 promises each; week 6 misses all of them
    made_at, covered = [], []
    for week in range(10):
        for k in range(10):
            made_at.append(T0 + timedelta(weeks=week, hours=k))
            covered.append(week != 6)

    lowest = rolling_min_coverage(made_at, covered, min_window=30)

    assert lowest == pytest.approx(30 / 40)


def test_rolling_coverage_ignores_windows_too_thin_to_judge() -> None:
    assert rolling_min_coverage([T0, T0], [False, True], min_window=50) is None


def test_an_empty_cell_scores_as_empty() -> None:
    s = score([], q=0.97)

    assert s.count == 0
    assert s.rolling_min_coverage is None
