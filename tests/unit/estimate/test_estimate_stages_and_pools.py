"""Where a shipment stands (stages, phases, replay snapshots), pools and FC load."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from headstart.domain.estimate import HistoryEvent
from headstart.domain.estimate.calibrated import progress_seen
from headstart.domain.estimate.fc_load import (
    FcLoadIndex,
    LoadEffect,
    fit_load_effect,
    persistence_days,
)
from headstart.domain.estimate.pools import Pool, chain_weights, draw_chain
from headstart.domain.estimate.stages import (
    phase_of,
    progress_at,
    snapshot_times,
    stage_of,
    walk,
)
from tests.unit.estimate.history_builders import DAY, SPRING, parcel_history, shipment

OCEAN = shipment(
    1, mode="ocean", origin="CN-SHA", fc="LAX1", transit_days=30.0, receiving_days=2.0,
    milestones=("departed_origin", "in_transit", "arrived_port", "customs_released"),
    program="global_logistics",
)  # fmt: skip


def _with_late_scan(s):  # type: ignore[no-untyped-def]
    """A carrier 'in_transit' scan after berthing and an ETA update: neither moves the stage."""
    port = next(e for e in s.events if e.type == "arrived_port").occurred_at
    extra = (
        HistoryEvent("in_transit", port + timedelta(hours=6)),
        HistoryEvent("eta_update", port + timedelta(hours=7), port + 5 * DAY),
    )
    return replace(s, events=tuple(sorted(s.events + extra, key=lambda e: e.occurred_at)))


def test_the_stage_is_the_furthest_milestone_not_the_latest_scan() -> None:
    ocean = _with_late_scan(OCEAN)
    port = next(e for e in ocean.events if e.type == "arrived_port").occurred_at
    at = port + timedelta(hours=8)

    progress = progress_at(ocean, at)

    assert progress.last_milestone == "in_transit"
    assert stage_of(progress) == ("arrived_port", port)
    assert phase_of(progress) == "berthed"
    assert progress.carrier_eta == port + 5 * DAY
    assert progress.first_carrier_eta == OCEAN.delivered_at


def test_walk_agrees_with_progress_at_at_every_snapshot() -> None:
    ocean = _with_late_scan(OCEAN)
    for snap in walk(ocean):
        progress = progress_at(ocean, snap.at)
        assert (snap.stage, snap.stage_at) == stage_of(progress)
        assert snap.carrier_eta == progress.carrier_eta


def test_snapshots_run_from_shipping_to_just_before_in_stock() -> None:
    times = snapshot_times(OCEAN)

    assert times[0] == OCEAN.shipped_at
    assert times[-1] == OCEAN.delivered_at
    assert len(times) == 1 + len(OCEAN.events)


def test_a_shipment_seen_only_shipped_is_en_route_and_a_delivered_one_at_the_fc() -> None:
    assert phase_of(progress_at(OCEAN, OCEAN.shipped_at)) == "en_route"
    assert phase_of(progress_at(OCEAN, OCEAN.delivered_at)) == "at_fc"  # type: ignore[arg-type]


def test_chain_weights_shrink_a_lane_toward_its_parent_by_n_over_n_plus_k() -> None:
    lane = Pool.of([10.0] * 30)
    parent = Pool.of(list(range(100)))

    weights, behind = chain_weights([(lane, 30.0), (parent, 30.0)], [0.0, 0.0])

    assert weights == pytest.approx([0.5, 0.5])
    assert behind == 30


def test_draws_are_conditioned_on_the_time_already_spent() -> None:
    pool = Pool.of(list(range(1, 101)))

    draws, _ = draw_chain([(pool, 1.0)], [50.0], 100)

    assert draws.min() >= 0.0
    assert np.median(draws) == pytest.approx(25.0, abs=1.5)


def test_a_pool_past_its_tail_answers_with_the_excess_over_the_tail_not_zero() -> None:
    pool = Pool.of(list(range(1, 101)))

    draws, _ = draw_chain([(pool, 1.0)], [1000.0], 50)

    assert draws.max() > 0.0


def test_the_fc_backlog_counts_delivered_and_not_yet_in_stock() -> None:
    history = parcel_history(40)
    index = FcLoadIndex.of(history)
    at = history[20].delivered_at
    assert at is not None
    expected = sum(
        1 for s in history if s.delivered_at is not None and s.delivered_at <= at < s.in_stock_at
    )
    recent = sum(1 for s in history if s.delivered_at and at - 7 * DAY < s.delivered_at <= at)

    assert index.load_at("EWR1", at) == (expected, recent)
    assert index.load_at("NOWHERE", SPRING) == (0, 0)


def test_the_load_effect_recovers_how_receiving_time_follows_deliveries() -> None:
    rng = np.random.default_rng(3)
    deliveries = rng.uniform(50, 200, 2000)
    log_hours = 0.8 * np.log(deliveries / 100.0) + rng.normal(0.0, 0.2, 2000) + 3.0

    effect = fit_load_effect(
        ["X"] * 2000, ["X|off"] * 2000, log_hours, rng.uniform(10, 20, 2000), deliveries
    )

    assert effect.beta_deliveries == pytest.approx(0.8, abs=0.05)
    assert effect.beta_backlog == pytest.approx(0.0, abs=0.05)


def test_persistence_reads_the_e_folding_time_of_the_daily_load() -> None:
    rng = np.random.default_rng(4)
    x = np.zeros(3000)
    for t in range(1, 3000):
        x[t] = np.exp(-1 / 10) * x[t - 1] + rng.normal()

    assert persistence_days({"X": x}) == pytest.approx(10.0, rel=0.25)


def test_a_weighted_pool_takes_weighted_quantiles_but_counts_its_values() -> None:
    pool = Pool.of([1.0, 2.0, 3.0, 4.0], weights=[1.0, 1.0, 1.0, 5.0])

    assert pool.count == 4
    assert float(np.median(pool.values)) > 3.0


def test_a_wait_far_past_the_pools_tail_is_stretched_by_how_far_past_it_is() -> None:
    pool = Pool.of([float(v) for v in range(1, 101)])
    threshold = pool.tail_threshold

    near = pool.draw(threshold, np.array([0.5]))[0]
    far = pool.draw(2 * threshold, np.array([0.5]))[0]

    assert far == pytest.approx(2 * near)
    assert pool.quantile_beyond(np.array([2 * threshold]), 0.5)[0] == pytest.approx(far)


def test_peak_has_its_own_load_coefficients_once_fitted() -> None:
    effect = LoadEffect(0.5, 0.0, 7.0, {"X": (100.0, 10.0)}, peak_betas=(2.0, 0.0))

    off = effect.log_factor("X", 10, 199, peak=False)
    peak = effect.log_factor("X", 10, 199, peak=True)

    assert peak == pytest.approx(4 * off)
    assert LoadEffect.from_dict(effect.to_dict()) == effect


def test_a_replayed_snapshot_knows_the_load_its_delivery_met_once_delivered() -> None:
    history = parcel_history(40)
    index = FcLoadIndex.of(history)
    s = history[20]
    assert s.delivered_at is not None

    before = progress_seen(s, s.delivered_at - timedelta(hours=1), index)
    after = progress_seen(s, s.in_stock_at - timedelta(hours=1), index)

    assert (before.fc_backlog_at_delivery, before.fc_deliveries_7d_at_delivery) == (None, None)
    then = (after.fc_backlog_at_delivery, after.fc_deliveries_7d_at_delivery)
    assert then == index.load_at("EWR1", s.delivered_at)
    assert after.fc_backlog == index.load_at("EWR1", s.in_stock_at - timedelta(hours=1))[0]
