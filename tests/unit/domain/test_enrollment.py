"""R1: enrollment is per seller; an opt-out stops shipments created 72 h after its confirmation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from headstart.domain.enrollment import Enrollment, EnrollmentState
from headstart.domain.errors import Conflict
from headstart.domain.supply import participation
from tests.unit.domain.builders import POLICY, enrolled_since, shipment, utc

ENROLLED_AT = utc(2025, 5, 1, 9)
T_C = utc(2025, 6, 2, 15, 30)  # opt-out confirmation time
MICROSECOND = timedelta(microseconds=1)


def test_r1_opt_out_records_confirmation_time_and_effective_instant_72h_later() -> None:
    # given an enrolled seller
    enrollment = enrolled_since(ENROLLED_AT)
    # when they opt out
    opted = enrollment.opt_out(T_C)
    # then t_c is recorded and shipments created from t_c + 72h stop participating
    assert opted.opt_out_confirmed_at == T_C
    assert opted.effective_for_shipments_created_from == utc(2025, 6, 5, 15, 30)


def test_r1_shipment_created_exactly_72h_after_opt_out_does_not_participate() -> None:
    opted = enrolled_since(ENROLLED_AT).opt_out(T_C)

    decision = participation(shipment(T_C + timedelta(hours=72)), opted, POLICY)

    assert opted.covers(T_C + timedelta(hours=72)) is False
    assert decision.participates is False
    assert decision.reasons == ("seller_not_enrolled_when_created",)


def test_r1_shipment_created_1us_before_72h_after_opt_out_participates() -> None:
    opted = enrolled_since(ENROLLED_AT).opt_out(T_C)

    decision = participation(shipment(T_C + timedelta(hours=72) - MICROSECOND), opted, POLICY)

    assert decision.participates is True
    assert decision.reasons == ()


def test_r1_shipment_created_before_opt_out_keeps_participating_after_it_takes_effect() -> None:
    # given a shipment created while enrolled, judged long after the opt-out took effect
    opted = enrolled_since(ENROLLED_AT).opt_out(T_C)
    # then its creation time is still covered
    assert opted.covers(T_C - timedelta(days=10)) is True
    assert participation(shipment(T_C - timedelta(days=10)), opted, POLICY).participates is True


def test_r1_shipment_created_before_first_enrollment_does_not_participate() -> None:
    enrollment = enrolled_since(ENROLLED_AT)

    assert enrollment.covers(ENROLLED_AT - MICROSECOND) is False
    assert enrollment.covers(ENROLLED_AT) is True


def test_r1_never_enrolled_seller_covers_nothing() -> None:
    assert Enrollment().covers(T_C) is False
    assert Enrollment().state_at(T_C) is EnrollmentState.NOT_ENROLLED


def test_r1_state_is_opt_out_requested_until_72h_then_opted_out() -> None:
    opted = enrolled_since(ENROLLED_AT).opt_out(T_C)
    effective = T_C + timedelta(hours=72)

    assert enrolled_since(ENROLLED_AT).state_at(T_C) is EnrollmentState.ENROLLED
    assert opted.state_at(T_C) is EnrollmentState.OPT_OUT_REQUESTED
    assert opted.state_at(effective - MICROSECOND) is EnrollmentState.OPT_OUT_REQUESTED
    assert opted.state_at(effective) is EnrollmentState.OPTED_OUT


def test_r1_opt_out_when_not_enrolled_is_a_conflict() -> None:
    with pytest.raises(Conflict) as raised:
        Enrollment().opt_out(T_C)

    assert raised.value.code == "conflict"


def test_r1_opt_out_twice_is_a_conflict() -> None:
    opted = enrolled_since(ENROLLED_AT).opt_out(T_C)

    with pytest.raises(Conflict):
        opted.opt_out(T_C + timedelta(hours=1))
    with pytest.raises(Conflict):
        opted.opt_out(T_C + timedelta(days=5))


def test_r1_enroll_when_already_enrolled_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        enrolled_since(ENROLLED_AT).enroll(T_C)


def test_r1_reenrolling_covers_only_shipments_created_after_it() -> None:
    # given a seller whose opt-out took effect, enrolling again ten days later
    reenrolled_at = T_C + timedelta(days=10)
    enrollment = enrolled_since(ENROLLED_AT).opt_out(T_C).enroll(reenrolled_at)
    # then the gap between the opt-out's effect and the new enrollment is not covered
    assert enrollment.state_at(reenrolled_at) is EnrollmentState.ENROLLED
    assert enrollment.enrolled_at == reenrolled_at
    assert enrollment.covers(T_C + timedelta(hours=72)) is False
    assert enrollment.covers(reenrolled_at - MICROSECOND) is False
    assert enrollment.covers(reenrolled_at) is True
    # and the first period still covers what it covered
    assert enrollment.covers(T_C) is True


def test_r1_reenrolling_clears_the_opt_out() -> None:
    reenrolled_at = T_C + timedelta(days=10)
    enrollment = enrolled_since(ENROLLED_AT).opt_out(T_C).enroll(reenrolled_at)

    assert enrollment.opt_out_confirmed_at is None
    assert enrollment.effective_for_shipments_created_from is None


def test_r1_enrollment_round_trips_through_its_record() -> None:
    enrollment = enrolled_since(ENROLLED_AT).opt_out(T_C).enroll(T_C + timedelta(days=10))

    assert Enrollment.from_dict(enrollment.to_dict()) == enrollment
