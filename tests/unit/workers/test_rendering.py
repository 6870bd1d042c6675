"""R1, R9a, R10, R11: what the e-mails say, in text and HTML."""

from __future__ import annotations

from datetime import UTC, datetime

from headstart.domain.notifications import (
    Notification,
    delay_notice,
    opt_out_confirmation,
    order_cancelled,
    short_receipt,
)
from headstart.domain.promise import make_promise
from headstart.workers.rendering import MessageRenderer, Notice
from tests.unit.domain.builders import FRI, THU, fc_los_angeles, utc

RENDERER = MessageRenderer("https://shop.example/")
LA = fc_los_angeles()
NOW = utc(2025, 6, 2, 17)


def notice_of(note: Notification) -> Notice:
    return Notice(
        id=1,
        kind=note.kind,
        recipient=note.recipient,
        subject=note.subject,
        body=note.body,
        payload=dict(note.payload),
        dedupe_key=note.dedupe_key,
        created_at=datetime(2025, 6, 2, 15, 30, tzinfo=UTC),
    )


def test_r1_opt_out_email_states_the_instant_new_shipments_stop_participating() -> None:
    note = opt_out_confirmation("seller-1", "shop@example.com", utc(2025, 6, 2, 15, 30))

    rendered = RENDERER.render(notice_of(note))

    for body in (rendered.text, rendered.html):
        assert "2025-06-05T15:30:00+00:00" in body
        assert "2025-06-02T15:30:00+00:00" in body
        assert "every promise already made to buyers is honored" in body
    assert rendered.subject == "Head Start opt-out confirmed"


def test_r9a_delay_email_has_the_new_date_and_a_one_step_cancel_link() -> None:
    old = make_promise(LA, THU, "us-west", NOW, confidence=0.97, on_hand=False)
    new = make_promise(LA, FRI, "us-west", NOW, confidence=0.98, on_hand=False)
    note = delay_notice("ord-7", "b-9", old, new, requires_consent=True, seq=1, seller_id="s-1")

    rendered = RENDERER.render(notice_of(note))

    link = "https://shop.example/v1/orders/ord-7/cancel"
    assert "by 2025-06-11 instead of 2025-06-08" in rendered.text
    assert link in rendered.text
    assert f'href="{link}"' in rendered.html
    assert "full refund" in rendered.text
    assert "without your confirmation it will be cancelled" in rendered.text


def test_r10_cancellation_email_gives_the_reason_and_the_refund() -> None:
    note = order_cancelled("ord-7", "b-9", "max_slip_exceeded", seller_id="s-1")

    rendered = RENDERER.render(notice_of(note))

    assert "(max_slip_exceeded)" in rendered.text
    assert "refunded in full" in rendered.html


def test_r11_short_receipt_email_lists_each_sku_shortfall() -> None:
    note = short_receipt("s-1", "shop@example.com", "S-1", {"SKU-B": 2, "SKU-A": 5})

    rendered = RENDERER.render(notice_of(note))

    assert "SKU-A: 5 short" in rendered.text
    assert "SKU-B: 2 short" in rendered.text
    assert '<td style="padding: 0.25rem 1rem 0.25rem 0">SKU-A</td>' in rendered.html


def test_r15_html_bodies_escape_stored_text() -> None:
    note = short_receipt("s-1", "shop@example.com", "S-1", {"<b>SKU</b>": 1})

    rendered = RENDERER.render(notice_of(note))

    assert "&lt;b&gt;SKU&lt;/b&gt;" in rendered.html
    assert "<b>SKU</b>" not in rendered.html
    assert "<b>SKU</b>: 1 short" in rendered.text
