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
own coefficients: an FC near capacity in peak slows far more per extra delivery
than off-peak, so one slope for both would under-promise peak's busy weeks and
over-promise its quiet ones. The fit (``fit_censored_load``) is a censored
regression over every delivery made so far, the ones still open counting as
"longer than so far", so a young peak's slope is learnt from its slow deliveries
before they close, not once enough of them have; until then peak's slopes are
held near off-peak's by a prior of ``PEAK_PRIOR_ROWS`` pseudo-deliveries.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
import numpy.typing as npt

from headstart.domain.estimate.inbound import ArrivalForecast, InboundIndex
from headstart.domain.estimate.instants import to_utc
from headstart.domain.estimate.pools import Array
from headstart.domain.estimate.progress import ClosedShipment, ShipmentProgress

RECENT_DAYS = 7.0
# Never scale receiving by more than this either way: a guard against extrapolating far
# past any load seen, not a limit on real ones. The seed-7 history's peak has FCs at twice
# their usual week's deliveries, receiving ~11x their usual-load time; 8x clipped those.
MAX_LOG_EFFECT = math.log(20.0)
MIN_CENSORED_ROWS = 30  # deliveries of a season before its censored fit is tried
PEAK_PRIOR_ROWS = 10.0  # pseudo-deliveries holding peak's slopes at off-peak's
_SQRT_2PI = math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class FcLoadIndex:
    """Per FC: sorted delivery instants and sorted in-stock instants (epoch seconds)."""

    delivered: dict[str, Array]
    in_stock: dict[str, Array]
    # Per FC: each delivery's in-stock instant, in the order of ``delivered``.
    stocked: dict[str, Array] = field(default_factory=dict)
    # What was in transit to each FC at any instant (None: not known, e.g. built by hand).
    inbound: InboundIndex | None = None

    @classmethod
    def of(
        cls,
        history: Iterable[ClosedShipment],
        open_deliveries: Iterable[tuple[str, datetime]] = (),
    ) -> FcLoadIndex:
        """The index of ``history`` and of ``open_deliveries``: (FC, delivered at) of each
        delivery not yet in stock, as a live service knows them. A replayed history holds
        its open deliveries already (their in-stock instants lie past the fit's ``now``);
        a live one does not, and without them a young peak's slow deliveries, the ones
        still open, are missing from the censored fit and the load counts alike."""
        history = list(history)
        delivered: dict[str, list[float]] = defaultdict(list)
        in_stock: dict[str, list[float]] = defaultdict(list)
        for shipment in history:
            if shipment.delivered_at is None:
                continue
            delivered[shipment.destination_fc].append(shipment.delivered_at.timestamp())
            in_stock[shipment.destination_fc].append(shipment.in_stock_at.timestamp())
        opened: dict[str, list[float]] = defaultdict(list)
        for fc, at in open_deliveries:
            # Not in stock by any instant: open at every ``now`` (``deliveries_by``) and in
            # the backlog from delivery on (``load_at``).
            t = to_utc("delivered_at", at).timestamp()
            delivered[fc].append(t)
            in_stock[fc].append(math.inf)
            opened[fc].append(t)
        order = {fc: np.argsort(np.asarray(v), kind="stable") for fc, v in delivered.items()}
        inbound = InboundIndex.of(history)
        if opened:
            # An open delivery is an arrival the FC took in, counted by ``fc_arrivals``.
            arrived = {
                fc: np.sort(np.concatenate((inbound.delivered.get(fc, np.zeros(0)), v)))
                for fc, v in opened.items()
            }
            inbound = replace(inbound, delivered={**inbound.delivered, **arrived})
        return cls(
            {fc: np.asarray(v)[order[fc]] for fc, v in delivered.items()},
            {fc: np.sort(np.asarray(v)) for fc, v in in_stock.items()},
            {fc: np.asarray(in_stock[fc])[order[fc]] for fc in delivered},
            inbound,
        )

    def arrivals_at(self, fc: str, at: datetime) -> tuple[int, ...] | None:
        """``ShipmentProgress.fc_arrivals`` of ``fc`` as of ``at`` (None when not indexed)."""
        return None if self.inbound is None else self.inbound.counts_at(fc, at.timestamp())

    def deliveries_by(self, now: float | None) -> Deliveries:
        """Every delivery made by ``now`` (all when None) with the FC's load at it, and its
        receiving time: in stock less delivered, or, still open at ``now``, the time so far
        (``censored``). A live service knows every delivery and whether it is in stock."""
        fcs: list[str] = []
        parts: list[tuple[Array, Array, npt.NDArray[np.bool_], Array, Array]] = []
        for fc in sorted(self.delivered):
            delivered, stocked = self.delivered[fc], self.stocked.get(fc)
            if stocked is None or stocked.size != delivered.size:
                continue
            count = delivered.size if now is None else int(np.searchsorted(delivered, now, "right"))
            if count == 0:
                continue
            t, done_at = delivered[:count], stocked[:count]
            arrived = np.searchsorted(delivered, t, side="right")
            done = np.searchsorted(self.in_stock[fc], t, side="right")
            before = np.searchsorted(delivered, t - RECENT_DAYS * 86400.0, side="right")
            backlog = np.maximum(arrived - done, 0).astype(np.float64)
            recent = (arrived - before).astype(np.float64)
            end = done_at if now is None else np.minimum(done_at, now)
            censored = end < done_at
            # An open delivery with no ``now`` has no time so far: its hours are 0, which the
            # censored fit drops, rather than infinite.
            end = np.where(np.isfinite(end), end, t)
            hours = np.maximum((end - t) / 3600.0, 0.0).astype(np.float64)
            fcs.extend([fc] * count)
            parts.append((t, hours, censored, backlog, recent))
        if not parts:
            empty = np.zeros(0)
            return Deliveries([], empty, empty, empty.astype(bool), empty, empty)
        t, hours, _, backlog, recent = (np.concatenate(p) for p in zip(*parts, strict=True))
        censored = np.concatenate([p[2] for p in parts]).astype(bool)
        return Deliveries(fcs, t, hours, censored, backlog, recent)

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
class Deliveries:
    """Deliveries with their receiving hours (or hours so far, when ``censored``) and the
    FC's backlog and deliveries in the last ``RECENT_DAYS`` at each."""

    fcs: list[str]
    at: Array
    hours: Array
    censored: npt.NDArray[np.bool_]
    backlog: Array
    deliveries: Array


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
    # The deliveries an arrival will meet, forecast from the inbound freight (None: not fitted).
    arrival: ArrivalForecast | None = None

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
        return max(-MAX_LOG_EFFECT, min(MAX_LOG_EFFECT, effect))

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
            "arrival": None if self.arrival is None else self.arrival.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> LoadEffect:
        usual = d["usual"]
        assert isinstance(usual, Mapping)
        peak = d.get("peak_betas")
        assert peak is None or isinstance(peak, list)
        arrival = d.get("arrival")
        assert arrival is None or isinstance(arrival, Mapping)
        return cls(
            float(str(d["beta_deliveries"])),
            float(str(d["beta_backlog"])),
            float(str(d["persistence_days"])),
            {str(fc): (float(v[0]), float(v[1])) for fc, v in usual.items()},
            None if peak is None else (float(peak[0]), float(peak[1])),
            None if arrival is None else ArrivalForecast.from_dict(arrival),
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


def _mills(alpha: Array) -> Array:
    """Inverse Mills ratio phi(a) / (1 - Phi(a)): the mean excess of a standard normal above a."""
    tail = np.frompyfunc(lambda a: 0.5 * math.erfc(a / math.sqrt(2.0)), 1, 1)(alpha)
    q = np.asarray(tail, dtype=np.float64)
    phi = np.exp(-0.5 * alpha * alpha) / _SQRT_2PI
    safe = q > 1e-300
    out: Array = np.where(safe, phi / np.where(safe, q, 1.0), alpha + 1.0 / np.maximum(alpha, 1.0))
    return out


def censored_least_squares(
    design: Array,
    y: Array,
    censored: npt.NDArray[np.bool_],
    penalty: tuple[Array, Array] | None = None,
    iterations: int = 300,
    tol: float = 1e-7,
) -> tuple[Array, float]:
    """Gaussian regression of ``y`` on ``design`` where a censored ``y`` is only a lower
    bound (the outcome is still open: it will take longer than that), by EM (Tobit).

    ``penalty`` = (rows P, targets t) adds ``|P @ coef - t|^2`` to the squares (a prior as
    pseudo-observations). Returns the coefficients and the residual sd. With nothing
    censored it is ordinary (penalised) least squares.
    """
    rows = design if penalty is None else np.vstack((design, penalty[0]))

    def solve(target: Array) -> Array:
        full = target if penalty is None else np.concatenate((target, penalty[1]))
        coef, *_ = np.linalg.lstsq(rows, full, rcond=None)
        out: Array = np.asarray(coef, dtype=np.float64)
        return out

    coef = solve(y)
    n = y.size
    mu = design @ coef
    sigma = max(float(np.sqrt(np.mean((y - mu) ** 2))), 1e-3)
    if not censored.any():
        return coef, sigma
    for _ in range(iterations):
        alpha = (y[censored] - mu[censored]) / sigma
        lam = _mills(alpha)
        filled = y.copy()
        filled[censored] = mu[censored] + sigma * lam
        spread = sigma * sigma * np.maximum(1.0 + alpha * lam - lam * lam, 0.0)
        new = solve(filled)
        mu = design @ new
        sigma_new = max(float(np.sqrt((np.sum((filled - mu) ** 2) + spread.sum()) / n)), 1e-3)
        step = float(np.max(np.abs(new - coef))) + abs(sigma_new - sigma)
        coef, sigma = new, sigma_new
        if step < tol:
            break
    return coef, sigma


@dataclass(frozen=True)
class SeasonFit:
    """One season's censored fit: slopes (deliveries, backlog), each FC's intercept (log
    receiving hours at its usual load), the residual sd, and per FC the deliveries closed."""

    slopes: tuple[float, float]
    intercepts: Mapping[str, float]
    sigma: float
    closed: Mapping[str, int]
    open: int = 0  # deliveries still open (censored) at the fit


def fit_censored_load(
    deliveries: Deliveries,
    peak: npt.NDArray[np.bool_],
    usual: Mapping[str, tuple[float, float]],
    prior_rows: float = PEAK_PRIOR_ROWS,
) -> tuple[tuple[float, float], tuple[float, float] | None]:
    """(off-peak slopes, peak slopes or None without peak deliveries) of
    ``fit_censored_seasons``."""
    off, in_peak = fit_censored_seasons(deliveries, peak, usual, prior_rows)
    return (off.slopes if off else (0.0, 0.0)), (in_peak.slopes if in_peak else None)


def fit_censored_seasons(
    deliveries: Deliveries,
    peak: npt.NDArray[np.bool_],
    usual: Mapping[str, tuple[float, float]],
    prior_rows: float = PEAK_PRIOR_ROWS,
) -> tuple[SeasonFit | None, SeasonFit | None]:
    """Per season, log receiving ~ FC intercept + slopes on log relative deliveries in the
    last week and backlog, the still-open deliveries counting as "longer than so far"
    (``censored_least_squares``). Peak's slopes shrink toward off-peak's by ``prior_rows``
    pseudo-deliveries, so a peak's first days borrow off-peak's and its own take over as
    deliveries (open or not) come in. A negative slope is taken as noise and set to zero.
    Returns (off-peak, peak), None for a season with too few deliveries."""
    keep = deliveries.hours > 0.0
    fcs = np.asarray(deliveries.fcs)[keep]
    ref = np.array([usual.get(f, (0.0, 0.0)) for f in fcs.tolist()]).reshape(-1, 2)
    x = np.column_stack(
        (
            np.log((deliveries.deliveries[keep] + 1.0) / (ref[:, 0] + 1.0)),
            np.log((deliveries.backlog[keep] + 1.0) / (ref[:, 1] + 1.0)),
        )
    )
    y = np.log(deliveries.hours[keep])
    censored = deliveries.censored[keep]
    season = peak[keep]
    off: tuple[float, float] = (0.0, 0.0)
    result: list[SeasonFit | None] = []
    for flag in (False, True):
        sel = np.flatnonzero(season == flag)
        if sel.size < MIN_CENSORED_ROWS:
            result.append(None)
            continue
        names = sorted(set(fcs[sel].tolist()))
        onehot = (fcs[sel][:, None] == np.asarray(names)[None, :]).astype(np.float64)
        xs = x[sel]
        penalty = None
        if flag and prior_rows > 0.0:
            scale = np.sqrt(prior_rows * np.maximum(xs.var(axis=0), 1e-6))
            p = np.zeros((2, len(names) + 2))
            p[0, len(names)], p[1, len(names) + 1] = scale
            penalty = (p, scale * np.asarray(off))
        active = [0, 1]
        slopes = np.zeros(2)
        coef, sigma = np.zeros(len(names)), 1.0
        while True:
            design = np.column_stack((onehot, xs[:, active]))
            pen = None
            if penalty is not None:
                cols = list(range(len(names))) + [len(names) + j for j in active]
                pen = (penalty[0][active][:, cols], penalty[1][active])
            coef, sigma = censored_least_squares(design, y[sel], censored[sel], pen)
            slopes = np.zeros(2)
            slopes[active] = coef[len(names) :]
            negative = [j for j in active if slopes[j] < 0.0]
            if not negative:
                break
            active = [j for j in active if j not in negative]
            slopes = np.zeros(2)
        fitted = (float(slopes[0]), float(slopes[1]))
        if not flag:
            off = fitted
        closed = ~censored[sel]
        result.append(
            SeasonFit(
                fitted,
                {name: float(coef[i]) for i, name in enumerate(names)},
                sigma,
                {name: int(closed[onehot[:, i] > 0].sum()) for i, name in enumerate(names)},
                int((~closed).sum()),
            )
        )
    return result[0], result[1]
