"""One simulated marketplace, played through the real services, day by day, hour by hour.

Per simulated hour: the clock moves (``services.simulation.set_clock``); tracking
events that happened in the hour arrive as one batch (``tracking.ingest_events``);
shipments are shipped, received and closed when their plan says
(``shipments.ship_shipment``, ``receiving.record_receipt``, ``receiving.close_shipment``);
buyers look at the published offer and order when it is buyable
(``orders.place_order``); buyers told of a delay cancel or confirm
(``orders.cancel_order``, ``orders.confirm_delay``); once a day sellers reorder
(``shipments.create_shipment``) and the sweeps run (``sandbox.move_clock``).
"""

from __future__ import annotations

import heapq
import itertools
import time as wallclock
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select

from headstart.bootstrap import Runtime
from headstart.domain.errors import Conflict, NotInStock, Unavailable
from headstart.domain.estimate import ClosedShipment
from headstart.domain.estimate.calibrated import CalibratedEstimator, fit_estimator
from headstart.services import keys, orders, receiving, sellers, shipments, tracking
from headstart.services.estimation import OpenDelivery, fit_on_history, refit_model
from headstart.services.order_batches import place_orders
from headstart.services.orders import OrderRequest
from headstart.services.sandbox import move_clock
from headstart.services.simulation import (
    OpeningProduct,
    install_estimator,
    open_catalog,
    set_clock,
)
from headstart.services.tracking import TrackingEvent
from headstart.sim.fcs import open_fc
from headstart.sim.history.generator import generate_history
from headstart.sim.market.config import MarketConfig
from headstart.sim.market.demand import Arrival, SeasonCurve, base_rates, draw_day
from headstart.sim.market.sellers import (
    Seller,
    draw_sellers,
    history_lead_times,
    lead_times,
    reorder_quantity,
)
from headstart.sim.market.shipping import ShipmentDrawer, ShipmentPlan, origin_for
from headstart.sim.market.stock import inventory_positions, offer_sources
from headstart.sim.market.streams import numpy_stream, python_stream
from headstart.store.tables import OrderRevisionRow, OrderRow

# (code, time zone, region, outbound transit days by region): the history generator's FCs.
FCS = (
    ("LAX1", "America/Los_Angeles", "us-west", {"us-west": 2, "us-central": 3, "us-east": 5}),
    ("ONT8", "America/Los_Angeles", "us-west", {"us-west": 2, "us-central": 3, "us-east": 5}),
    ("DFW6", "America/Chicago", "us-central", {"us-west": 3, "us-central": 2, "us-east": 3}),
    ("EWR1", "America/New_York", "us-east", {"us-west": 5, "us-central": 3, "us-east": 2}),
)
STOREFRONT = "market-sim"


@dataclass
class PlacedOrder:
    order_id: str
    sku_index: int
    quantity: int
    source: str
    price_minor: int
    cancel_draw: float
    placed_at: datetime


@dataclass
class MarketOutcome:
    """What a run leaves behind besides its database: per-day SKU states and sales."""

    config: MarketConfig
    sku_ids: list[str]
    sku_seller: list[int]
    sellers: list[Seller]
    prices: list[int]
    # per SKU: days in stock, days buyable only thanks to head start, days with nothing
    days_in_stock: list[int]
    days_head_start: list[int]
    days_out: list[int]
    arrivals: int = 0
    lost_arrivals: int = 0  # buyers who found nothing to buy
    declined_dates: int = 0  # buyers who saw a head-start date and walked away
    orders: list[PlacedOrder] = field(default_factory=list)
    buyer_cancels: int = 0
    delay_confirms: int = 0
    shipments: dict[str, ShipmentPlan] = field(default_factory=dict)
    # per day: (SKUs in stock, SKUs buyable only from incoming stock, SKUs not buyable)
    daily_states: list[tuple[int, int, int]] = field(default_factory=list)
    seconds: float = 0.0
    setup_seconds: float = 0.0


Progress = Callable[[int, int], None]


