"""The schema: one table per stored concept. Changes go through Alembic."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    MetaData,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from headstart.store.types import RowId, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        date: Date(),
        dict[str, Any]: JSON(),
    }


class FulfillmentCenterRow(Base):
    __tablename__ = "fulfillment_centers"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(64))
    handling_days: Mapped[int]
    cutoff_local_time: Mapped[str] = mapped_column(String(8))
    holidays: Mapped[list[str]] = mapped_column(JSON)
    outbound_transit_days: Mapped[dict[str, int]] = mapped_column(JSON)
    operating_weekdays: Mapped[list[int]] = mapped_column(JSON)


class SellerRow(Base):
    __tablename__ = "sellers"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    enrollment: Mapped[dict[str, Any]] = mapped_column(JSON)
    shrink: Mapped[str] = mapped_column(String(12))  # Decimal as text (R5)
    closed_units_shipped: Mapped[int] = mapped_column(default=0)
    closed_units_received: Mapped[int] = mapped_column(default=0)
    # R4 as the last sweep judged it: when a sweep judges otherwise, the seller's SKUs
    # with inbound lots are refreshed (the use cases judge it afresh each time).
    head_start_suppressed: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime]


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    # HMAC-SHA256(server secret, SHA-256(key)), see services/keys.py (issue 7).
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))  # the key's public id (Principal.id)
    role: Mapped[str] = mapped_column(String(16))
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class ProductRow(Base):
    __tablename__ = "products"
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    price_minor: Mapped[int]  # integer minor units, never float
    currency: Mapped[str] = mapped_column(String(3))
    head_start_excluded: Mapped[bool] = mapped_column(default=False)
    head_start_cap: Mapped[int | None]
    offer_seq: Mapped[int] = mapped_column(default=0)
    offer: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # last published (R16)
    updated_at: Mapped[datetime]


class StockRow(Base):
    """Physical units of a SKU at an FC; the row order placement locks (R8)."""

    __tablename__ = "stock"
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True)
    fc: Mapped[str] = mapped_column(ForeignKey("fulfillment_centers.code"), primary_key=True)
    sellable: Mapped[int] = mapped_column(default=0)
    allocated: Mapped[int] = mapped_column(default=0)


class ShipmentRow(Base):
    __tablename__ = "shipments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"), index=True)
    destination_fc: Mapped[str] = mapped_column(ForeignKey("fulfillment_centers.code"))
    carrier_program: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))
    carrier: Mapped[str] = mapped_column(String(200))
    tracking_ids: Mapped[list[str]] = mapped_column(JSON)
    tracking_validated: Mapped[bool] = mapped_column(default=False)
    origin: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), index=True)
    exception_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    shipped_at: Mapped[datetime | None]
    last_milestone: Mapped[str | None] = mapped_column(String(32))
    last_milestone_at: Mapped[datetime | None]
    carrier_eta: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    in_stock_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    estimate: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # What the milestone model conditions on (section 4): each milestone's first instant,
    # and the carrier's first ETA (how far the latest one slipped from it).
    milestones: Mapped[dict[str, str] | None] = mapped_column(JSON)
    first_carrier_eta: Mapped[datetime | None]
    # The FC's backlog and deliveries in the 7 days before, when the shipment was delivered
    # (``services.fc_load.load_at``): the load its receiving met, which the model scales an
    # at-FC estimate by.
    fc_backlog_at_delivery: Mapped[int | None]
    fc_deliveries_7d_at_delivery: Mapped[int | None]

    # Each FC's load (``services.fc_load``), read on every shipping, tracking batch,
    # receipt and sweep, from these alone: a row carries its estimate's JSON, and reading
    # a thousand of them cost more than the rest of the load's work.
    __table_args__ = (
        Index("ix_shipments_delivered_at_fc", "delivered_at", "destination_fc"),
        Index(
            "ix_shipments_fc_load",
            "status", "delivered_at", "destination_fc", "in_stock_at", "shipped_at", "mode",
            "carrier_eta",
        ),
    )  # fmt: skip


class ShipmentLineRow(Base):
    __tablename__ = "shipment_lines"
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True, index=True)
    quantity_shipped: Mapped[int]
    quantity_received: Mapped[int] = mapped_column(default=0)


class TrackingEventRow(Base):
    __tablename__ = "tracking_events"
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(String(200))
    carrier_eta: Mapped[datetime | None]
    recorded_at: Mapped[datetime]


class ReceiptRow(Base):
    __tablename__ = "receipts"
    receipt_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    received_at: Mapped[datetime]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    recorded_at: Mapped[datetime]


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("idempotency_scope", "idempotency_key"),
        Index("ix_orders_sku_status", "sku", "status"),
        # The sweeps: waiting orders whose consent or promised date has passed (R9, R9a).
        Index("ix_orders_status_promised_in_stock_date", "status", "promised_in_stock_date"),
        # A SKU's head-start orders without its in-stock ones.
        Index("ix_orders_sku_source", "sku", "source"),
        # R4: a seller's recent head-start orders, newest first, read without walking
        # the seller's catalogue (the seller's on-time record and their order list).
        Index(
            "ix_orders_seller_id_seq_head_start",
            "seller_id",
            "seq",
            postgresql_where=text("source = 'head_start'"),
            sqlite_where=text("source = 'head_start'"),
        ),
    )
    seq: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    # The product's seller, copied when the order is placed (a product never changes
    # seller: services/catalog.py refuses it), so R4 reads a seller's orders by index.
    seller_id: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int]
    region: Mapped[str] = mapped_column(String(64))
    buyer_ref: Mapped[str] = mapped_column(String(200))
    placed_by: Mapped[str] = mapped_column(String(64))  # the storefront key's name, or "operator"
    fc: Mapped[str] = mapped_column(ForeignKey("fulfillment_centers.code"))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    promise: Mapped[dict[str, Any]] = mapped_column(JSON)
    promised_in_stock_date: Mapped[date]
    promised_ship_date: Mapped[date]
    first_promise: Mapped[dict[str, Any]] = mapped_column(JSON)
    slips: Mapped[int] = mapped_column(default=0)
    consent_due_at: Mapped[datetime | None]  # R9a: cancelled unless confirmed by then
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)  # R17
    placed_at: Mapped[datetime]
    allocated_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(64))
    idempotency_scope: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))


class OrderRevisionRow(Base):
    __tablename__ = "order_revisions"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(300))  # e.g. "inventory_adjustment:<why>"
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # R17


class OutboxRow(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(String)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    # pending → delivered | failed | unrouted (no channel reaches anyone); rows are never deleted
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)  # summed over its deliveries
    last_error: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]  # when its last delivery succeeded
    routed_at: Mapped[datetime | None]  # when the sender split it into deliveries


class WebhookRow(Base):
    """A receiver of notifications (R15, R16); soft-deleted so past deliveries keep their target."""

    __tablename__ = "webhooks"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str] | None] = mapped_column(JSON)  # None: every event of its scope
    scope: Mapped[str] = mapped_column(String(16))  # all | storefront | seller
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"), index=True)
    # HMAC-SHA256 signing key shared with the receiver: stored as issued, since it must sign.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class DeliveryRow(Base):
    """One notification on one channel to one target, retried on its own (R15)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("outbox_id", "channel", "target"),
        Index("ix_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(RowId, ForeignKey("outbox.id"))
    channel: Mapped[str] = mapped_column(String(16))  # email | webhook | nats
    target: Mapped[str] = mapped_column(String(2048))  # address, webhook id or subject
    webhook_id: Mapped[str | None] = mapped_column(ForeignKey("webhooks.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed | cancelled
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    # A sender's lease on the row: after it passes (a crashed sender) another may send.
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String)
    transport: Mapped[str | None] = mapped_column(String(16))  # smtp, maildir, http, nats, ...
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class OfferDecisionRow(Base):
    """R16/R17: each published change of a SKU's offer, with the inputs behind it."""

    __tablename__ = "offer_decisions"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), index=True)
    at: Mapped[datetime]
    offer: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)


