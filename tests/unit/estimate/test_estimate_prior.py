"""The published-figures prior (PARAMETERS.md): sourced numbers, sane magnitudes."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime

import pytest

from headstart.domain.estimate import FIGURES, MODES, InvalidEstimateInput, is_peak, sample_prior


def _draws(mode: str, peak: bool, n: int = 4000) -> tuple[list[float], list[float]]:
    rng = random.Random(7)
    pairs = [sample_prior(mode, rng, peak) for _ in range(n)]
    return [t / 24 for t, _ in pairs], [r / 24 for _, r in pairs]


def _quantile(days: list[float], p: float) -> float:
    return sorted(days)[int(p * len(days))]


def test_every_prior_figure_names_its_source() -> None:
    for key, figure in FIGURES.items():
        assert figure.source.strip(), key
        assert figure.value >= 0, key


@pytest.mark.parametrize("mode", MODES)
def test_prior_draws_are_positive_hours(mode: str) -> None:
    transit, receiving = _draws(mode, peak=False, n=500)

    assert min(transit) > 0
    assert min(receiving) > 0


def test_parcel_prior_transit_is_three_to_five_days_plus_a_short_late_tail() -> None:
    transit, _ = _draws("parcel", peak=False)

    assert min(transit) >= 3.0
    assert _quantile(transit, 0.9) <= 5.0
    assert max(transit) <= 8.0
    # 4% late; +1 d past a uniform 3-5 d base lands beyond 5 d half the time, +2-3 d always.
    beyond_five = 0.04 * (0.85 * 0.5 + 0.15)
    assert sum(t > 5.0 for t in transit) / len(transit) == pytest.approx(beyond_five, abs=0.01)


def test_air_prior_transit_has_median_near_six_days() -> None:
    transit, _ = _draws("air", peak=False)

    assert statistics.median(transit) == pytest.approx(6.3, abs=0.6)


def test_ocean_prior_door_to_door_is_three_to_five_weeks_typically() -> None:
    transit, _ = _draws("ocean", peak=False)

    # PARAMETERS.md: door to door 18-30 d West Coast, 25-40 d East Coast.
    assert 18.0 <= statistics.median(transit) <= 32.0
    assert _quantile(transit, 0.97) <= 50.0


def test_receiving_prior_matches_published_median_and_p90_off_peak_and_in_peak() -> None:
    _, off_peak = _draws("parcel", peak=False)
    _, peak = _draws("parcel", peak=True)

    assert statistics.median(off_peak) == pytest.approx(1.5, rel=0.1)
    assert _quantile(off_peak, 0.9) == pytest.approx(4.0, rel=0.1)
    assert statistics.median(peak) == pytest.approx(4.0, rel=0.1)
    assert _quantile(peak, 0.9) == pytest.approx(14.0, rel=0.15)


def test_sample_prior_refuses_an_unknown_mode() -> None:
    with pytest.raises(InvalidEstimateInput):
        sample_prior("rail", random.Random(0), False)


@pytest.mark.parametrize(
    ("at", "peak"),
    [
        (datetime(2025, 10, 14, 23, 59, tzinfo=UTC), False),
        (datetime(2025, 10, 15, 0, 0, tzinfo=UTC), True),
        (datetime(2025, 11, 20, tzinfo=UTC), True),
        (datetime(2025, 12, 31, 23, 59, tzinfo=UTC), True),
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), False),
        (datetime(2026, 7, 1, tzinfo=UTC), False),
    ],
)
def test_peak_season_runs_from_mid_october_through_december(at: datetime, peak: bool) -> None:
    assert is_peak(at) is peak
