"""R5: never promise units that are not coming: the shrink haircut and its learning."""

from __future__ import annotations

from decimal import Decimal

from headstart.domain.policy import Policy
from headstart.domain.supply import head_start_quantity, learned_shrink
from tests.unit.domain.builders import POLICY, estimate_between, fc_los_angeles, lot, utc

NOW = utc(2025, 6, 2, 19)


def test_r5_head_start_quantity_floors_after_shrink() -> None:
    assert head_start_quantity(20, 0, Decimal("0.05")) == 19
    assert head_start_quantity(19, 0, Decimal("0.05")) == 18  # 18.05 rounds down
    assert head_start_quantity(10, 0, Decimal("0")) == 10


def test_r5_head_start_quantity_subtracts_received_units_never_below_zero() -> None:
    assert head_start_quantity(20, 5, Decimal("0.05")) == 14
    assert head_start_quantity(20, 19, Decimal("0.05")) == 0
    assert head_start_quantity(20, 20, Decimal("0.05")) == 0


def test_r5_learned_shrink_is_the_default_without_history() -> None:
    assert learned_shrink(0, 0, POLICY) == Decimal("0.0500")


def test_r5_learned_shrink_moves_from_default_toward_observed_rate() -> None:
    # given a seller whose shipments arrive 20% short
    some = learned_shrink(200, 160, POLICY)
    much = learned_shrink(20_000, 16_000, POLICY)
    # then more history pulls the rate further toward 0.20
    assert some == Decimal("0.1250")  # (40 + 0.05 * 200) / (200 + 200)
    assert Decimal("0.05") < some < much < Decimal("0.20")
    assert much == Decimal("0.1985")


def test_r5_learned_shrink_falls_for_a_seller_who_delivers_in_full() -> None:
    assert learned_shrink(1_800, 1_800, POLICY) == Decimal("0.0050")


def test_r5_lot_with_no_units_left_after_shrink_does_not_count() -> None:
    placed = lot(fc_los_angeles(), estimate_between(NOW, 24, 48), 0, NOW)

    assert (placed.counted, placed.usable, placed.reasons) == (
        False,
        False,
        ("no_units_left_after_shrink",),
    )


def test_r5_learned_shrink_without_history_is_the_default_even_with_no_prior_weight() -> None:
    observed_only = Policy(shrink_prior_units=0)

    assert learned_shrink(0, 0, observed_only) == Decimal("0.0500")