class SettingRow(Base):
    """Operator policy and the sandbox clock: values every process must share."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)


class EstimatorModelRow(Base):
    """A fitted in-stock model (section 4), versioned; the newest row is the one in use."""

    __tablename__ = "estimator_models"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(120))
    fitted_at: Mapped[datetime]
    history_count: Mapped[int]
    # Outcomes up to this id were in the history it was fitted on; later ones calibrate it.
    outcomes_upto: Mapped[int] = mapped_column(RowId, default=0)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class EstimateSnapshotRow(Base):
    """An estimate a promise could rest on, with what the model was told (for calibration)."""

    __tablename__ = "estimate_snapshots"
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    computed_at: Mapped[datetime]
    progress: Mapped[dict[str, Any]] = mapped_column(JSON)
    estimate: Mapped[dict[str, Any]] = mapped_column(JSON)
    # When the promise quantile passes with the shipment not in stock; cleared once the
    # snapshot is judged (overdue, or its outcome), so the sweep reads only open ones.
    deadline: Mapped[datetime | None] = mapped_column(index=True)


class CalibrationOutcomeRow(Base):
    """What a snapshot turned out to be; appended, never changed, applied in id order.

    ``kind`` is ``in_stock`` (the shipment came into stock at ``in_stock_at``) or
    ``overdue`` (its promise quantile passed at ``in_stock_at`` with the shipment not in
    stock: a miss known before the outcome, which follows as an ``in_stock`` row).
    """

    __tablename__ = "calibration_outcomes"
    __table_args__ = (UniqueConstraint("snapshot_id", "kind"),)
    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[int] = mapped_column(RowId, ForeignKey("estimate_snapshots.id"))
    kind: Mapped[str] = mapped_column(String(16), server_default="in_stock")
    in_stock_at: Mapped[datetime]
    weight: Mapped[float]
    recorded_at: Mapped[datetime]


class WebSessionRow(Base):
    """A signed-in browser (issue 5): the API key's principal, behind an opaque cookie.

    Only the SHA-256 of the cookie's token is stored, like API keys; the CSRF token
    every form of the session must carry is stored as issued, since pages show it.
    """

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    principal_id: Mapped[str] = mapped_column(String(64))
    seller_id: Mapped[str | None] = mapped_column(String(40))
    csrf_token: Mapped[str] = mapped_column(String(64))
    time_zone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
