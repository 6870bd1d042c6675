"""The receiving load effect fitted as a censored (Tobit) regression."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from headstart.domain.estimate.fc_load import (
    Deliveries,
    FcLoadIndex,
    SeasonFit,
    censored_least_squares,
    fit_censored_load,
)
from headstart.domain.estimate.milestone_fit import peak_tail
from tests.unit.estimate.history_builders import parcel_history

PEAK_START = datetime(2025, 10, 15, tzinfo=UTC)


def _data(n: int = 4000, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    group = rng.integers(0, 3, n)
    design = np.column_stack(((group[:, None] == np.arange(3)).astype(float), x))
    y = np.array([1.0, 2.0, 3.0])[group] + 2.5 * x + rng.normal(0.0, 0.5, n)
    return design, y, x


def test_the_censored_fit_recovers_the_slope_when_the_slow_half_is_still_open() -> None:
    design, y, _ = _data()
    cut = float(np.median(y))
    censored = y > cut
    seen = np.where(censored, cut, y)

    coef, sigma = censored_least_squares(design, seen, censored)
    naive, *_ = np.linalg.lstsq(design[~censored], y[~censored], rcond=None)

    assert coef[3] == pytest.approx(2.5, abs=0.08)
    assert sigma == pytest.approx(0.5, abs=0.05)
    assert abs(naive[3] - 2.5) > abs(coef[3] - 2.5)  # dropping the open ones biases it


def test_the_censored_fit_is_least_squares_when_nothing_is_censored() -> None:
    design, y, _ = _data(seed=2)

    coef, _ = censored_least_squares(design, y, np.zeros(y.size, dtype=bool))
    ols, *_ = np.linalg.lstsq(design, y, rcond=None)

    np.testing.assert_allclose(coef, ols, atol=1e-10)


def _season(n: int, slope: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    deliveries = rng.uniform(50.0, 200.0, n)
    log_hours = 3.0 + slope * np.log((deliveries + 1.0) / 101.0) + rng.normal(0.0, 0.2, n)
    return deliveries, log_hours


def test_peak_learns_its_own_steeper_slope_from_open_deliveries() -> None:
    off_d, off_y = _season(3000, 0.6, 3)
    peak_d, peak_y = _season(1500, 3.0, 4)
    censor = np.concatenate((np.full(3000, np.inf), np.full(1500, float(np.median(peak_y)))))
    log_hours = np.concatenate((off_y, peak_y))
    censored = log_hours > censor
    hours = np.exp(np.minimum(log_hours, censor))
    n = log_hours.size
    data = Deliveries(
        ["X"] * n, np.zeros(n), hours, censored, np.full(n, 10.0),
        np.concatenate((off_d, peak_d)),
    )  # fmt: skip
    peak = np.arange(n) >= 3000

    off, in_peak = fit_censored_load(data, peak, {"X": (100.0, 10.0)}, prior_rows=0.0)
    _, shrunk = fit_censored_load(data, peak, {"X": (100.0, 10.0)})

    assert off[0] == pytest.approx(0.6, abs=0.05)
    assert in_peak is not None and shrunk is not None
    assert in_peak[0] == pytest.approx(3.0, abs=0.1)
    assert 2.5 < shrunk[0] < in_peak[0]  # the prior pulls a little toward off-peak


def test_a_few_peak_deliveries_keep_peak_near_the_off_peak_slope() -> None:
    off_d, off_y = _season(3000, 0.6, 5)
    peak_d, peak_y = _season(40, 3.0, 6)
    n = 3040
    data = Deliveries(
        ["X"] * n, np.zeros(n), np.exp(np.concatenate((off_y, peak_y))), np.zeros(n, dtype=bool),
        np.full(n, 10.0), np.concatenate((off_d, peak_d)),
    )  # fmt: skip

    peak, usual = np.arange(n) >= 3000, {"X": (100.0, 10.0)}
    off, own = fit_censored_load(data, peak, usual, prior_rows=0.0)
    _, shrunk = fit_censored_load(data, peak, usual)
    _, held = fit_censored_load(data, peak, usual, prior_rows=1e5)

    assert own is not None and shrunk is not None and held is not None
    assert off[0] < shrunk[0] < own[0]  # pulled toward off-peak by the prior
    assert held[0] == pytest.approx(off[0], abs=0.05)


def test_deliveries_by_counts_those_still_open_as_censored() -> None:
    history = parcel_history(200)
    index = FcLoadIndex.of(history)
    stamps = sorted(s.delivered_at.timestamp() for s in history if s.delivered_at is not None)
    now = stamps[len(stamps) // 2]

    data = index.deliveries_by(now)
    everything = index.deliveries_by(None)

    assert data.at.size == sum(1 for t in stamps if t <= now)
    assert np.all(data.at <= now)
    still_open = [
        s
        for s in history
        if s.delivered_at is not None
        and s.delivered_at.timestamp() <= now < s.in_stock_at.timestamp()
    ]
    assert int(data.censored.sum()) == len(still_open)
    assert not everything.censored.any()
    assert everything.at.size == len(stamps)


def test_an_fc_that_closed_few_peak_receipts_takes_its_own_level_raised_by_peak_s_rise() -> None:
    # Two weeks into peak, A closed 40 of its peak receipts, slow B only 5 (its open ones
    # are in the fit as censored)
    now = datetime(2025, 10, 29, tzinfo=UTC)
    peak = SeasonFit((3.0, 0.0), {"A": 5.0, "B": 9.0}, 0.5, {"A": 40, "B": 5}, open=60)
    off = SeasonFit((0.5, 0.0), {"A": 4.5, "B": 3.0}, 0.4, {"A": 900, "B": 700})

    tail = peak_tail(now, peak, off)

    # Then B's tail is its off-peak level raised as much as A's peak raised A's
    assert tail["A"][:2] == (5.0, 0.5)
    assert tail["B"][:2] == pytest.approx((3.5, 0.5))
    assert tail["A"][2] == tail["B"][2] == pytest.approx((now - PEAK_START).total_seconds() / 3600)
    # and without the off-peak fit, only A has one
    assert set(peak_tail(now, peak)) == {"A"}
