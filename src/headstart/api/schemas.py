"""Request bodies of the public contract (DESIGN.md section 5), validated at the edge."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    UrlConstraints,
)

from headstart.domain.calendar import EARLIEST_INSTANT, LATEST_INSTANT
from headstart.domain.delivery import EVENT_TYPES, SCOPE_ALL, SCOPE_STOREFRONT
from headstart.domain.estimate import CARRIER_PROGRAMS, MILESTONES, MODES

Units = Annotated[int, Field(strict=True, gt=0, le=1_000_000, description="whole units, > 0")]
# Numbers are strict throughout: a JSON true or false is not a number (lax mode reads 1/0).
# The widest id the schema stores (store/types.RowId: 64 bits on both engines): a larger
# one in a query is a 422, not an overflow.
MAX_ROW_ID = 2**63 - 1
CODE_PATTERN = r"^[A-Za-z0-9._:-]+$"
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=CODE_PATTERN)]
# Printable text only: a NUL or other control character is refused, never stored.
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
_ADDRESS_PART = r"[^@\s\x00-\x1f\x7f]+"
EMAIL = rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}$"
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)]


def _supported(value: datetime) -> datetime:
    if not EARLIEST_INSTANT <= value < LATEST_INSTANT:
        raise ValueError(
            f"must lie from {EARLIEST_INSTANT.isoformat()} to before {LATEST_INSTANT.isoformat()}"
        )
    return value


# An ISO 8601 instant with an offset, within the years the date arithmetic can carry.
Instant = Annotated[AwareDatetime, AfterValidator(_supported)]
# The vocabularies of DESIGN.md section 5, defined once in the domain.
CarrierProgram = Literal[CARRIER_PROGRAMS]  # type: ignore[valid-type]
Mode = Literal[MODES]  # type: ignore[valid-type]
EventType = Literal[MILESTONES]  # type: ignore[valid-type]


class Body(BaseModel):
    """Unknown fields are refused, so a misspelt field never silently does nothing."""

    model_config = ConfigDict(extra="forbid")


class FulfillmentCenterIn(Body):
    code: Code
    time_zone: Annotated[
        str, Field(examples=["America/Los_Angeles"], max_length=64, pattern=PRINTABLE)
    ]
    region: Code
    handling_days: Annotated[int, Field(strict=True, ge=0, le=30)] = 1
    cutoff_local_time: time = time(14, 0)
    holidays: list[date] = []
    outbound_transit_days: dict[Code, Annotated[int, Field(strict=True, ge=0, le=60)]]
    operating_weekdays: Annotated[
        list[Annotated[int, Field(strict=True, ge=0, le=6)]], Field(min_length=1, max_length=7)
    ] = [0, 1, 2, 3, 4]


class SellerIn(Body):
    name: Text
    email: Annotated[str, Field(max_length=320, pattern=EMAIL)]


class ProductIn(Body):
    title: Annotated[str, Field(min_length=1, max_length=300, pattern=PRINTABLE)]
    price: Annotated[Decimal, Field(ge=0, le=10_000_000, decimal_places=2)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    head_start_excluded: bool = False
    head_start_cap: Annotated[int, Field(strict=True, ge=0)] | None = None
    seller_id: Code | None = Field(None, description="required when an operator calls")


class AdjustmentIn(Body):
    sku: Code
    fc: Code
    delta: Annotated[int, Field(strict=True, ge=-1_000_000, le=1_000_000)]
    reason: Text


class LineIn(Body):
    sku: Code
    quantity: Units


class ShipmentIn(Body):
    shipment_id: Code
    destination_fc: Code
    carrier_program: CarrierProgram
    mode: Mode
    carrier: Text
    tracking_ids: list[Annotated[str, Field(min_length=1, max_length=100, pattern=PRINTABLE)]] = []
    origin: Text
    created_at: Instant | None = None
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=1000)]
    seller_id: Code | None = Field(None, description="required when an operator calls")


class ShipIn(Body):
    shipped_at: Instant


class TrackingEventIn(Body):
    event_id: Annotated[str, Field(min_length=1, max_length=128, pattern=PRINTABLE)]
    shipment_id: Code
    type: EventType
    occurred_at: Instant
    location: Annotated[str, Field(max_length=200, pattern=PRINTABLE)] | None = None
    carrier_eta: Instant | None = None
    reason: Literal["lost", "damaged", "refused"] | None = None


class TrackingBatchIn(Body):
    events: Annotated[list[TrackingEventIn], Field(min_length=1, max_length=5000)]


class ReceiptIn(Body):
    receipt_id: Annotated[str, Field(min_length=1, max_length=128, pattern=PRINTABLE)]
    received_at: Instant
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=1000)]


class OrderIn(Body):
    sku: Code
    quantity: Units
    region: Code
    buyer_ref: Text


class StorefrontKeyIn(Body):
    name: Text


class ClockIn(Body):
    now: Instant | None = None
    advance_hours: Annotated[float, Field(strict=True, ge=0, le=24 * 366)] | None = None
    rate: Annotated[float, Field(strict=True, ge=0, le=100_000)] | None = Field(
        None, description="sandbox seconds per real second (0 stops the clock)"
    )


class PolicyIn(Body):
    q: Annotated[float, Field(strict=True, gt=0.5, lt=1)] | None = None
    q_low: Annotated[float, Field(strict=True, ge=0.5, lt=1)] | None = None
    horizon_days: Annotated[int, Field(strict=True, ge=1, le=365)] | None = None
    fallback_q: Annotated[float, Field(strict=True, gt=0.5, lt=1)] | None = None
    default_shrink: Annotated[Decimal, Field(ge=0, lt=1)] | None = None
    max_slip_days: Annotated[int, Field(strict=True, ge=0, le=365)] | None = None
    consent_slip_days: Annotated[int, Field(strict=True, ge=0, le=365)] | None = None
    admit_own_carrier: bool | None = None
    min_on_time_rate: Annotated[float, Field(strict=True, ge=0, le=1)] | None = None
    on_time_window: Annotated[int, Field(strict=True, ge=1, le=10_000)] | None = None


WebhookEvent = Literal[tuple(EVENT_TYPES.values())]  # type: ignore[valid-type]


class WebhookIn(Body):
    url: Annotated[HttpUrl, UrlConstraints(max_length=2048, allowed_schemes=["http", "https"])]
    events: (
        Annotated[list[WebhookEvent], Field(min_length=1, max_length=len(EVENT_TYPES))] | None
    ) = Field(None, description="omitted: every event the webhook's scope receives")
    scope: Literal[SCOPE_ALL, SCOPE_STOREFRONT] | None = Field(  # type: ignore[valid-type]
        None,
        description=(
            "operator keys only: 'all' (default) or 'storefront' (order.* and offer.changed); "
            "a seller's webhook hears its own events"
        ),
    )
