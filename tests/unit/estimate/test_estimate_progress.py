"""What the estimator is told: validated on construction, UTC inside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from headstart.domain.estimate import ClosedShipment, InvalidEstimateInput, ShipmentProgress

SHIPPED = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def test_progress_keeps_every_instant_in_utc() -> None:
    shanghai = timezone(timedelta(hours=8))

    progress = ShipmentProgress(
        "ocean", "global_logistics", "CN-SHA", "ONT8", SHIPPED.astimezone(shanghai),
        "departed_origin", SHIPPED.astimezone(shanghai), None, None,
    )  # fmt: skip

    assert progress.shipped_at == SHIPPED
    assert progress.shipped_at.utcoffset() == timedelta(0)
    assert progress.last_milestone_at is not None
    assert progress.last_milestone_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "changes",
    [
        {"mode": "rail"},
        {"carrier_program": "pigeon"},
        {"shipped_at": datetime(2025, 3, 1)},  # noqa: DTZ001 - the naive time under test
        {"last_milestone": "teleported", "last_milestone_at": SHIPPED},
        {"last_milestone": "booked"},
    ],
)
def test_progress_refuses_unknown_vocabulary_naive_times_and_half_milestones(
    changes: dict[str, object],
) -> None:
    fields: dict[str, object] = {
        "mode": "parcel",
        "carrier_program": "partnered_carrier",
        "origin": "US-NJ",
        "destination_fc": "EWR4",
        "shipped_at": SHIPPED,
        "last_milestone": None,
        "last_milestone_at": None,
        "carrier_eta": None,
        "delivered_at": None,
    } | changes

    with pytest.raises(InvalidEstimateInput):
        ShipmentProgress(**fields)  # type: ignore[arg-type]


def test_a_checked_in_shipment_counts_as_arrived_even_without_a_delivered_event() -> None:
    checked_in = SHIPPED + timedelta(days=4)

    progress = ShipmentProgress(
        "parcel", "partnered_carrier", "US-NJ", "EWR4", SHIPPED, "checked_in", checked_in,
        None, None,
    )  # fmt: skip

    assert progress.arrived_at == checked_in


def test_closed_shipment_refuses_times_out_of_order() -> None:
    with pytest.raises(InvalidEstimateInput):
        ClosedShipment(
            "parcel", "partnered_carrier", "US-NJ", "EWR4", SHIPPED, None,
            SHIPPED - timedelta(hours=1), 10, 10,
        )  # fmt: skip
    with pytest.raises(InvalidEstimateInput):
        ClosedShipment(
            "parcel", "partnered_carrier", "US-NJ", "EWR4", SHIPPED,
            SHIPPED + timedelta(days=9), SHIPPED + timedelta(days=5), 10, 10,
        )  # fmt: skip
    with pytest.raises(InvalidEstimateInput):
        ClosedShipment(
            "parcel", "partnered_carrier", "US-NJ", "EWR4", SHIPPED, None,
            SHIPPED + timedelta(days=5), -1, 0,
        )  # fmt: skip
