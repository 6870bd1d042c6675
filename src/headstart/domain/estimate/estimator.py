"""The seam every in-stock time model plugs into.

Services and the promise logic depend only on this protocol, so the core
release's empirical model can be replaced (milestone model, conformal
calibration) without touching a caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from headstart.domain.estimate.distribution import InStockEstimate
from headstart.domain.estimate.progress import ShipmentProgress


class InStockEstimator(Protocol):
    """Turns what is known about a shipment now into a distribution of its in-stock time."""

    @property
    def version(self) -> str:
        """Identifies the fitted model; changes whenever its inputs change (R17)."""
        ...

    def estimate(self, progress: ShipmentProgress, now: datetime) -> InStockEstimate:
        """The remaining in-stock time of ``progress`` as seen at ``now`` (R9: on every event)."""
        ...