class Market:
    """One run (with head start or without); ``play`` runs it to the end."""

    def __init__(self, runtime: Runtime, config: MarketConfig) -> None:
        self.runtime = runtime
        self.config = config
        c = config
        self.start = c.start
        self.drawer = ShipmentDrawer(c.parameters, c.seed, c.start)
        self.season = SeasonCurve(c.start.date(), c.days + 400, c.peak_factor)
        self.lead = lead_times(self.drawer.world._drafts)
        setup_rng = python_stream(c.seed, "sellers")
        self.sellers = draw_sellers(c.parameters, setup_rng, c.sellers, c.skus, origin_for)
        if c.seller_profile is not None:
            mode, origin, fc = c.seller_profile
            self.sellers = [replace(s, mode=mode, origin=origin, fc=fc) for s in self.sellers]
        if c.history:
            self.lead.update(history_lead_times(c.history))
        self.sku_seller = [0] * c.skus
        for seller in self.sellers:
            for sku in seller.skus:
                self.sku_seller[sku] = seller.index
        self.rates = base_rates(numpy_stream(c.seed, "rates"), c.skus, c.demand_per_sku)
        self.model_history: list[ClosedShipment] = []  # the synthetic year (``setup``)
        price_rng = numpy_stream(c.seed, "prices")
        low, high = c.price_range_minor
        self.prices = [int(p) for p in price_rng.integers(low, high, size=c.skus)]
        self.demand_rng = numpy_stream(c.seed, "demand")
        self.sku_ids = [f"S{seller:03d}-{sku:05d}" for sku, seller in enumerate(self.sku_seller)]
        self.seller_ids: list[str] = []
        self.shipment_numbers = [0] * c.sellers
        self.due: list[tuple[datetime, int, str, str, object]] = []  # a heap of timed actions
        self.counter = itertools.count()
        self.open_orders: dict[str, PlacedOrder] = {}
        self.revision_seen = 0
        self.outcome = MarketOutcome(
            config=c,
            sku_ids=self.sku_ids,
            sku_seller=self.sku_seller,
            sellers=self.sellers,
            prices=self.prices,
            days_in_stock=[0] * c.skus,
            days_head_start=[0] * c.skus,
            days_out=[0] * c.skus,
        )

    # ---- set-up -------------------------------------------------------------------------

    def setup(self) -> None:
        c, uow, est = self.config, self.runtime.uow, self.runtime.estimators
        move_clock(uow(), est, now=self.start - timedelta(days=1), rate=0.0)
        history = list(
            generate_history(
                c.model_history, c.seed, self.start - timedelta(days=365), c.parameters
            )
        )
        install_estimator(uow(), fit_estimator(history), len(history))
        self.model_history = history
        for code, zone, region, transit in FCS:
            open_fc(uow, code, zone, region, transit)
        keys.create_storefront_key(uow(), STOREFRONT)
        for seller in self.sellers:
            created = sellers.create_seller(
                uow(), seller.name, f"seller{seller.index + 1:03d}@market.example"
            )
            self.seller_ids.append(created["seller_id"])
            if c.head_start:
                sellers.enroll(uow(), created["seller_id"])
        initial = numpy_stream(c.seed, "initial-stock")
        fill = initial.uniform(*c.opening_fill, size=c.skus)
        catalogue = []
        for index, sku in enumerate(self.sku_ids):
            seller = self.sellers[self.sku_seller[index]]
            stock = reorder_quantity(
                0,
                float(self.rates[index]),
                seller.mode,
                self.lead.get(seller.mode, 14.0),
                0,
                self.season,
            )
            catalogue.append(
                OpeningProduct(
                    sku=sku,
                    seller_id=self.seller_ids[seller.index],
                    title=f"Product {index + 1} of {seller.name}",
                    price_minor=self.prices[index],
                    currency="USD",
                    fc=seller.fc,
                    units=max(0, round(stock * float(fill[index]))),
                )
            )
        # What put_product and an opening-stock adjustment per product would leave.
        open_catalog(uow(), est, catalogue)

    # ---- the loop -----------------------------------------------------------------------

    def play(self, progress: Progress | None = None) -> MarketOutcome:
        began = wallclock.perf_counter()
        self.setup()
        self.outcome.setup_seconds = wallclock.perf_counter() - began
        for day in range(self.config.days):
            self.play_day(day)
            if progress:
                progress(day + 1, self.config.days)
        self.outcome.seconds = wallclock.perf_counter() - began
        return self.outcome

    def play_day(self, day: int) -> None:
        c = self.config
        midnight = self.start + timedelta(days=day)
        arrivals = draw_day(self.demand_rng, self.rates, midnight.date(), c.peak_factor)
        self.outcome.arrivals += len(arrivals)
        step_hours = 24 / c.steps_per_day
        by_step: dict[int, list[Arrival]] = defaultdict(list)
        for arrival in arrivals:
            by_step[int(arrival.hour // step_hours)].append(arrival)
        for step in range(c.steps_per_day):
            now = midnight + timedelta(hours=(step + 1) * step_hours)
            set_clock(self.runtime.uow(), now)
            self.run_due(now)
            self.serve_buyers(by_step.get(step, []), now)
            self.answer_delays()
            if step == min(int(c.review_hour // step_hours), c.steps_per_day - 1):
                self.review_stock(day, now)
        move_clock(self.runtime.uow(), self.runtime.estimators, advance_hours=0.0)  # sweeps
        self.answer_delays()
        if c.head_start and c.refit_days and (day + 1) % c.refit_days == 0:
            self.refit()
        self.count_day()

    def refit(self) -> None:
        """The service's scheduled refit (``estimation.refit_model``): what the run has
        closed, on top of the synthetic year the first model was fitted on (a service
        would hold that year as closed shipments of its own). Without it the first model
        answers all year, and a peak it saw in 1,000 shipments stays on the published
        prior. The paired run makes no promise, so it skips the fit."""
        base = self.model_history

        def fit(
            closed: Sequence[ClosedShipment],
            now: datetime | None,
            open_deliveries: Sequence[OpenDelivery],
        ) -> CalibratedEstimator:
            return fit_on_history([*base, *closed], now, open_deliveries)

        refit_model(
            self.runtime.uow(),
            wallclock.perf_counter,
            factory=fit,
            estimators=self.runtime.estimators,
        )

    def schedule(self, at: datetime, kind: str, shipment_id: str, payload: object = None) -> None:
        heapq.heappush(self.due, (at, next(self.counter), kind, shipment_id, payload))

    def run_due(self, now: datetime) -> None:
        """Everything planned up to ``now``: shipping, one batch of events, receipts, closes."""
        uow, est = self.runtime.uow, self.runtime.estimators
        ships, events, receipts, closes = [], [], [], []
        while self.due and self.due[0][0] <= now:
            at, _, kind, shipment_id, payload = heapq.heappop(self.due)
            {"ship": ships, "event": events, "receipt": receipts, "close": closes}[kind].append(
                (at, shipment_id, payload)
            )
        for at, shipment_id, _ in ships:
            shipments.ship_shipment(uow(), est, shipment_id, at, None)
        if events:
            batch = [
                TrackingEvent(
                    event_id=f"{shipment_id}-{index}",
                    shipment_id=shipment_id,
                    type=planned.kind,
                    occurred_at=at,
                    carrier_eta=planned.carrier_eta,
                    reason=planned.reason,
                )
                for at, shipment_id, (index, planned) in events
            ]
            tracking.ingest_events(uow(), est, batch)
        for at, shipment_id, lines in receipts:
            receiving.record_receipt(
                uow(),
                est,
                shipment_id=shipment_id,
                receipt_id=f"{shipment_id}-r1",
                received_at=at,
                lines=lines,
            )
        for _, shipment_id, _ in closes:
            receiving.close_shipment(uow(), est, shipment_id)

    def serve_buyers(self, arrivals: list[Arrival], now: datetime) -> None:
        """The step's buyers order in turn, each seeing the offer the earlier ones left
        (R16): one batch (``order_batches.place_orders``). A buyer who would wait for
        incoming stock only at ``accept_head_start`` or beyond orders in stock only."""
        if not arrivals:
            return
        c, out = self.config, self.outcome
        requests = [
            OrderRequest(
                sku=self.sku_ids[arrival.sku_index],
                quantity=arrival.quantity,
                region=arrival.region,
                buyer_ref=f"buyer-{next(self.counter)}",
                in_stock_only=arrival.patience >= c.accept_head_start,
            )
            for arrival in arrivals
        ]
        results = place_orders(
            self.runtime.uow(), self.runtime.estimators, requests, placed_by=STOREFRONT
        )
        for arrival, result in zip(arrivals, results, strict=True):
            if isinstance(result, NotInStock):  # a head-start date the buyer would not take
                out.declined_dates += 1
                continue
            if isinstance(result, Unavailable):
                out.lost_arrivals += 1
                continue
            if isinstance(result, Exception):
                raise result  # the simulator asked for a SKU or region it does not have
            placed = PlacedOrder(
                result["order_id"],
                arrival.sku_index,
                arrival.quantity,
                result["source"],
                self.prices[arrival.sku_index] * arrival.quantity,
                arrival.cancel_draw,
                now,
            )
            out.orders.append(placed)
            if result["status"] == "promised":
                self.open_orders[placed.order_id] = placed

    def answer_delays(self) -> None:
        """Buyers told of a slip (R9a): some cancel, some confirm a long one, the rest wait."""
        c, out = self.config, self.outcome
        with self.runtime.reader() as uow:
            rows = uow.session.execute(
                select(OrderRevisionRow.id, OrderRevisionRow.order_id, OrderRow.consent_due_at)
                .join(OrderRow, OrderRow.id == OrderRevisionRow.order_id)
                .where(OrderRevisionRow.id > self.revision_seen)
                .where(OrderRevisionRow.new.is_not(None), OrderRow.status == "promised")
                .order_by(OrderRevisionRow.id)
            ).all()
        for revision_id, order_id, consent_due in rows:
            self.revision_seen = max(self.revision_seen, revision_id)
            placed = self.open_orders.get(order_id)
            if placed is None:
                continue
            try:
                if placed.cancel_draw < c.cancel_on_delay:
                    orders.cancel_order(self.runtime.uow(), self.runtime.estimators, order_id, None)
                    out.buyer_cancels += 1
                    del self.open_orders[order_id]
                elif (
                    consent_due is not None
                    and placed.cancel_draw
                    < c.cancel_on_delay + (1 - c.cancel_on_delay) * c.confirm_long_delay
                ):
                    orders.confirm_delay(self.runtime.uow(), order_id, None)
                    out.delay_confirms += 1
            except Conflict:
                self.open_orders.pop(order_id, None)  # allocated or cancelled meanwhile

    def review_stock(self, day: int, now: datetime) -> None:
        """Sellers reorder what fell to its reorder point; one shipment per seller and day."""
        positions = inventory_positions(self.runtime.reader())
        new_drafts = []
        for seller in self.sellers:
            lead = self.lead.get(seller.mode, 14.0)
            lines = []
            for index in seller.skus:
                units = reorder_quantity(
                    positions.get(self.sku_ids[index], 0),
                    float(self.rates[index]),
                    seller.mode,
                    lead,
                    day,
                    self.season,
                )
                if units:
                    lines.append((self.sku_ids[index], units))
            if not lines:
                continue
            number = self.shipment_numbers[seller.index] = self.shipment_numbers[seller.index] + 1
            draft, rng = self.drawer.draft(
                seller.index,
                number,
                seller.mode,
                seller.origin,
                seller.fc,
                now,
                sum(units for _, units in lines),
            )
            new_drafts.append((seller, number, draft, rng, lines))
        self.drawer.receive([draft for _, _, draft, _, _ in new_drafts], day)
        for seller, number, draft, rng, lines in new_drafts:
            self.drawer.short_ship(draft, seller.index, rng)
            shipment_id = f"SH{seller.index:03d}-{number:04d}"
            plan = self.drawer.plan(shipment_id, seller.index, draft, rng, lines)
            self.send(plan, now)

    def send(self, plan: ShipmentPlan, now: datetime) -> None:
        shipments.create_shipment(
            self.runtime.uow(),
            seller_id=self.seller_ids[plan.seller],
            shipment_id=plan.shipment_id,
            destination_fc=plan.fc,
            carrier_program=plan.carrier_program,
            mode=plan.mode,
            carrier=plan.carrier,
            tracking_ids=[f"TRK-{plan.shipment_id}"],
            origin=plan.origin,
            created_at=min(plan.created_at, now),
            lines=plan.lines,
        )
        self.outcome.shipments[plan.shipment_id] = plan
        self.schedule(max(plan.shipped_at, now), "ship", plan.shipment_id)
        for index, event in enumerate(plan.events):
            self.schedule(max(event.at, now), "event", plan.shipment_id, (index, event))
        if plan.in_stock_at is not None and any(units for _, units in plan.received):
            self.schedule(
                plan.in_stock_at,
                "receipt",
                plan.shipment_id,
                [(sku, units) for sku, units in plan.received if units],
            )
        assert plan.close_at is not None
        self.schedule(plan.close_at, "close", plan.shipment_id)

    def count_day(self) -> None:
        sources = offer_sources(self.runtime.reader())
        out = self.outcome
        counts = [0, 0, 0]
        for index, sku in enumerate(self.sku_ids):
            source = sources.get(sku, "none")
            if source == "in_stock":
                out.days_in_stock[index] += 1
                counts[0] += 1
            elif source == "head_start":
                out.days_head_start[index] += 1
                counts[1] += 1
            else:
                out.days_out[index] += 1
                counts[2] += 1
        out.daily_states.append((counts[0], counts[1], counts[2]))
