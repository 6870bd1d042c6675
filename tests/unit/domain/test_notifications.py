"""R15: what the notifications say (R1 opt-out, R9/R9a delays, R10/R11 cancellations)."""

from __future__ import annotations

from headstart.domain.notifications import (
    delay_notice,
    offer_changed,
    opt_out_confirmation,
    order_cancelled,
    short_receipt,
)
from headstart.domain.promise import make_promise
from tests.unit.domain.builders import FRI, THU, fc_los_angeles, utc

LA = fc_los_angeles()
NOW = utc(2025, 6, 2, 17)
OLD = make_promise(LA, THU, "us-west", NOW, confidence=0.97, on_hand=False)  # delivered 8 June
NEW = make_promise(LA, FRI, "us-west", NOW, confidence=0.98, on_hand=False)  # delivered 11 June


def test_r1_opt_out_confirmation_states_t_c_plus_72h() -> None:
    confirmed_at = utc(2025, 6, 2, 15, 30)

    note = opt_out_confirmation("seller-1", "shop@example.com", confirmed_at)

    assert note.kind == "opt_out_confirmation"
    assert note.recipient == "shop@example.com"
    assert "2025-06-05T15:30:00+00:00" in note.body
    assert "2025-06-02T15:30:00+00:00" in note.body
    assert note.payload["effective_for_shipments_created_from"] == "2025-06-05T15:30:00+00:00"
    assert note.dedupe_key == "opt_out:seller-1:2025-06-02T15:30:00+00:00"


def test_r9a_delay_notice_states_the_new_date_and_the_one_step_cancel_path() -> None:
    note = delay_notice(
        "ord-7", "buyer-9", OLD, NEW, requires_consent=False, seq=1, seller_id="seller-1"
    )

    assert note.recipient == "buyer:buyer-9"
    assert "2025-06-11" in note.body
    assert "2025-06-08" in note.body
    assert "POST /v1/orders/ord-7/cancel" in note.body
    assert "full refund" in note.body
    assert note.payload["cancel_path"] == "/v1/orders/ord-7/cancel"
    assert note.payload["requires_consent"] is False
    assert "If you do nothing, your order stays open with the new date." in note.body


def test_r9a_delay_notice_needing_consent_says_silence_cancels() -> None:
    note = delay_notice(
        "ord-7", "buyer-9", OLD, NEW, requires_consent=True, seq=2, seller_id="seller-1"
    )

    assert "without your confirmation it will be cancelled and fully refunded" in note.body
    assert note.payload["requires_consent"] is True


def test_r15_each_delay_of_an_order_is_recorded_once_under_its_own_key() -> None:
    first = delay_notice(
        "ord-7", "buyer-9", OLD, NEW, requires_consent=False, seq=1, seller_id="seller-1"
    )
    again = delay_notice(
        "ord-7", "buyer-9", OLD, NEW, requires_consent=False, seq=1, seller_id="seller-1"
    )
    second = delay_notice(
        "ord-7", "buyer-9", NEW, NEW, requires_consent=True, seq=2, seller_id="seller-1"
    )

    assert first.dedupe_key == again.dedupe_key == "delay:ord-7:1"
    assert second.dedupe_key == "delay:ord-7:2"


def test_r10_cancellation_tells_the_buyer_the_reason_and_the_refund() -> None:
    note = order_cancelled("ord-7", "buyer-9", "max_slip_exceeded", seller_id="seller-1")

    assert note.recipient == "buyer:buyer-9"
    assert "max_slip_exceeded" in note.body
    assert "refunded in full" in note.body
    assert note.payload == {
        "seller_id": "seller-1",
        "order_id": "ord-7",
        "reason": "max_slip_exceeded",
    }


def test_r11_short_receipt_lists_each_sku_shortfall() -> None:
    note = short_receipt("seller-1", "shop@example.com", "S-1", {"SKU-B": 2, "SKU-A": 5})

    assert "SKU-A: 5 short, SKU-B: 2 short" in note.body
    assert note.dedupe_key == "short:S-1"


def test_r16_offer_change_goes_to_the_storefront() -> None:
    note = offer_changed("SKU-1", {"buyable": False}, seq=3, seller_id="seller-1")

    assert (note.recipient, note.dedupe_key) == ("storefront", "offer:SKU-1:3")
    assert note.payload == {"seller_id": "seller-1", "sku": "SKU-1", "offer": {"buyable": False}}
