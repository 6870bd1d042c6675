"""Which inbound supply counts (R2, R2a) and whether it is known well enough (R4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from headstart.domain.policy import Policy
from headstart.domain.supply import (
    SHIPPED_STATUSES,
    Participation,
    is_placement_changed,
    is_suppressed,
    participation,
    place_lot,
    tracking_is_overdue,
)
from tests.unit.domain.builders import (
    POLICY,
    enrolled_since,
    estimate_between,
    estimate_steps,
    fc_los_angeles,
    lot,
    shipment,
    utc,
)

ENROLLED = enrolled_since(utc(2025, 1, 1))
CREATED = utc(2025, 6, 1, 8)
SHIPPED_AT = utc(2025, 6, 2, 8)
NOW = utc(2025, 6, 2, 19)  # Monday 12:00 in Los Angeles
OWN_CARRIER_ADMITTED = Policy(admit_own_carrier=True)


# ---------------------------------------------------------------- R2 / R2a


@pytest.mark.parametrize("status", sorted(SHIPPED_STATUSES))
def test_r2_shipped_eligible_shipment_of_enrolled_seller_participates(status: str) -> None:
    decision = participation(shipment(CREATED, status=status), ENROLLED, POLICY)

    assert decision == Participation(participates=True, reasons=())


@pytest.mark.parametrize(
    "program", ["partnered_carrier", "marketplace_freight", "global_logistics"]
)
def test_r2_marketplace_carrier_programs_are_eligible(program: str) -> None:
    decision = participation(shipment(CREATED, carrier_program=program), ENROLLED, POLICY)

    assert decision.participates is True


def test_r2_shipment_created_while_not_enrolled_does_not_participate() -> None:
    decision = participation(
        shipment(CREATED), enrolled_since(CREATED + timedelta(hours=1)), POLICY
    )

    assert decision == Participation(False, ("seller_not_enrolled_when_created",))


def test_r2a_own_carrier_is_not_eligible_by_default_even_with_validated_tracking() -> None:
    facts = shipment(CREATED, carrier_program="own_carrier", tracking_validated=True)

    decision = participation(facts, ENROLLED, POLICY)

    assert decision == Participation(False, ("carrier_program_not_eligible",))


def test_r2a_own_carrier_admitted_by_policy_participates_with_validated_tracking() -> None:
    facts = shipment(CREATED, carrier_program="own_carrier", tracking_validated=True)

    decision = participation(facts, ENROLLED, OWN_CARRIER_ADMITTED)

    assert decision == Participation(True, ())


def test_r2a_own_carrier_admitted_by_policy_needs_validated_tracking() -> None:
    facts = shipment(CREATED, carrier_program="own_carrier", tracking_validated=False)

    decision = participation(facts, ENROLLED, OWN_CARRIER_ADMITTED)

    assert decision == Participation(False, ("own_carrier_tracking_not_validated",))


def test_r2_shipment_still_working_has_not_shipped() -> None:
    decision = participation(shipment(CREATED, status="working"), ENROLLED, POLICY)

    assert decision == Participation(False, ("shipment_not_shipped",))


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("exception", "shipment_exception"),
        ("cancelled", "shipment_cancelled"),
        ("closed", "shipment_closed"),
    ],
)
def test_r2_exception_cancelled_or_closed_shipment_does_not_participate(
    status: str, reason: str
) -> None:
    decision = participation(shipment(CREATED, status=status), ENROLLED, POLICY)

    assert decision == Participation(False, (reason,))


def test_r2_every_failed_condition_is_reported() -> None:
    facts = shipment(CREATED, carrier_program="own_carrier", status="working")

    decision = participation(facts, enrolled_since(NOW), POLICY)

    assert decision.reasons == (
        "seller_not_enrolled_when_created",
        "carrier_program_not_eligible",
        "shipment_not_shipped",
    )


def test_r2a_unvalidated_tracking_is_overdue_exactly_24h_after_shipping() -> None:
    facts = shipment(CREATED, tracking_validated=False, shipped_at=SHIPPED_AT)
    day_later = SHIPPED_AT + timedelta(hours=24)

    assert tracking_is_overdue(facts, POLICY, day_later - timedelta(microseconds=1)) is False
    assert tracking_is_overdue(facts, POLICY, day_later) is True


def test_r2a_validated_or_unshipped_tracking_is_never_overdue() -> None:
    late = SHIPPED_AT + timedelta(days=5)
    validated = shipment(CREATED, tracking_validated=True, shipped_at=SHIPPED_AT)
    unshipped = shipment(CREATED, tracking_validated=False, shipped_at=None)

    assert tracking_is_overdue(validated, POLICY, late) is False
    assert tracking_is_overdue(unshipped, POLICY, late) is False


# ---------------------------------------------------------------- R4


def test_r4_lot_whose_q_quantile_is_exactly_at_the_horizon_counts() -> None:
    # given an estimate whose 0.97-quantile is exactly now + 21 days
    estimate = estimate_between(NOW, 21 * 24, 21 * 24)
    # when the lot is placed
    placed = lot(fc_los_angeles(), estimate, 10, NOW)
    # then it offers supply on that (local) date
    assert placed.counted is True
    assert placed.reasons == ()
    assert placed.in_stock_date == fc_los_angeles().local_date(NOW + timedelta(days=21))


def test_r4_lot_whose_q_quantile_is_1s_beyond_the_horizon_does_not_count() -> None:
    estimate = estimate_between(NOW, 21 * 24 + 1 / 3600, 21 * 24 + 1 / 3600)

    placed = lot(fc_los_angeles(), estimate, 10, NOW)

    assert placed.counted is False
    assert placed.reasons == ("beyond_horizon",)
    assert placed.usable is True  # R10: it may still serve orders already promised


def test_r4_thin_history_uses_the_wider_fallback_quantile() -> None:
    # given the same distribution, once from history and once from the prior
    steps = {0.90: 48.0, 0.97: 72.0, 0.999: 120.0}  # q at +3 days, fallback_q at +5 days
    from_history = lot(fc_los_angeles(), estimate_steps(NOW, steps), 10, NOW)
    from_prior = lot(fc_los_angeles(), estimate_steps(NOW, steps, basis="prior"), 10, NOW)
    # then the prior-based lot is promised at the 0.99 quantile: a later date
    assert (from_history.quantile, from_history.in_stock_date.isoformat()) == (0.97, "2025-06-05")
    assert (from_prior.quantile, from_prior.in_stock_date.isoformat()) == (0.99, "2025-06-07")


def test_r4_thin_history_lot_beyond_horizon_at_fallback_quantile_does_not_count() -> None:
    steps = {0.97: 20 * 24.0, 0.999: 22 * 24.0}  # q inside H, fallback_q beyond it

    assert lot(fc_los_angeles(), estimate_steps(NOW, steps), 10, NOW).counted is True
    prior = lot(fc_los_angeles(), estimate_steps(NOW, steps, basis="prior"), 10, NOW)
    assert prior.reasons == ("beyond_horizon",)


def test_r4_stale_estimate_never_puts_a_lot_in_the_past() -> None:
    placed = lot(fc_los_angeles(), estimate_between(NOW - timedelta(days=9), 1, 2), 10, NOW)

    assert placed.in_stock_date == fc_los_angeles().local_date(NOW)
    assert placed.keep_date == fc_los_angeles().local_date(NOW)


def test_r4_lot_of_non_participating_shipment_neither_counts_nor_serves() -> None:
    refused = Participation(False, ("shipment_exception",))

    placed = lot(fc_los_angeles(), estimate_between(NOW, 24, 48), 10, NOW, participation=refused)

    assert (placed.counted, placed.usable, placed.reasons) == (
        False,
        False,
        ("shipment_exception",),
    )


def test_r4_suppression_is_not_judged_before_10_outcomes() -> None:
    assert is_suppressed([False] * 9, POLICY) is False
    assert is_suppressed([False] * 10, POLICY) is True


def test_r4_suppressed_only_below_90_percent_on_time() -> None:
    assert is_suppressed([True] * 9 + [False], POLICY) is False  # exactly 90%
    assert is_suppressed([True] * 45 + [False] * 5, POLICY) is False  # exactly 90% of 50
    assert is_suppressed([True] * 44 + [False] * 6, POLICY) is True


def test_r4_suppression_judges_only_the_last_50_promises() -> None:
    recovered = [False] * 100 + [True] * 50
    relapsed = [True] * 100 + [True] * 44 + [False] * 6

    assert is_suppressed(recovered, POLICY) is False
    assert is_suppressed(relapsed, POLICY) is True


# ---------------------------------------------------------------- R9/R12: what a re-estimate moves


def test_r12_re_estimate_to_the_same_dates_moves_no_lot() -> None:
    # given a shipment estimated on Monday noon (LA) to be in stock within 2-3 days
    before = estimate_between(NOW, 48, 72)
    # when it is re-estimated a day later, its quantiles a day closer (the same instants)
    later = NOW + timedelta(days=1)
    after = estimate_between(later, 24, 48)
    # then its lots keep their dates and nothing it backs needs a refresh
    assert is_placement_changed(fc_los_angeles(), before, after, POLICY, later) is False


def test_r12_re_estimate_a_day_later_moves_the_lot() -> None:
    before = estimate_between(NOW, 48, 72)
    later = NOW + timedelta(days=1)

    after = estimate_between(later, 48, 72)  # silence: still 2-3 days away

    assert is_placement_changed(fc_los_angeles(), before, after, POLICY, later) is True


def test_r12_a_shipment_estimated_for_the_first_time_always_moves() -> None:
    assert is_placement_changed(fc_los_angeles(), None, estimate_between(NOW, 1, 2), POLICY, NOW)


def test_r4_a_lot_coming_within_the_horizon_with_time_alone_moves() -> None:
    # given an estimate whose q-quantile lay 1 hour beyond H when it was made
    before = estimate_between(NOW, 21 * 24 + 1, 21 * 24 + 1)
    # when it is re-estimated 2 hours later to the very same instant
    later = NOW + timedelta(hours=2)
    after = estimate_between(later, 21 * 24 - 1, 21 * 24 - 1)
    # then the lot counts now, though its dates did not move
    assert place_lot(fc_los_angeles(), after, POLICY, later).beyond_horizon is False
    assert is_placement_changed(fc_los_angeles(), before, after, POLICY, later) is True


def test_r4_place_lot_gives_the_dates_build_lot_uses() -> None:
    estimate = estimate_steps(NOW, {0.90: 48.0, 0.999: 72.0})

    placed = place_lot(fc_los_angeles(), estimate, POLICY, NOW)
    built = lot(fc_los_angeles(), estimate, 10, NOW)

    assert (placed.in_stock_date, placed.keep_date, placed.quantile) == (
        built.in_stock_date,
        built.keep_date,
        built.quantile,
    )
    assert placed.beyond_horizon is False
