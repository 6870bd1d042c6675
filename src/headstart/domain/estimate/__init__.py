"""In-stock time estimation (DESIGN.md section 4): what a shipment's promises rest on.

Callers depend on ``InStockEstimator`` and ``InStockEstimate`` only; the model
behind them (today ``EmpiricalEstimator``) is replaceable.
"""

from headstart.domain.estimate.distribution import LEVELS, InStockEstimate
from headstart.domain.estimate.empirical import EmpiricalEstimator
from headstart.domain.estimate.errors import InvalidEstimateInput
from headstart.domain.estimate.estimator import InStockEstimator
from headstart.domain.estimate.prior import (
    FIGURES,
    PRIOR_VERSION,
    Figure,
    is_peak,
    sample_prior,
    sample_receiving,
    sample_transit,
)
from headstart.domain.estimate.progress import (
    AT_FC_MILESTONES,
    CARRIER_PROGRAMS,
    MILESTONES,
    MODES,
    ClosedShipment,
    HistoryEvent,
    ShipmentProgress,
)

__all__ = [
    "AT_FC_MILESTONES",
    "CARRIER_PROGRAMS",
    "FIGURES",
    "LEVELS",
    "MILESTONES",
    "MODES",
    "PRIOR_VERSION",
    "ClosedShipment",
    "EmpiricalEstimator",
    "Figure",
    "HistoryEvent",
    "InStockEstimate",
    "InStockEstimator",
    "InvalidEstimateInput",
    "ShipmentProgress",
    "is_peak",
    "sample_prior",
    "sample_receiving",
    "sample_transit",
]
