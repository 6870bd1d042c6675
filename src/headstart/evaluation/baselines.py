"""The three baselines every evaluation prints beside the model (section 4, issue 3).

Each answers the same question the model does (the promised in-stock instant
for a shipment as it stands at a snapshot) from the training history only:

- ``carrier_eta``: the carrier's latest ETA (or, before any, the training
  median transit of the mode after shipping), never before now, plus a fixed
  three days of receiving ("generally within three business days", PARAMETERS.md);
  once delivered, delivery plus those three days.
- ``mode_quantile``: shipped plus the q-quantile of shipped → in stock of the
  mode; static, it never moves with events.
- ``lane_quantile``: shipped plus the q-quantile of shipped → in stock among
  the lane's training shipments that took longer than the time already spent
  (the mode's when fewer than 30 remain): the empirical per-lane promise.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from headstart.domain.estimate.instants import hours_between
from headstart.domain.estimate.progress import ClosedShipment, ShipmentProgress

BASELINES: tuple[str, ...] = ("carrier_eta", "mode_quantile", "lane_quantile")
RECEIVING_DAYS = 3.0
MIN_LANE = 30


@dataclass(frozen=True)
class Baselines:
    quantile: float
    mode_total: dict[str, np.ndarray]  # sorted hours shipped -> in stock
    lane_total: dict[str, np.ndarray]
    mode_transit_median: dict[str, float]

    @classmethod
    def fit(cls, history: Sequence[ClosedShipment], quantile: float) -> Baselines:
        mode: dict[str, list[float]] = defaultdict(list)
        lane: dict[str, list[float]] = defaultdict(list)
        transit: dict[str, list[float]] = defaultdict(list)
        for s in history:
            total = hours_between(s.shipped_at, s.in_stock_at)
            mode[s.mode].append(total)
            lane[_lane(s.mode, s.origin, s.destination_fc)].append(total)
            if s.delivered_at is not None:
                transit[s.mode].append(hours_between(s.shipped_at, s.delivered_at))
        return cls(
            quantile,
            {k: np.sort(np.asarray(v)) for k, v in mode.items()},
            {k: np.sort(np.asarray(v)) for k, v in lane.items()},
            {k: float(np.median(v)) for k, v in transit.items()},
        )

    def promise(self, name: str, progress: ShipmentProgress, now: datetime) -> datetime:
        """The promised in-stock instant of baseline ``name`` for ``progress`` at ``now``."""
        if name == "carrier_eta":
            return self._carrier_eta(progress, now)
        spent = max(hours_between(progress.shipped_at, now), 0.0)
        if name == "mode_quantile":
            hours = self._quantile(self.mode_total.get(progress.mode), 0.0)
        else:
            key = _lane(progress.mode, progress.origin, progress.destination_fc)
            lane = self.lane_total.get(key)
            survivors = 0 if lane is None else lane.size - np.searchsorted(lane, spent, "right")
            pool = lane if survivors >= MIN_LANE else self.mode_total.get(progress.mode)
            hours = self._quantile(pool, spent)
        return progress.shipped_at + timedelta(hours=hours)

    def _carrier_eta(self, progress: ShipmentProgress, now: datetime) -> datetime:
        receiving = timedelta(days=RECEIVING_DAYS)
        if progress.arrived_at is not None:
            return progress.arrived_at + receiving
        eta = progress.carrier_eta
        if eta is None:
            median = self.mode_transit_median.get(progress.mode, 0.0)
            eta = progress.shipped_at + timedelta(hours=median)
        return max(eta, now) + receiving

    def _quantile(self, pool: np.ndarray | None, spent: float) -> float:
        """The q-quantile ("higher") of the pool's values beyond ``spent``; sorted pools."""
        if pool is None or pool.size == 0:
            return spent
        start = int(np.searchsorted(pool, spent, "right"))
        left = pool.size - start
        if left == 0:
            return spent
        return float(pool[start + min(left - 1, math.ceil(self.quantile * (left - 1)))])


def _lane(mode: str, origin: str, fc: str) -> str:
    return f"{mode}|{origin}>{fc}"
