"""The FC's receiving load at a shipment's arrival, forecast from the freight already inbound.

Receiving slows with the deliveries an FC took in the week before (``fc_load``),
but a shipment meets the load of its *arrival*, not of now, and in peak that
load decorrelates within a week. A live service knows every shipment in
transit to the FC and when each is expected (the carrier's latest ETA, else the
mode's published median transit), so the deliveries in the week before an
arrival a few days out are largely counted already: the ones made, the ones
inbound, and a few not yet shipped. ``daily_arrivals`` is that view per day,
from a week back to two ahead (``ShipmentProgress.fc_arrivals``);
``ArrivalForecast`` maps it, with the load now, to the log relative deliveries
and backlog the arrival will meet and the spread left around them, learnt by
least squares per horizon and season from the history's own loads
(``fit_arrival_forecast``): far arrivals fall back to the FC's usual load with
the full spread of its week-to-week swings, near ones get a narrow one.

Only what was known at each instant is used: a shipment counts as inbound at
``t`` if shipped by ``t`` and not delivered by ``t``, at the ETA it had then.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import numpy.typing as npt

from headstart.domain.estimate.pools import Array
from headstart.domain.estimate.prior import sample_transit
from headstart.domain.estimate.progress import MODES, ClosedShipment

# Days ahead counted. In the seed-7 history the inbound count explains little of the
# load 7-14 days out (R^2 0.2-0.3) and nothing beyond 14 (R^2 <= 0.05): most of those
# arrivals have not shipped yet.
AHEAD_DAYS = 14
WINDOW_DAYS = 7  # as ``fc_load.RECENT_DAYS``: the load is the deliveries of the past week
# Days back counted: two windows, so the load a shipment delivered up to a week ago met on
# delivery (the week before it) is counted too (``delivered_window``).
PAST_DAYS = 2 * WINDOW_DAYS
# Horizon buckets (days to arrival) of the forecast; finer where the inbound count says most.
HORIZON_EDGES: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.0, 21.0)
# Fit grid: every 12 h per FC, arrivals at these days ahead (spread over every bucket).
_GRID_HOURS = 12.0
_SAMPLE_DAYS: tuple[float, ...] = (
    0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 4.5, 5.5, 6.5, 8.0, 9.5, 11.0, 12.5, 16.0, 19.0, 24.0, 35.0
)  # fmt: skip
MIN_BUCKET_ROWS = 40  # grid rows a bucket needs for its own regression
# Grid rows a bucket needs in one season for a fit of that season (else both seasons' fit):
# about five weeks of one FC at two rows a day, or a bit over a week of four FCs.
MIN_SEASON_ROWS = 70
_DAY = 86400.0


@lru_cache(maxsize=8)
def typical_transit_hours(mode: str) -> float:
    """The mode's median transit by the published figures (``prior.sample_transit``): the
    expected arrival of an inbound shipment whose carrier has not given an ETA."""
    rng = random.Random(f"typical:{mode}")
    return float(np.median([sample_transit(mode, rng, False) for _ in range(2001)]))


def daily_arrivals(now: float, delivered: Array, expected: Array) -> tuple[int, ...]:
    """The FC's deliveries per day around ``now`` (epoch seconds): ``PAST_DAYS`` days of
    deliveries made (``delivered``, sorted), oldest first, then ``AHEAD_DAYS`` days of the
    shipments in transit by their ``expected`` arrival (one already overdue counts as due
    in the first day ahead)."""
    edges = now - _DAY * np.arange(PAST_DAYS, -1, -1, dtype=np.float64)
    made = np.diff(np.searchsorted(delivered, edges, side="right"))
    days = (np.maximum(expected - now, 0.0) // _DAY).astype(np.int64)
    due = np.bincount(days[days < AHEAD_DAYS], minlength=AHEAD_DAYS)
    return tuple(int(c) for c in np.concatenate((made, due)))


def window_deliveries(arrivals: Sequence[int], days: Array) -> Array:
    """Deliveries expected in the ``WINDOW_DAYS`` before an arrival ``days`` ahead, as far as
    is known now from ``daily_arrivals`` (spread evenly within each day)."""
    return _window(arrivals, np.maximum(days, 0.0))


def delivered_window(arrivals: Sequence[int], days_ago: float) -> float | None:
    """Deliveries in the ``WINDOW_DAYS`` before an instant ``days_ago`` days back (the load a
    receipt delivered then met), from ``daily_arrivals``; None if that week is not all in."""
    if not 0.0 <= days_ago <= PAST_DAYS - WINDOW_DAYS:
        return None
    return float(_window(arrivals, np.array([-days_ago]))[0])


def _window(arrivals: Sequence[int], days: Array) -> Array:
    cumulative = np.concatenate(([0.0], np.cumsum(np.asarray(arrivals, dtype=np.float64))))
    grid = np.arange(cumulative.size, dtype=np.float64) - PAST_DAYS
    out: Array = np.interp(days, grid, cumulative) - np.interp(days - WINDOW_DAYS, grid, cumulative)
    return out


def _bucket(days: Array) -> npt.NDArray[np.intp]:
    return np.searchsorted(np.asarray(HORIZON_EDGES), days, side="right")


@dataclass(frozen=True)
class ArrivalForecast:
    """Per horizon bucket, the FC's log relative (deliveries in the past week, backlog) at an
    arrival, each linear in: 1, the log relative window forecast (``window_deliveries``),
    the log relative deliveries now and backlog now; with the residuals' covariance.

    Rows: per bucket, 8 coefficients (4 for deliveries, then 4 for backlog) and the
    covariance (dd, db, bb); ``peak`` the same for arrivals in peak (None: as off-peak), each
    bucket its own season's fit where that season had enough rows, else both seasons'."""

    coefficients: tuple[tuple[float, ...], ...]
    peak: tuple[tuple[float, ...], ...] | None = None

    def table(self, peak: bool) -> Array:
        return self._tables[1 if peak else 0]

    @cached_property
    def _tables(self) -> tuple[Array, Array]:
        off = np.asarray(self.coefficients, dtype=np.float64)
        return off, off if self.peak is None else np.asarray(self.peak, dtype=np.float64)

    def predict(
        self,
        usual: tuple[float, float],
        load: tuple[int, int],
        arrivals: Sequence[int],
        days: Array,
        peak: bool = False,
    ) -> tuple[Array, Array, Array]:
        """(mean log relative deliveries, mean log relative backlog, covariance rows
        (dd, db, bb)) for arrivals ``days`` ahead, the FC's load now being ``load``
        (backlog, deliveries in the past week), its days around now ``arrivals`` and its
        usual (deliveries, backlog)."""
        backlog, recent = load
        features = _features(usual, float(recent), float(backlog), arrivals, days)
        table = self.table(peak)[_bucket(days)]
        deliveries: Array = np.einsum("ij,ij->i", features, table[:, 0:4])
        backlogs: Array = np.einsum("ij,ij->i", features, table[:, 4:8])
        cov: Array = table[:, 8:11]
        return deliveries, backlogs, cov

    def spread(self, betas: tuple[float, float], days: Array, peak: bool = False) -> Array:
        """sd of the log load factor (``betas``: deliveries, backlog) left at ``days`` ahead."""
        return _factor_sd(betas, self.table(peak)[_bucket(days)][:, 8:11])

    def explained(self, betas: tuple[float, float], days: Array, peak: bool = False) -> Array:
        """How much of the far arrivals' load-factor variance is known at ``days`` ahead
        (0 far off, toward 1 at the door): 1 - (sd / sd of the furthest bucket)^2."""
        far = float(_factor_sd(betas, self.table(peak)[-1:, 8:11])[0])
        if far <= 1e-9:
            return np.ones_like(days)
        out: Array = np.clip(1.0 - (self.spread(betas, days, peak) / far) ** 2, 0.0, 1.0)
        return out

    def to_dict(self) -> dict[str, list[list[float]] | None]:
        return {
            "off": [list(row) for row in self.coefficients],
            "peak": None if self.peak is None else [list(row) for row in self.peak],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> ArrivalForecast:
        def rows(raw: object) -> tuple[tuple[float, ...], ...]:
            assert isinstance(raw, list)
            return tuple(tuple(float(v) for v in row) for row in raw)

        peak = d.get("peak")
        return cls(rows(d["off"]), None if peak is None else rows(peak))


def _factor_sd(betas: tuple[float, float], cov: Array) -> Array:
    b_d, b_b = betas
    var = b_d * b_d * cov[:, 0] + 2.0 * b_d * b_b * cov[:, 1] + b_b * b_b * cov[:, 2]
    out: Array = np.sqrt(np.maximum(var, 0.0))
    return out


def _features(
    usual: tuple[float, float], recent: float, backlog: float, arrivals: Sequence[int], days: Array
) -> Array:
    """Rows (1, log relative window forecast, log relative deliveries now, backlog now)."""
    base_d, base_b = math.log(usual[0] + 1.0), math.log(usual[1] + 1.0)
    window = np.log(window_deliveries(arrivals, days) + 1.0) - base_d
    out: Array = np.column_stack(
        (
            np.ones_like(days),
            window,
            np.full_like(days, math.log(recent + 1.0) - base_d),
            np.full_like(days, math.log(backlog + 1.0) - base_b),
        )
    )
    return out


@dataclass(frozen=True)
class InboundIndex:
    """Per FC, sorted by shipping: shipped and arrival instants, the no-ETA expected arrival,
    and each shipment's ETA updates (epoch seconds) as flat arrays keyed by row."""

    shipped: dict[str, Array]
    arrived: dict[str, Array]
    typical: dict[str, Array]
    eta_key: dict[str, Array]  # row * 2^32 + seconds since the first shipment, sorted
    eta_at: dict[str, Array]
    origin: float
    delivered: dict[str, Array]  # each FC's arrivals, sorted

    @classmethod
    def of(cls, history: Iterable[ClosedShipment]) -> InboundIndex:
        rows: dict[str, list[ClosedShipment]] = defaultdict(list)
        for shipment in history:
            rows[shipment.destination_fc].append(shipment)
        origin = min(
            (
                min([s.shipped_at.timestamp()] + [e.occurred_at.timestamp() for e in s.events])
                for group in rows.values()
                for s in group
            ),
            default=0.0,
        )
        shipped, arrived, typical, eta_key, eta_at = {}, {}, {}, {}, {}
        for fc, group in rows.items():
            group.sort(key=lambda s: (s.shipped_at, s.shipment_id))
            shipped[fc] = np.array([s.shipped_at.timestamp() for s in group])
            arrived[fc] = np.array([_arrival(s) for s in group])
            typical[fc] = shipped[fc] + np.array(
                [typical_transit_hours(s.mode) * 3600.0 for s in group]
            )
            keys: list[float] = []
            etas: list[float] = []
            for row, s in enumerate(group):
                for event in sorted(s.events, key=lambda e: e.occurred_at):
                    if event.carrier_eta is not None:
                        keys.append(row * 2.0**32 + event.occurred_at.timestamp() - origin)
                        etas.append(event.carrier_eta.timestamp())
            order = np.argsort(np.asarray(keys), kind="stable")
            eta_key[fc] = np.asarray(keys)[order]
            eta_at[fc] = np.asarray(etas)[order]
        delivered = {fc: np.sort(v) for fc, v in arrived.items()}
        return cls(shipped, arrived, typical, eta_key, eta_at, origin, delivered)

    def expected_at(self, fc: str, t: float) -> Array:
        """Expected arrival (epoch seconds) of each shipment in transit to ``fc`` at ``t``."""
        shipped = self.shipped.get(fc)
        if shipped is None:
            return np.zeros(0)
        count = int(np.searchsorted(shipped, t, side="right"))
        rows = np.flatnonzero(self.arrived[fc][:count] > t)
        if rows.size == 0:
            return np.zeros(0)
        keys = self.eta_key[fc]
        if keys.size == 0:
            out_typical: Array = self.typical[fc][rows]
            return out_typical
        found = np.searchsorted(keys, rows * 2.0**32 + (t - self.origin), side="right") - 1
        valid = found >= 0
        same = np.zeros(rows.size, dtype=bool)
        same[valid] = np.floor(keys[found[valid]] / 2.0**32) == rows[valid]
        out: Array = np.where(same, self.eta_at[fc][np.maximum(found, 0)], self.typical[fc][rows])
        return out

    def counts_at(self, fc: str, t: float) -> tuple[int, ...]:
        """``daily_arrivals`` of ``fc`` at ``t``: what ``ShipmentProgress.fc_arrivals`` holds."""
        delivered = self.delivered.get(fc, np.zeros(0))
        return daily_arrivals(t, delivered, self.expected_at(fc, t))


