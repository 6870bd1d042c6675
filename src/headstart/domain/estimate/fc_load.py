"""FC receiving load: what a live service knows now, and how receiving time follows it.

A live service knows at any moment how many shipments stand delivered at an FC
but not yet in stock (its backlog) and how many it delivered in the past week.
For a history the same figures are counted from the closed shipments, using
only instants up to the moment asked about, so fitting and replaying never
peek at the future.

``LoadEffect`` is learned, not assumed: log receiving time is regressed on the
log of each figure relative to the FC's usual level (within FC and season), and
how long a load lasts is read off the autocorrelation of the FC's daily load.
A history where load does not matter fits coefficients near zero. Peak has its
own coefficients once the history holds enough peak deliveries: an FC near
capacity in peak slows far more per extra delivery than off-peak, so one slope
for both would under-promise peak's busy weeks and over-promise its quiet ones.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from headstart.domain.estimate.pools import Array
from headstart.domain.estimate.progress import ClosedShipment, ShipmentProgress

RECENT_DAYS = 7.0
_MAX_LOG_EFFECT = math.log(8.0)  # never scale receiving by more than 8x either way
MIN_SEASON_ROWS = 200  # peak deliveries needed before peak gets its own coefficients


@dataclass(frozen=True)
class FcLoadIndex:
    """Per FC: sorted delivery instants and sorted in-stock instants (epoch seconds)."""

    delivered: dict[str, Array]
    in_stock: dict[str, Array]

    @classmethod
    def of(cls, history: Iterable[ClosedShipment]) -> FcLoadIndex:
        delivered: dict[str, list[float]] = defaultdict(list)
        in_stock: dict[str, list[float]] = defaultdict(list)
        for shipment in history:
            if shipment.delivered_at is None:
                continue
            delivered[shipment.destination_fc].append(shipment.delivered_at.timestamp())
            in_stock[shipment.destination_fc].append(shipment.in_stock_at.timestamp())
        return cls(
            {fc: np.sort(np.asarray(v)) for fc, v in delivered.items()},
            {fc: np.sort(np.asarray(v)) for fc, v in in_stock.items()},
        )

    def load_at(self, fc: str, at: datetime) -> tuple[int, int]:
        """(backlog, deliveries in the last ``RECENT_DAYS``) at ``fc`` as of ``at``."""
        return self.load_at_seconds(fc, at.timestamp())

    def load_at_seconds(self, fc: str, t: float) -> tuple[int, int]:
        delivered = self.delivered.get(fc)
        if delivered is None:
            return 0, 0
        arrived = int(np.searchsorted(delivered, t, side="right"))
        done = int(np.searchsorted(self.in_stock[fc], t, side="right"))
        before = int(np.searchsorted(delivered, t - RECENT_DAYS * 86400.0, side="right"))
        return max(arrived - done, 0), arrived - before


@dataclass(frozen=True)
class LoadEffect:
    """log(receiving time) moves by ``beta_deliveries * log(deliveries / usual)`` and likewise
    for the backlog (off-peak; ``peak_betas`` in peak, once the history has shown one);
    a load seen now fades with ``exp(-days ahead / persistence_days)``."""

    beta_deliveries: float = 0.0
    beta_backlog: float = 0.0
    persistence_days: float = 7.0
    usual: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # fc -> (dlv, backlog)
    peak_betas: tuple[float, float] | None = None  # (deliveries, backlog); None: as off-peak

    def betas(self, peak: bool) -> tuple[float, float]:
        """(deliveries, backlog) coefficients of the season."""
        if peak and self.peak_betas is not None:
            return self.peak_betas
        return self.beta_deliveries, self.beta_backlog

    def log_factor(
        self, fc: str, backlog: int | None, deliveries: int | None, peak: bool = False
    ) -> float:
        """The log multiplier of receiving time at this load (0 when the load is unknown)."""
        usual = self.usual.get(fc)
        if usual is None:
            return 0.0
        beta_deliveries, beta_backlog = self.betas(peak)
        effect = 0.0
        if deliveries is not None:
            effect += beta_deliveries * math.log((deliveries + 1.0) / (usual[0] + 1.0))
        if backlog is not None:
            effect += beta_backlog * math.log((backlog + 1.0) / (usual[1] + 1.0))
        return max(-_MAX_LOG_EFFECT, min(_MAX_LOG_EFFECT, effect))

    def log_factor_now(self, progress: ShipmentProgress, peak: bool = False) -> float:
        return self.log_factor(
            progress.destination_fc, progress.fc_backlog, progress.fc_deliveries_7d, peak
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "beta_deliveries": self.beta_deliveries,
            "beta_backlog": self.beta_backlog,
            "persistence_days": self.persistence_days,
            "usual": {fc: list(v) for fc, v in sorted(self.usual.items())},
            "peak_betas": None if self.peak_betas is None else list(self.peak_betas),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> LoadEffect:
        usual = d["usual"]
        assert isinstance(usual, Mapping)
        peak = d.get("peak_betas")
        assert peak is None or isinstance(peak, list)
        return cls(
            float(str(d["beta_deliveries"])),
            float(str(d["beta_backlog"])),
            float(str(d["persistence_days"])),
            {str(fc): (float(v[0]), float(v[1])) for fc, v in usual.items()},
            None if peak is None else (float(peak[0]), float(peak[1])),
        )


def fit_load_effect(
    fcs: list[str],
    groups: list[str],
    log_hours: Array,
    backlog: Array,
    deliveries: Array,
    weights: Array | None = None,
    usual: Mapping[str, tuple[float, float]] | None = None,
) -> LoadEffect:
    """Least squares of log receiving on log relative load, within each group (FC, season).

    ``backlog`` and ``deliveries`` are the FC's figures at each delivery;
    ``weights`` (default 1) undo a sample's selection, e.g. outcomes still open;
    ``usual`` the FCs' usual figures (default: the medians of these rows). A
    coefficient that comes out negative (more load, faster receiving) is taken as
    noise and set to zero.
    """
    if len(fcs) < 50:
        return LoadEffect()
    if usual is None:
        usual = {
            fc: (
                float(np.median(deliveries[[f == fc for f in fcs]])),
                float(np.median(backlog[[f == fc for f in fcs]])),
            )
            for fc in set(fcs)
        }
    w = np.ones(len(fcs)) if weights is None else np.asarray(weights, dtype=np.float64)
    ref = np.array([usual.get(f, (0.0, 0.0)) for f in fcs])
    x = np.column_stack(
        (
            np.log((deliveries + 1.0) / (ref[:, 0] + 1.0)),
            np.log((backlog + 1.0) / (ref[:, 1] + 1.0)),
        )
    )
    y = log_hours.copy()
    labels = np.asarray(groups)
    for g in set(groups):
        mask = labels == g
        total = w[mask].sum()
        y[mask] -= np.dot(w[mask], y[mask]) / total
        x[mask] -= (w[mask, None] * x[mask]).sum(axis=0) / total
    root = np.sqrt(w)
    x, y = x * root[:, None], y * root
    betas = np.zeros(2)
    active = [0, 1]
    for _ in range(2):  # drop a negative coefficient and refit on the other
        coef, *_ = np.linalg.lstsq(x[:, active], y, rcond=None)
        betas = np.zeros(2)
        betas[active] = coef
        negative = [i for i in active if betas[i] < 0.0]
        if not negative:
            break
        active = [i for i in active if i not in negative]
        if not active:
            betas = np.zeros(2)
            break
    return LoadEffect(float(betas[0]), float(betas[1]), 7.0, dict(usual))


def persistence_days(series: Mapping[str, Array], max_lag: int = 42) -> float:
    """e-folding time (days) of the daily log load's autocorrelation, pooled over FCs."""
    lags, logs = [], []
    for values in series.values():
        if values.size < 3 * max_lag:
            continue
        centred = values - values.mean()
        var = float(np.dot(centred, centred))
        if var <= 0.0:
            continue
        for lag in range(1, max_lag + 1):
            acf = float(np.dot(centred[:-lag], centred[lag:])) / var
            if acf <= 0.05:
                break
            lags.append(lag)
            logs.append(math.log(acf))
    if not lags:
        return 7.0
    slope = -sum(a * b for a, b in zip(lags, logs, strict=True)) / sum(a * a for a in lags)
    return min(90.0, max(1.0, 1.0 / slope)) if slope > 0 else 90.0
