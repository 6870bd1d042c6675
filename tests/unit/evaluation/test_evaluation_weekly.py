"""The weekly series: per ISO week of the promise and per bucket, raw and corrected scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from headstart.evaluation.replay import OCEAN_AT_SEA, Prediction
from headstart.evaluation.weekly import weekly_of

MONDAY_W43 = datetime(2025, 10, 20, 9, 0, tzinfo=UTC)  # ISO week 2025-W43


def _promise(
    bucket: str, made_at: datetime, actual_days: float, promised_days: float, raw_days: float
) -> Prediction:
    return Prediction(
        shipment_id="S1",
        bucket=bucket,
        peak=True,
        made_at=made_at,
        actual_hours=actual_days * 24.0,
        promised_hours=promised_days * 24.0,
        raw_hours=raw_days * 24.0,
        baseline_hours={},
    )


def test_a_promise_counts_in_the_iso_week_it_was_made_in_its_bucket_and_overall() -> None:
    sunday_night = MONDAY_W43 + timedelta(days=6, hours=14)  # still W43
    next_monday = MONDAY_W43 + timedelta(days=7)  # W44
    promises = [
        _promise("parcel", MONDAY_W43, 2.0, 3.0, 2.5),
        _promise("parcel", sunday_night, 2.0, 4.0, 1.0),
        _promise(OCEAN_AT_SEA, sunday_night, 20.0, 18.0, 15.0),
        _promise("parcel", next_monday, 5.0, 6.0, 6.0),
    ]

    cells = weekly_of(promises)

    assert [(c.week, c.bucket, c.count) for c in cells] == [
        ("2025-W43", "overall", 3),
        ("2025-W43", "parcel", 2),
        ("2025-W43", OCEAN_AT_SEA, 1),
        ("2025-W44", "overall", 1),
        ("2025-W44", "parcel", 1),
    ]


def test_a_week_reports_raw_and_corrected_coverage_and_mean_padding_apart() -> None:
    # The correction saved one of two raw misses; padding is promised minus actual, in days.
    promises = [
        _promise("air", MONDAY_W43, 5.0, 6.0, 5.5),  # both cover
        _promise("air", MONDAY_W43, 5.0, 7.0, 4.0),  # raw misses, corrected covers
        _promise("air", MONDAY_W43, 9.0, 8.0, 7.0),  # both miss
        _promise("air", MONDAY_W43, 2.0, 5.0, 2.0),  # raw exactly on time covers
    ]

    air = next(c for c in weekly_of(promises) if c.bucket == "air")

    assert air.count == 4
    assert air.coverage == pytest.approx(3 / 4)
    assert air.raw_coverage == pytest.approx(2 / 4)
    assert air.mean_padding_days == pytest.approx((1.0 + 2.0 - 1.0 + 3.0) / 4)
    assert air.raw_mean_padding_days == pytest.approx((0.5 - 1.0 - 2.0 + 0.0) / 4)