def _arrival(shipment: ClosedShipment) -> float:
    """When the freight reached the FC (delivery, else its first at-FC event, else in stock)."""
    if shipment.delivered_at is not None:
        return shipment.delivered_at.timestamp()
    at_fc = [
        e.occurred_at.timestamp()
        for e in shipment.events
        if e.type in ("delivered", "checked_in", "receiving_started")
    ]
    return min(at_fc) if at_fc else shipment.in_stock_at.timestamp()


def fit_arrival_forecast(
    inbound: InboundIndex,
    delivered: Mapping[str, Array],
    load_at: Callable[[str, float], tuple[int, int]],
    usual: Mapping[str, tuple[float, float]],
    until: float | None,
    in_peak: Callable[[Array], Array],
) -> ArrivalForecast | None:
    """Least squares per horizon bucket over a grid of instants per FC, each paired with
    the FC's load (``load_at``: backlog, deliveries in the past week) actually met by
    arrivals ``_SAMPLE_DAYS`` ahead, counted only for arrivals by ``until`` (a fit sees
    no later load); per season of the arrival (``in_peak``) where it has the rows. The
    grid starts once the FC's first freight of every mode could have arrived (a history's
    first weeks hold only its quick modes' deliveries). A bucket with too few rows takes
    its nearer neighbour's fit; None when none has enough.
    """
    size = len(HORIZON_EDGES) + 1
    rows_x: list[list[Array]] = [[] for _ in range(size)]
    rows_y: list[list[tuple[float, float]]] = [[] for _ in range(size)]
    rows_p: list[list[bool]] = [[] for _ in range(size)]
    sample = np.asarray(_SAMPLE_DAYS)
    buckets = _bucket(sample)
    ramp = max(typical_transit_hours(mode) for mode in MODES) * 3600.0 + WINDOW_DAYS * _DAY
    for fc in sorted(delivered):
        times = delivered[fc]
        if fc not in usual or times.size < 2 or fc not in inbound.shipped:
            continue
        base_d, base_b = math.log(usual[fc][0] + 1.0), math.log(usual[fc][1] + 1.0)
        start = float(inbound.shipped[fc][0]) + ramp
        end = float(times[-1]) if until is None else min(float(times[-1]), until)
        for t in np.arange(start, end, _GRID_HOURS * 3600.0):
            arrivals = t + sample * _DAY
            ok = np.flatnonzero(arrivals <= end)
            if ok.size == 0:
                break
            backlog, recent = load_at(fc, float(t))
            features = _features(
                usual[fc], float(recent), float(backlog), inbound.counts_at(fc, float(t)), sample
            )
            peak = in_peak(arrivals)
            for k in ok.tolist():
                met_backlog, met_recent = load_at(fc, float(arrivals[k]))
                rows_x[buckets[k]].append(features[k])
                rows_y[buckets[k]].append(
                    (math.log(met_recent + 1.0) - base_d, math.log(met_backlog + 1.0) - base_b)
                )
                rows_p[buckets[k]].append(bool(peak[k]))
    pooled = [_least_squares(x, y, MIN_BUCKET_ROWS) for x, y in zip(rows_x, rows_y, strict=True)]
    if all(r is None for r in pooled):
        return None
    seasons = []
    for flag in (False, True):
        fitted = []
        for x, y, p, both in zip(rows_x, rows_y, rows_p, pooled, strict=True):
            pick = [i for i, v in enumerate(p) if v == flag]
            own = _least_squares([x[i] for i in pick], [y[i] for i in pick], MIN_SEASON_ROWS)
            fitted.append(own or both)
        seasons.append(_filled(fitted))
    return ArrivalForecast(seasons[0], seasons[1])


def _least_squares(
    x: Sequence[Array], y: Sequence[tuple[float, float]], least: int
) -> tuple[float, ...] | None:
    """One bucket's two regressions and their residual covariance (see ``ArrivalForecast``)."""
    if len(y) < least:
        return None
    design, target = np.asarray(x), np.asarray(y)
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    resid = target - design @ coef
    cov = resid.T @ resid / len(y)
    return (*coef[:, 0].tolist(), *coef[:, 1].tolist(), cov[0, 0], cov[0, 1], cov[1, 1])


def _filled(rows: Sequence[tuple[float, ...] | None]) -> tuple[tuple[float, ...], ...]:
    """Each missing bucket takes the nearest fitted one before it (the first, the first)."""
    last = next(r for r in rows if r is not None)
    out = []
    for r in rows:
        last = r if r is not None else last
        out.append(last)
    return tuple(out)
