"""The knobs of a simulated marketplace; defaults are issue 6's."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from headstart.domain.estimate import ClosedShipment
from headstart.sim.history.parameters import DEFAULTS, GeneratorParameters


@dataclass(frozen=True)
class MarketConfig:
    days: int = 365
    sellers: int = 200
    skus: int = 5000
    seed: int = 7
    start: datetime = datetime(2025, 1, 1, tzinfo=UTC)
    steps_per_day: int = 24  # the clock moves an hour at a time
    review_hour: int = 15  # UTC hour at which sellers check stock and reorder
    head_start: bool = True  # False: the paired run, sellers never enrolled
    demand_per_sku: float = 0.3  # mean buyer arrivals per SKU and day (lognormal across SKUs)
    peak_factor: float = 1.8
    accept_head_start: float = 0.85  # share of buyers who take a "ships from incoming stock" date
    cancel_on_delay: float = 0.25  # share of buyers who cancel a delayed order
    confirm_long_delay: float = 0.7  # of the rest, share who confirm a slip past 30 days (R9a)
    price_range_minor: tuple[int, int] = (999, 8999)  # product prices, integer cents
    opening_fill: tuple[float, float] = (0.1, 1.1)  # opening stock, share of order-up-to level
    model_history: int = 1000  # shipments of the synthetic year the in-stock model is fitted on
    # Days between refits of the in-stock model (the service's scheduled refit) on that
    # synthetic year and every shipment the run has closed so far; 0: never refit.
    refit_days: int = 7
    parameters: GeneratorParameters = field(default=DEFAULTS)
    # What-if for one seller (--from-history): their own closed shipments fit the model and
    # set the lead time; every simulated seller ships like them (mode, origin, FC).
    history: tuple[ClosedShipment, ...] = ()
    seller_profile: tuple[str, str, str] | None = None  # (mode, origin, FC)

    def paired(self) -> MarketConfig:
        """The same marketplace and seed, without head start."""
        return replace(self, head_start=False)
