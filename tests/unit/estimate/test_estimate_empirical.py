"""EmpiricalEstimator: the core release's in-stock time model (section 4, R2a, R4, R9, R12)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from headstart.domain.estimate import (
    MODES,
    ClosedShipment,
    EmpiricalEstimator,
    InStockEstimate,
    InStockEstimator,
    InvalidEstimateInput,
    ShipmentProgress,
)

SHIPPED = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)  # off-peak
PEAK_SHIPPED = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PRIOR = EmpiricalEstimator()


def _progress(mode: str = "parcel", shipped_at: datetime = SHIPPED) -> ShipmentProgress:
    return ShipmentProgress(
        mode=mode,
        carrier_program="partnered_carrier",
        origin="CN-SHA" if mode in ("ocean", "air") else "US-NJ",
        destination_fc="EWR4",
        shipped_at=shipped_at,
        last_milestone=None,
        last_milestone_at=None,
        carrier_eta=None,
        delivered_at=None,
    )


def _delivered(progress: ShipmentProgress, at: datetime) -> ShipmentProgress:
    return replace(progress, last_milestone="delivered", last_milestone_at=at, delivered_at=at)


def _closed(
    n: int, transit_days: float, receiving_days: float | None, mode: str = "parcel"
) -> list[ClosedShipment]:
    """n closed shipments, shipped a minute apart in spring (off-peak), all alike."""
    history = []
    for i in range(n):
        shipped = datetime(2024, 3, 1, tzinfo=UTC) + i * timedelta(minutes=1)
        delivered = None if receiving_days is None else shipped + transit_days * DAY
        in_stock = shipped + (transit_days + (receiving_days or 0.0)) * DAY
        history.append(
            ClosedShipment(
                mode, "partnered_carrier", "US-NJ", "EWR4", shipped, delivered, in_stock, 100, 98
            )
        )
    return history


def _days_after(t: datetime, start: datetime) -> float:
    return (t - start) / DAY


def test_r4_prior_estimate_for_parcel_is_days_not_weeks() -> None:
    estimate = PRIOR.estimate(_progress("parcel"), SHIPPED)

    # 3-5 d in transit + receiving of median 1.5 d and p90 4 d (PARAMETERS.md).
    assert 4.0 <= _days_after(estimate.p50, SHIPPED) <= 7.0
    assert 7.0 <= _days_after(estimate.p97, SHIPPED) <= 14.0
    assert estimate.basis == "prior"
    assert estimate.history_count == 0
    assert estimate.model_version == "prior-1"


def test_r4_prior_estimate_for_ocean_is_several_weeks() -> None:
    estimate = PRIOR.estimate(_progress("ocean"), SHIPPED)

    # Door to door 18-40 d plus receiving; ~11.6 d of padding at sea for 97% (PARAMETERS.md).
    assert 21.0 <= _days_after(estimate.p50, SHIPPED) <= 35.0
    assert 35.0 <= _days_after(estimate.p97, SHIPPED) <= 56.0


def test_every_mode_has_a_fresh_estimate_with_rising_quantiles() -> None:
    for mode in MODES:
        estimate = PRIOR.estimate(_progress(mode), SHIPPED)

        assert SHIPPED < estimate.p50 < estimate.p90 < estimate.p97 < estimate.p99, mode


def test_peak_season_shipments_wait_longer_for_receiving() -> None:
    off_peak = PRIOR.estimate(_progress("parcel", SHIPPED), SHIPPED)
    peak = PRIOR.estimate(_progress("parcel", PEAK_SHIPPED), PEAK_SHIPPED)

    assert _days_after(peak.p97, PEAK_SHIPPED) > _days_after(off_peak.p97, SHIPPED) + 7.0


def test_a_delivered_shipment_is_much_narrower_than_one_at_sea() -> None:
    at_sea_now = SHIPPED + 10 * DAY
    at_sea = PRIOR.estimate(_progress("ocean"), at_sea_now)
    delivered_now = SHIPPED + 30 * DAY
    delivered = PRIOR.estimate(
        _delivered(_progress("ocean"), delivered_now - timedelta(hours=2)), delivered_now
    )

    assert (delivered.p97 - delivered.p50) * 2 < at_sea.p97 - at_sea.p50
    assert (delivered.p97 - delivered_now) * 3 < at_sea.p97 - at_sea_now


def test_r9_parcel_ten_days_in_transit_still_has_time_left_and_lands_later_than_fresh() -> None:
    fresh = PRIOR.estimate(_progress("parcel"), SHIPPED)
    now = SHIPPED + 10 * DAY

    overdue = PRIOR.estimate(_progress("parcel"), now)

    assert overdue.hours[0] >= 0.0
    assert overdue.p50 > now
    assert overdue.p50 > fresh.p97
    assert overdue.p97 > fresh.p97


def test_r12_a_shipment_delivered_weeks_ago_and_not_received_still_gets_a_real_tail() -> None:
    delivered_at = SHIPPED + 5 * DAY
    now = delivered_at + 60 * DAY

    estimate = PRIOR.estimate(_delivered(_progress("parcel"), delivered_at), now)

    assert estimate.p50 > now
    assert estimate.p97 - now >= DAY


def test_a_checked_in_milestone_without_delivered_event_conditions_on_receiving() -> None:
    checked_in_at = SHIPPED + 4 * DAY
    now = checked_in_at + timedelta(hours=1)
    progress = replace(
        _progress("ocean"), last_milestone="checked_in", last_milestone_at=checked_in_at
    )

    estimate = PRIOR.estimate(progress, now)

    assert estimate.p97 - now < 10 * DAY  # receiving only, not a voyage


def test_history_of_ten_day_parcels_pulls_the_median_toward_ten_days() -> None:
    without = PRIOR.estimate(_progress("parcel"), SHIPPED)
    with_history = EmpiricalEstimator(_closed(200, 9.0, 1.0)).estimate(_progress("parcel"), SHIPPED)
    dominant = EmpiricalEstimator(_closed(2000, 9.0, 1.0)).estimate(_progress("parcel"), SHIPPED)

    assert _days_after(without.p50, SHIPPED) < 7.0
    assert _days_after(with_history.p50, SHIPPED) > _days_after(without.p50, SHIPPED) + 1.0
    assert _days_after(with_history.p50, SHIPPED) <= 10.0 + 1e-6
    assert _days_after(dominant.p50, SHIPPED) == pytest.approx(10.0)
    assert with_history.basis == "history"
    assert with_history.history_count == 200


def test_history_of_one_mode_leaves_other_modes_on_the_prior() -> None:
    estimator = EmpiricalEstimator(_closed(200, 9.0, 1.0, mode="parcel"))

    ltl = estimator.estimate(_progress("ltl"), SHIPPED)

    assert ltl.hours == PRIOR.estimate(_progress("ltl"), SHIPPED).hours
    assert ltl.basis == "prior"
    assert ltl.history_count == 0


def test_off_peak_history_does_not_talk_a_peak_shipment_into_an_off_peak_promise() -> None:
    estimator = EmpiricalEstimator(_closed(200, 2.0, 0.5))

    peak = estimator.estimate(_progress("parcel", PEAK_SHIPPED), PEAK_SHIPPED)

    assert peak.hours == PRIOR.estimate(_progress("parcel", PEAK_SHIPPED), PEAK_SHIPPED).hours
    assert peak.basis == "prior"


def test_r4_basis_flips_to_history_at_min_history_closed_shipments() -> None:
    short = EmpiricalEstimator(_closed(29, 4.0, 1.0)).estimate(_progress(), SHIPPED)
    enough = EmpiricalEstimator(_closed(30, 4.0, 1.0)).estimate(_progress(), SHIPPED)

    assert (short.basis, short.history_count) == ("prior", 29)
    assert (enough.basis, enough.history_count) == ("history", 30)


def test_history_without_a_delivery_time_informs_the_total_but_not_receiving() -> None:
    estimator = EmpiricalEstimator(_closed(200, 10.0, None))
    delivered_at = SHIPPED + 4 * DAY
    now = delivered_at + timedelta(hours=3)
    delivered = _delivered(_progress(), delivered_at)

    fresh = estimator.estimate(_progress(), SHIPPED)

    prior_p50 = _days_after(PRIOR.estimate(_progress(), SHIPPED).p50, SHIPPED)
    assert _days_after(fresh.p50, SHIPPED) > prior_p50 + 1.0
    assert estimator.estimate(delivered, now).hours == PRIOR.estimate(delivered, now).hours


def test_r17_model_version_changes_with_history_but_not_with_its_order() -> None:
    history = _closed(40, 4.0, 1.0) + _closed(5, 20.0, 2.0, mode="ocean")

    forward = EmpiricalEstimator(history)
    backward = EmpiricalEstimator(list(reversed(history)))
    shorter = EmpiricalEstimator(history[1:])
    other_durations = EmpiricalEstimator(_closed(40, 4.5, 1.0) + _closed(5, 20.0, 2.0, "ocean"))

    assert PRIOR.version == "prior-1"
    assert forward.version.startswith("prior-1+history-45-")
    assert forward.version == backward.version
    assert len({PRIOR.version, forward.version, shorter.version, other_durations.version}) == 4
    assert forward.estimate(_progress(), SHIPPED).model_version == forward.version


def test_model_version_changes_with_the_settings() -> None:
    assert EmpiricalEstimator(prior_weight=50).version != PRIOR.version
    assert EmpiricalEstimator(seed=1).version != EmpiricalEstimator(seed=2).version


def test_same_inputs_and_seed_give_identical_estimates() -> None:
    history = _closed(50, 4.0, 1.5)
    progress = _progress("ocean")
    now = SHIPPED + 12 * DAY

    first = EmpiricalEstimator(history, seed=11).estimate(progress, now)
    second = EmpiricalEstimator(history, seed=11).estimate(progress, now)

    assert first == second
    assert first.to_dict() == second.to_dict()


def test_r2a_unvalidated_tracking_a_day_after_shipping_widens_the_estimate() -> None:
    now = SHIPPED + 2 * DAY
    validated = PRIOR.estimate(_progress(), now)

    unvalidated = PRIOR.estimate(replace(_progress(), tracking_validated=False), now)

    assert unvalidated.p97 > validated.p97
    assert unvalidated.p97 - now == pytest.approx((validated.p97 - now) * 1.25, abs=DAY / 1e6)


def test_r2a_tracking_not_yet_validated_within_its_first_day_is_not_penalised() -> None:
    now = SHIPPED + timedelta(hours=6)
    validated = PRIOR.estimate(_progress(), now)

    unvalidated = PRIOR.estimate(replace(_progress(), tracking_validated=False), now)

    assert unvalidated.hours == validated.hours


def test_a_carrier_eta_can_push_the_estimate_later_but_never_earlier() -> None:
    now = SHIPPED + DAY
    plain = PRIOR.estimate(_progress(), now)
    late_eta = SHIPPED + 12 * DAY
    early_eta = SHIPPED + 2 * DAY

    pushed = PRIOR.estimate(replace(_progress(), carrier_eta=late_eta), now)
    not_pulled = PRIOR.estimate(replace(_progress(), carrier_eta=early_eta), now)

    assert pushed.quantile(0.01) >= late_eta
    assert pushed.p50 > plain.p50
    assert not_pulled.hours == plain.hours


def test_a_shipment_not_yet_shipped_first_waits_for_its_ship_date() -> None:
    now = SHIPPED - 2 * DAY

    early = PRIOR.estimate(_progress(), now)

    assert early.p50 == PRIOR.estimate(_progress(), SHIPPED).p50
    assert early.computed_at == now


def test_estimate_is_computed_at_now_in_utc() -> None:
    now = (SHIPPED + DAY).astimezone(PEAK_SHIPPED.tzinfo)

    estimate = PRIOR.estimate(_progress(), now)

    assert estimate.computed_at == now
    assert estimate.computed_at.utcoffset() == timedelta(0)
    assert InStockEstimate.from_dict(estimate.to_dict()) == estimate


def test_estimate_refuses_a_naive_now() -> None:
    with pytest.raises(InvalidEstimateInput):
        PRIOR.estimate(_progress(), datetime(2025, 3, 4))  # noqa: DTZ001 - the naive time under test


@pytest.mark.parametrize(
    "settings",
    [{"prior_samples": 0}, {"prior_weight": 0}, {"min_history": -1}, {"unvalidated_widening": 0.9}],
)
def test_estimator_refuses_settings_that_empty_the_prior_or_narrow_estimates(
    settings: dict[str, int | float],
) -> None:
    with pytest.raises(InvalidEstimateInput):
        EmpiricalEstimator(**settings)  # type: ignore[arg-type]


def test_empirical_estimator_serves_as_an_in_stock_estimator() -> None:
    estimator: InStockEstimator = PRIOR

    assert estimator.estimate(_progress("air"), SHIPPED).model_version == estimator.version


def test_an_estimate_takes_well_under_a_millisecond() -> None:
    progress = _progress("ocean")
    now = SHIPPED + 10 * DAY
    runs = 500

    started = time.perf_counter()
    for _ in range(runs):
        PRIOR.estimate(progress, now)
    per_call = (time.perf_counter() - started) / runs

    assert per_call < 0.001


def test_building_the_estimator_without_history_is_quick() -> None:
    started = time.perf_counter()
    EmpiricalEstimator(seed=9173)  # a seed no other test uses: nothing memoised yet

    assert time.perf_counter() - started < 0.5  # ~0.15 s measured; slack for a busy CI
