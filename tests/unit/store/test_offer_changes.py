"""Which offers a transaction changed, as its NOTIFY tells every process (issue 8)."""

from __future__ import annotations

from headstart.store.offer_changes import (
    EVERYTHING,
    MAX_PAYLOAD,
    OfferChanges,
    parse_payload,
)


def test_a_transaction_that_wrote_nothing_an_offer_reads_notifies_nothing() -> None:
    changes = OfferChanges()
    changes.record("tracking_events", [{"event_id": "E1"}])
    changes.record("outbox", [{"kind": "offer_changed"}])

    assert changes.payload() is None


def test_rows_naming_their_sku_change_that_skus_offers() -> None:
    changes = OfferChanges()
    changes.record("orders", [{"sku": "SKU-1", "source": "head_start", "allocated_at": None}])
    changes.record("stock", [{"stock_sku": "SKU-2", "sellable": 3}])

    assert parse_payload(str(changes.payload())) == ["SKU-1", "SKU-2"]


def test_a_row_without_its_sku_changes_everything_unless_the_skus_were_declared() -> None:
    undeclared = OfferChanges()
    undeclared.record("shipments", [{"status": "delivered", "shipments_id": "SH-1"}])
    declared = OfferChanges()
    declared.record("shipments", [{"status": "delivered", "shipments_id": "SH-1"}])
    declared.skus.add("SKU-1")  # what publish_if_changed declares

    assert undeclared.payload() == EVERYTHING
    assert declared.payload() == '["SKU-1"]'


def test_a_policy_fc_seller_or_model_changes_everything() -> None:
    for table in ("settings", "fulfillment_centers", "sellers", "estimator_models", None):
        changes = OfferChanges()
        changes.record(table, [{}])
        assert changes.payload() == EVERYTHING, table


def test_r4_a_head_start_order_allocated_or_cancelled_changes_everything() -> None:
    # it enters the seller's on-time record, which every SKU of the seller reads
    allocated, cancelled, in_stock = OfferChanges(), OfferChanges(), OfferChanges()
    allocated.record("orders", [{"allocated_at": "2026-03-02T15:00:00+00:00", "orders_seq": 1}])
    cancelled.record("orders", [{"order_seq": 1, "cancel_reason": "no_supply"}])
    in_stock.record(
        "orders", [{"sku": "SKU-1", "source": "in_stock", "allocated_at": "2026-03-02"}]
    )

    assert allocated.payload() == EVERYTHING
    assert cancelled.payload() == EVERYTHING
    assert in_stock.payload() == '["SKU-1"]'


def test_more_skus_than_a_notification_holds_changes_everything() -> None:
    changes = OfferChanges()
    changes.skus.update(f"SKU-{n:06d}" for n in range(MAX_PAYLOAD // 8))

    assert changes.payload() == EVERYTHING


def test_a_payload_that_is_not_a_list_of_skus_means_everything() -> None:
    assert parse_payload("*") is None
    assert parse_payload("not json") is None
    assert parse_payload('{"sku": 1}') is None
    assert parse_payload('["A","B"]') == ["A", "B"]
