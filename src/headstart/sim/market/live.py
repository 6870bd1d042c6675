"""The live demo: the simulator drives an existing sandbox marketplace as its clock runs.

``headstart demo`` starts ``run_live`` in a background thread on the server's own
Runtime and speeds the sandbox clock up (default one simulated hour per real second).
Each real second the market catches up with the clock: buyers arrive through the
simulated day, shipments move and are received, sellers reorder once a day. The
in-process scheduler runs the sweeps, as it would for any sandbox.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from headstart.bootstrap import Runtime
from headstart.sim.market.config import MarketConfig
from headstart.sim.market.demand import Arrival, base_rates, draw_day
from headstart.sim.market.run import Market
from headstart.sim.market.streams import numpy_stream
from headstart.store.tables import FulfillmentCenterRow, ProductRow, SellerRow

log = logging.getLogger(__name__)


class LiveMarket(Market):
    """A market over the products already in the database (no set-up of its own)."""

    def __init__(self, runtime: Runtime, seed: int, demand_per_sku: float) -> None:
        with runtime.reader() as uow:
            now = uow.now()
            products = list(
                uow.session.execute(
                    select(ProductRow.sku, ProductRow.seller_id, ProductRow.price_minor).order_by(
                        ProductRow.sku
                    )
                )
            )
            seller_ids = list(uow.session.scalars(select(SellerRow.id).order_by(SellerRow.id)))
            fcs = list(uow.session.scalars(select(FulfillmentCenterRow.code)))
        config = MarketConfig(
            days=1,
            sellers=max(len(seller_ids), 1),
            skus=max(len(products), 1),
            seed=seed,
            start=now.replace(hour=0, minute=0, second=0, microsecond=0),
            demand_per_sku=demand_per_sku,
        )
        super().__init__(runtime, config)
        index_of = {seller_id: i for i, seller_id in enumerate(seller_ids)}
        self.seller_ids = seller_ids
        self.sku_ids = [p.sku for p in products]
        self.sku_seller = [index_of[p.seller_id] for p in products]
        self.prices = [p.price_minor for p in products]
        self.rates = base_rates(numpy_stream(seed, "rates"), len(products), demand_per_sku)
        self.sellers = [
            seller.__class__(
                index=seller.index,
                name=seller.name,
                mode=seller.mode,
                origin=seller.origin,
                fc=seller.fc if seller.fc in fcs else fcs[0],
                skus=tuple(i for i, s in enumerate(self.sku_seller) if s == seller.index),
            )
            for seller in self.sellers[: len(seller_ids)]
        ]
        self.outcome.sku_ids = self.sku_ids
        self.outcome.days_in_stock = [0] * len(products)
        self.outcome.days_head_start = [0] * len(products)
        self.outcome.days_out = [0] * len(products)
        self.day = -1
        self.today: list[Arrival] = []
        self.served_upto = now

    def catch_up(self, now: datetime) -> None:
        """Everything the simulated time up to ``now`` brings."""
        day = int((now - self.start) / timedelta(days=1))
        while self.day < day:
            self.day += 1
            midnight = self.start + timedelta(days=self.day)
            self.today = [a for a in draw_day(self.demand_rng, self.rates, midnight.date(), 1.8)]
            if self.day > 0 or now.hour >= self.config.review_hour:
                self.review_stock(self.day, now)
        self.run_due(now)
        midnight = self.start + timedelta(days=self.day)
        due = [
            a for a in self.today if self.served_upto < midnight + timedelta(hours=a.hour) <= now
        ]
        self.serve_buyers(due, now)
        self.answer_delays()
        self.served_upto = now


def run_live(
    runtime: Runtime,
    stop: threading.Event,
    *,
    seed: int = 7,
    demand_per_sku: float = 0.6,
    tick_seconds: float = 1.0,
) -> None:
    """Drive the market every ``tick_seconds`` of real time until ``stop`` is set."""
    market = LiveMarket(runtime, seed, demand_per_sku)
    while not stop.wait(tick_seconds):
        try:
            with runtime.reader() as uow:
                now = uow.now()
            market.catch_up(now)
        except Exception:  # the demo must go on; the log says what failed
            log.exception("live simulation step failed")


def start_live(runtime: Runtime, **options: object) -> threading.Event:
    """Start ``run_live`` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_live, args=(runtime, stop), kwargs=options, name="live-market", daemon=True
    )
    thread.start()
    return stop


__all__ = ["LiveMarket", "run_live", "start_live"]
