"""InStockEstimate: the stored distribution every promise rests on (R4, R7, R9, R17)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from headstart.domain.estimate import LEVELS, InStockEstimate, InvalidEstimateInput

NOW = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
# A grid that rises from 10 h to 110 h, one hour per grid point.
RISING = tuple(10.0 + i for i in range(len(LEVELS)))


def _estimate(hours: tuple[float, ...] = RISING) -> InStockEstimate:
    return InStockEstimate(
        computed_at=NOW, model_version="prior-1", basis="prior", history_count=0, hours=hours
    )


def test_levels_run_from_one_percent_to_999_per_mille_in_order() -> None:
    assert LEVELS[0] == 0.01
    assert LEVELS[98] == 0.99
    assert LEVELS[-2:] == (0.995, 0.999)
    assert len(LEVELS) == 101
    assert list(LEVELS) == sorted(set(LEVELS))
    assert 0.97 in LEVELS and 0.5 in LEVELS and 0.9 in LEVELS


def test_quantile_at_a_grid_level_is_the_grid_value() -> None:
    estimate = _estimate()

    assert estimate.p50 == NOW + timedelta(hours=10 + 49)
    assert estimate.p90 == NOW + timedelta(hours=10 + 89)
    assert estimate.p97 == NOW + timedelta(hours=10 + 96)
    assert estimate.p99 == NOW + timedelta(hours=10 + 98)


def test_quantile_interpolates_linearly_between_levels() -> None:
    assert _estimate().quantile(0.505) == NOW + timedelta(hours=59.5)


def test_quantile_holds_the_end_values_beyond_the_grid() -> None:
    estimate = _estimate()

    assert estimate.quantile(0.001) == NOW + timedelta(hours=10)
    assert estimate.quantile(0.9999) == NOW + timedelta(hours=110)


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5])
def test_quantile_refuses_probabilities_outside_the_open_unit_interval(p: float) -> None:
    with pytest.raises(InvalidEstimateInput):
        _estimate().quantile(p)


def test_probability_in_stock_by_inverts_quantile_on_the_grid() -> None:
    estimate = _estimate()

    for p in (0.01, 0.25, 0.5, 0.505, 0.9, 0.97, 0.99, 0.995, 0.999):
        assert estimate.probability_in_stock_by(estimate.quantile(p)) == pytest.approx(p, abs=1e-6)


def test_probability_is_zero_before_and_at_computed_at_and_one_beyond_the_grid() -> None:
    estimate = _estimate()

    assert estimate.probability_in_stock_by(NOW - timedelta(hours=1)) == 0.0
    assert estimate.probability_in_stock_by(NOW) == 0.0
    assert estimate.probability_in_stock_by(NOW + timedelta(hours=5)) == pytest.approx(0.005)
    assert estimate.probability_in_stock_by(NOW + timedelta(hours=111)) == 1.0


def test_probability_at_computed_at_is_the_mass_at_zero_when_the_grid_starts_at_zero() -> None:
    hours = tuple(0.0 if level <= 0.2 else 24.0 for level in LEVELS)

    estimate = _estimate(hours)

    assert estimate.probability_in_stock_by(NOW) == pytest.approx(0.2)
    assert estimate.probability_in_stock_by(NOW - timedelta(seconds=1)) == 0.0


def test_probability_accepts_any_offset_for_the_same_instant() -> None:
    estimate = _estimate()
    in_new_york = (NOW + timedelta(hours=59)).astimezone(timezone(timedelta(hours=-5)))

    assert estimate.probability_in_stock_by(in_new_york) == pytest.approx(0.5)


def test_r17_to_dict_survives_json_and_round_trips_exactly() -> None:
    estimate = InStockEstimate(
        computed_at=NOW,
        model_version="prior-1+history-37-0123abcd",
        basis="history",
        history_count=37,
        hours=tuple(h / 3 for h in RISING),
    )

    stored = json.loads(json.dumps(estimate.to_dict()))

    assert stored["computed_at"] == "2025-03-03T12:00:00+00:00"
    assert InStockEstimate.from_dict(stored) == estimate


def test_from_dict_refuses_a_different_level_grid() -> None:
    stored = _estimate().to_dict()
    stored["levels"] = [0.5] * len(LEVELS)

    with pytest.raises(InvalidEstimateInput):
        InStockEstimate.from_dict(stored)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("computed_at", "2025-03-03T12:00:00"),
        ("computed_at", "not a date"),
        ("hours", "many"),
        ("history_count", True),
        ("basis", "guess"),
    ],
)
def test_from_dict_refuses_malformed_records(field: str, value: object) -> None:
    stored = _estimate().to_dict()
    stored[field] = value

    with pytest.raises(InvalidEstimateInput):
        InStockEstimate.from_dict(stored)


def test_an_estimate_refuses_naive_time_decreasing_or_negative_hours() -> None:
    with pytest.raises(InvalidEstimateInput):
        InStockEstimate(NOW.replace(tzinfo=None), "prior-1", "prior", 0, RISING)
    with pytest.raises(InvalidEstimateInput):
        _estimate(tuple(reversed(RISING)))
    with pytest.raises(InvalidEstimateInput):
        _estimate(tuple(h - 20.0 for h in RISING))
    with pytest.raises(InvalidEstimateInput):
        _estimate(RISING[:-1])


def test_computed_at_is_kept_in_utc() -> None:
    local = NOW.astimezone(timezone(timedelta(hours=9)))

    estimate = InStockEstimate(local, "prior-1", "prior", 0, RISING)

    assert estimate.computed_at.utcoffset() == timedelta(0)
    assert estimate.computed_at == NOW


# Grids on a one-minute resolution: finer steps than a datetime's microsecond mean nothing.
_grids = st.lists(
    st.integers(min_value=0, max_value=30_000), min_size=len(LEVELS), max_size=len(LEVELS)
).map(lambda minutes: tuple(m / 60 for m in sorted(minutes)))


@given(grid=_grids, p=st.floats(0.001, 0.999), q=st.floats(0.001, 0.999))
def test_quantile_never_decreases_as_p_rises(grid: tuple[float, ...], p: float, q: float) -> None:
    estimate = _estimate(grid)
    low, high = min(p, q), max(p, q)

    assert estimate.quantile(low) <= estimate.quantile(high)


@given(grid=_grids, a=st.floats(-50.0, 600.0), b=st.floats(-50.0, 600.0))
def test_probability_never_decreases_as_t_moves_later(
    grid: tuple[float, ...], a: float, b: float
) -> None:
    estimate = _estimate(grid)
    early = NOW + timedelta(hours=min(a, b))
    late = NOW + timedelta(hours=max(a, b))

    p_early = estimate.probability_in_stock_by(early)
    p_late = estimate.probability_in_stock_by(late)

    assert 0.0 <= p_early <= p_late <= 1.0


@given(grid=_grids, p=st.floats(0.01, 0.999))
def test_probability_by_the_p_quantile_is_at_least_p(grid: tuple[float, ...], p: float) -> None:
    estimate = _estimate(grid)

    assert estimate.probability_in_stock_by(estimate.quantile(p)) >= p - 1e-6
