"""A small, believable marketplace for ``headstart demo``, built through the real services.

Two FCs in different time zones, three sellers (one opting out), twenty SKUs,
shipments in every status and mode, and a few head-start orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from headstart.bootstrap import Runtime
from headstart.services import catalog, keys, orders, receiving, sellers, shipments, tracking
from headstart.services.sandbox import move_clock
from headstart.services.tracking import TrackingEvent
from headstart.sim.fcs import open_fc

FCS = (
    ("LAX1", "America/Los_Angeles", "us-west", {"us-west": 2, "us-central": 3, "us-east": 5}),
    ("EWR1", "America/New_York", "us-east", {"us-east": 2, "us-central": 3, "us-west": 5}),
)
SELLERS = (
    (
        "Northwind Kitchen",
        "ops@northwind.example",
        "NW",
        (
            "Pour-over kettle",
            "Cast iron skillet",
            "Chef knife 8in",
            "Bamboo cutting board",
            "Espresso tamper",
            "Salad spinner",
            "Dutch oven",
        ),
    ),
    (
        "Blue Harbor Outdoor",
        "hello@blueharbor.example",
        "BH",
        (
            "Trail tent 2p",
            "Down sleeping bag",
            "Camp stove",
            "Headlamp 400lm",
            "Water filter",
            "Trekking poles",
            "Dry bag 20L",
        ),
    ),
    (
        "Cedar & Pine Home",
        "team@cedarpine.example",
        "CP",
        (
            "Linen duvet cover",
            "Wool throw",
            "Ceramic vase",
            "Oak side table",
            "Table lamp",
            "Wall clock",
        ),
    ),
)


@dataclass
class DemoKeys:
    operator: str
    storefront: str
    sellers: dict[str, str] = field(default_factory=dict)  # seller_id -> key
    head_start_sku: str = ""
    seller_id: str = ""


def _event(shipment_id: str, kind: str, at: datetime, eta: datetime | None = None) -> TrackingEvent:
    return TrackingEvent(f"{shipment_id}-{kind}", shipment_id, kind, at, None, eta)


def seed(runtime: Runtime, operator_key: str, now: datetime) -> DemoKeys:
    """Populate an empty sandbox database; returns the keys to print."""
    uow, est = runtime.uow, runtime.estimators
    move_clock(uow(), est, now=now - timedelta(days=20), rate=0.0)
    for code, zone, region, transit in FCS:
        open_fc(uow, code, zone, region, transit)
    demo = DemoKeys(
        operator=operator_key, storefront=keys.create_storefront_key(uow(), "demo-shop")
    )
    skus: dict[str, list[str]] = {}
    for name, email, prefix, titles in SELLERS:
        created = sellers.create_seller(uow(), name, email)
        seller_id = created["seller_id"]
        demo.sellers[seller_id] = created["api_key"]
        sellers.enroll(uow(), seller_id)
        skus[prefix] = []
        for index, title in enumerate(titles, start=1):
            sku = f"{prefix}-{index:03d}"
            catalog.put_product(
                uow(),
                est,
                sku=sku,
                seller_id=seller_id,
                title=title,
                price=Decimal(19 + 7 * index) + Decimal("0.99"),
                currency="USD",
                head_start_excluded=False,
                head_start_cap=None,
            )
            skus[prefix].append(sku)
    nw, bh, cp = (list(demo.sellers)[i] for i in range(3))
    demo.seller_id = nw
    # Twenty days ago: stock that sold down, and shipments that closed.
    _shipment(
        runtime,
        nw,
        "NW-CLOSED-1",
        "LAX1",
        "partnered_carrier",
        "parcel",
        [(skus["NW"][1], 40), (skus["NW"][2], 30)],
        now - timedelta(days=20),
    )
    move_clock(uow(), est, now=now - timedelta(days=15))
    receiving.record_receipt(
        uow(),
        est,
        shipment_id="NW-CLOSED-1",
        receipt_id="NW-CLOSED-1-r1",
        received_at=now - timedelta(days=15),
        lines=[(skus["NW"][1], 39), (skus["NW"][2], 30)],
    )
    receiving.close_shipment(uow(), est, "NW-CLOSED-1")
    for sku, fc, units in ((skus["BH"][3], "EWR1", 25), (skus["CP"][2], "LAX1", 12)):
        catalog.adjust_inventory(uow(), est, sku=sku, fc=fc, delta=units, reason="cycle_count")
    move_clock(uow(), est, now=now - timedelta(hours=1))
    # The inbound pipeline, one shipment per mode and status.
    _shipment(
        runtime,
        nw,
        "NW-PARCEL-7",
        "LAX1",
        "partnered_carrier",
        "parcel",
        [(skus["NW"][0], 20)],
        now - timedelta(days=2),
    )
    demo.head_start_sku = skus["NW"][0]
    _shipment(
        runtime,
        nw,
        "NW-LTL-3",
        "EWR1",
        "marketplace_freight",
        "ltl",
        [(skus["NW"][3], 60), (skus["NW"][4], 24)],
        now - timedelta(days=4),
    )
    _shipment(
        runtime,
        bh,
        "BH-AIR-1",
        "LAX1",
        "global_logistics",
        "air",
        [(skus["BH"][0], 30), (skus["BH"][1], 30)],
        now - timedelta(days=3),
    )
    _shipment(
        runtime,
        bh,
        "BH-OCEAN-9",
        "LAX1",
        "global_logistics",
        "ocean",
        [(skus["BH"][2], 400), (skus["BH"][5], 300)],
        now - timedelta(days=4),
    )
    _shipment(
        runtime,
        bh,
        "BH-FTL-2",
        "EWR1",
        "partnered_carrier",
        "ftl",
        [(skus["BH"][4], 120)],
        now - timedelta(days=1),
    )
    _shipment(
        runtime,
        cp,
        "CP-OWN-1",
        "LAX1",
        "own_carrier",
        "parcel",
        [(skus["CP"][0], 15)],
        now - timedelta(days=2),
    )
    _shipment(
        runtime,
        cp,
        "CP-RECV-4",
        "EWR1",
        "partnered_carrier",
        "ltl",
        [(skus["CP"][1], 50)],
        now - timedelta(days=4),
    )
    _shipment(
        runtime,
        nw,
        "NW-LOST-5",
        "EWR1",
        "partnered_carrier",
        "parcel",
        [(skus["NW"][5], 10)],
        now - timedelta(days=3),
    )
    _shipment(
        runtime,
        nw,
        "NW-DRAFT-8",
        "LAX1",
        "partnered_carrier",
        "parcel",
        [(skus["NW"][6], 16)],
        None,
    )
    _shipment(
        runtime, bh, "BH-VOID-3", "EWR1", "partnered_carrier", "parcel", [(skus["BH"][6], 10)], None
    )
    receiving.close_shipment(uow(), est, "BH-VOID-3")  # never shipped: cancelled
    day = timedelta(days=1)
    tracking.ingest_events(
        uow(),
        est,
        [
            _event("NW-PARCEL-7", "in_transit", now - day),
            _event("NW-LTL-3", "delivered", now - timedelta(hours=20)),
            _event("BH-AIR-1", "departed_origin", now - 2 * day, now + 3 * day),
            _event("BH-OCEAN-9", "departed_origin", now - 3 * day, now + 24 * day),
            _event("CP-RECV-4", "delivered", now - 2 * day),
            _event("CP-RECV-4", "receiving_started", now - day),
            _event("NW-LOST-5", "exception", now - day),
        ],
    )
    receiving.record_receipt(
        uow(),
        est,
        shipment_id="CP-RECV-4",
        receipt_id="CP-RECV-4-r1",
        received_at=now - timedelta(hours=12),
        lines=[(skus["CP"][1], 20)],
    )
    sellers.opt_out(uow(), cp)
    for index, (sku, quantity, region) in enumerate(
        (
            (skus["NW"][0], 2, "us-west"),
            (skus["NW"][0], 1, "us-east"),
            (skus["NW"][3], 3, "us-east"),
            (skus["BH"][0], 1, "us-central"),
        )
    ):
        orders.place_order(
            uow(),
            est,
            sku=sku,
            quantity=quantity,
            region=region,
            buyer_ref=f"demo-buyer-{index + 1}",
            placed_by="demo-seed",
        )
    move_clock(uow(), est, now=now, rate=1.0)  # from here the sandbox clock runs in real time
    return demo


def _shipment(
    runtime: Runtime,
    seller_id: str,
    shipment_id: str,
    fc: str,
    program: str,
    mode: str,
    lines: list[tuple[str, int]],
    shipped_at: datetime | None,
) -> None:
    created = (shipped_at or datetime.now().astimezone()) - timedelta(hours=6)
    with runtime.uow() as probe:
        created = min(created, probe.now())
    shipments.create_shipment(
        runtime.uow(),
        seller_id=seller_id,
        shipment_id=shipment_id,
        destination_fc=fc,
        carrier_program=program,
        mode=mode,
        carrier={"ocean": "COSCO", "air": "Cathay Cargo"}.get(mode, "UPS"),
        tracking_ids=[f"TRK{shipment_id}"],
        origin="CN-SZX" if mode in ("ocean", "air") else "US-TX",
        created_at=created,
        lines=lines,
    )
    if shipped_at is not None:
        shipments.ship_shipment(runtime.uow(), runtime.estimators, shipment_id, shipped_at, None)
