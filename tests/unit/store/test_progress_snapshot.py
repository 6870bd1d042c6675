"""A shipment's progress kept as JSON with its estimate, so an outcome can be scored later."""

from __future__ import annotations

from dataclasses import replace

from headstart.domain.estimate.stages import progress_at
from headstart.store.mappers import progress_from_dict, progress_to_dict
from tests.unit.estimate.history_builders import parcel_history

SHIPMENT = parcel_history(3)[1]


def test_a_progress_snapshot_round_trips_with_its_fc_load() -> None:
    assert SHIPMENT.delivered_at is not None
    progress = replace(
        progress_at(SHIPMENT, SHIPMENT.delivered_at),
        fc_backlog=12,
        fc_deliveries_7d=40,
        fc_arrivals=(1, 2, 3),
        fc_backlog_at_delivery=9,
        fc_deliveries_7d_at_delivery=30,
    )

    assert progress_from_dict(progress_to_dict(progress)) == progress


def test_a_snapshot_stored_before_the_load_at_delivery_was_kept_still_reads() -> None:
    stored = progress_to_dict(progress_at(SHIPMENT, SHIPMENT.in_stock_at))
    del stored["fc_backlog_at_delivery"], stored["fc_deliveries_7d_at_delivery"]
    progress = progress_from_dict(stored)

    assert (progress.fc_backlog_at_delivery, progress.fc_deliveries_7d_at_delivery) == (None, None)
