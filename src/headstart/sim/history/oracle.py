"""The oracle: in-stock promises from the generator's own law, a floor for any estimator.

An estimator learns the generator's law from records; the oracle *knows* it, and
knows the world's state that the records hide: the ocean regime of every week up
to now, the ocean timetable (route phases, each vessel's scheduled days), the
receiving fit and every other shipment's delivery. At each snapshot the
evaluation replays (``eta evaluate``: shipping, then each event, test part = the
latest 40% by ``shipped_at``) it draws the shipment's future from the law given
what has happened by then (``oracle_transit.py``, ``oracle_ocean.py``; receiving
in ``oracle_law.py``), takes the q-quantile of the in-stock instant as its promise,
and is scored exactly as the evaluation scores a model: promised minus actual
instant in days (no rounding to a date: the evaluation does none), per bucket
(ocean split at berthing) x season of the snapshot.

Its mean padding per cell is that of a perfectly calibrated estimator holding at
least the information the records give; an estimator that knows less and is
calibrated as well pays more padding, in all likelihood. (Not as a theorem: a
cell's coverage could be bought more cheaply by over-covering some promises and
under-covering others; the oracle promises each snapshot's own quantile.)

Where it departs from the exact law given the records (in its favour: it knows
more; against it: less):

- other shipments are not resampled: the FC backlog counts their deliveries as
  drawn, future ones included (in its favour);
- the ocean timetable is known from shipping; a record shows it once booked (in
  its favour);
- a domestic ``delayed`` notice gives the delivery exactly; its ETA gives it
  within 0.2 d (in its favour);
- what a vessel's sister shipments reveal is unused, and so is the time of an
  ocean ``checked_in`` scan (against it, slightly).

Futures are weighted (likelihoods of what was seen); a snapshot draws batches of
``resamples`` until the effective sample size reaches ``resamples``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from headstart.domain.estimate.instants import hours_between
from headstart.domain.estimate.prior import is_peak
from headstart.domain.estimate.progress import ClosedShipment
from headstart.domain.estimate.stages import progress_at, snapshot_times, stage_of
from headstart.evaluation.metrics import Scores, score
from headstart.evaluation.replay import BUCKETS, bucket_of, split_history
from headstart.evaluation.report import CELL_COVERAGE, PADDING_TARGET_DAYS
from headstart.sim.history.draft import Draft
from headstart.sim.history.generator import SyntheticHistory
from headstart.sim.history.oracle_law import (
    Array,
    ReceivingLaw,
    RegimeChain,
    Seen,
    TransitLaw,
    effective_size,
    weighted_quantiles,
)
from headstart.sim.history.oracle_ocean import OceanFutures
from headstart.sim.history.oracle_transit import AirFutures, DomesticFutures
from headstart.sim.history.parameters import DEFAULTS, GeneratorParameters

_MINUTES_PER_DAY = 1440
_MINUTE = timedelta(minutes=1)
_MAX_BATCHES = 25
_PEAK_FACTOR = 2.0  # issue 3: in peak at most twice the off-peak padding
_PROGRESS_STEP = 200


@dataclass(frozen=True)
class OraclePromise:
    """One snapshot: the oracle's promise and what came of it (hours from ``made_at``)."""

    shipment_id: str
    bucket: str
    peak: bool
    stage: str  # the furthest milestone reached (``stages.stage_of``)
    made_at: datetime
    promised_hours: float
    floor_hours: float  # the promise at the cell coverage floor (0.95) instead
    actual_hours: float
    effective_size: float
    pit: float  # the oracle's P(in stock by the actual instant): uniform if its law is right


@dataclass(frozen=True)
class OracleRun:
    promises: list[OraclePromise]
    test_shipments: int
    snapshots: int  # of the test part, before any stride
    stride: int
    starved: int  # snapshots whose effective sample size stayed below ``resamples``
    failed: int  # snapshots no drawn future was consistent with (left out)


@dataclass(frozen=True)
class Futures:
    """Drawn in-stock instants (days since the history's start) and their weights."""

    values: Array
    weights: Array

    @property
    def effective_size(self) -> float:
        return effective_size(self.weights)

    def quantiles(self, levels: Sequence[float]) -> list[float]:
        return weighted_quantiles(self.values, self.weights, levels)

    def share_by(self, day: float) -> float:
        """The probability of being in stock by ``day``."""
        return float(self.weights[self.values <= day].sum() / self.weights.sum())


@dataclass(frozen=True)
class OracleCell:
    name: str
    scores: Scores  # promising the q-quantile
    floor: Scores  # promising the quantile at the cell coverage floor (0.95)
    target_padding_days: float | None


class Oracle:
    """Draws futures of any shipment of ``history`` from the generator's law."""

    def __init__(
        self, history: SyntheticHistory, parameters: GeneratorParameters = DEFAULTS
    ) -> None:
        drafts = history.drafts()
        self.receiving = ReceivingLaw(drafts, parameters, history.start, history.receiving_fit)
        chain = RegimeChain(parameters, history.weekly_regimes)
        domestic = DomesticFutures(
            parameters, lambda day: bool(self.receiving.is_peak(np.array([day]))[0])
        )
        ocean = OceanFutures(parameters, chain, history.sailing_phases, history.vessel_schedules)
        self._transit: dict[str, TransitLaw] = {
            "parcel": domestic,
            "ltl": domestic,
            "ftl": domestic,
            "air": AirFutures(parameters),
            "ocean": ocean,
        }

    def futures(
        self, rng: np.random.Generator, n: int, d: Draft, seen: Seen, now: float
    ) -> tuple[Array, Array]:
        """``n`` in-stock instants (days) and their weights, given ``seen`` by ``now``."""
        if "delivered" in seen:
            started = seen["receiving_started"][0][0] if "receiving_started" in seen else None
            return self.receiving.in_stock_at_fc(rng, n, d, now, started)
        delivered, weights = self._transit[d.mode].delivered(rng, n, d, seen, now)
        return self.receiving.in_stock(rng, d, delivered), weights

    def draw(
        self, rng: np.random.Generator, d: Draft, seen: Seen, now: float, resamples: int
    ) -> Futures | None:
        """Batches of ``resamples`` futures until their effective size reaches ``resamples``.

        None when no future drawn fits what was seen (never met on the default figures).
        """
        values: list[Array] = []
        weights: list[Array] = []
        for _ in range(_MAX_BATCHES):
            v, w = self.futures(rng, resamples, d, seen, now)
            values.append(v)
            weights.append(w)
            if effective_size(np.concatenate(weights)) >= resamples:
                break
        drawn = Futures(np.concatenate(values), np.concatenate(weights))
        return drawn if drawn.weights.sum() > 0 else None


def seen_by(d: Draft, minute: int) -> dict[str, list[tuple[float, float | None]]]:
    """The draft's events the record shows by ``minute`` (records round to the minute)."""
    seen: dict[str, list[tuple[float, float | None]]] = {}
    for kind, at, eta in d.events:
        if round(at * _MINUTES_PER_DAY) <= minute:
            seen.setdefault(kind, []).append((at, eta))
    return seen


def replay_oracle(
    history: SyntheticHistory,
    parameters: GeneratorParameters = DEFAULTS,
    *,
    train_fraction: float = 0.6,
    quantile: float = 0.97,
    resamples: int = 400,
    stride: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> OracleRun:
    """The oracle's promise at every ``stride``-th snapshot of the test part.

    Snapshots are taken in (shipping order, time) order; each draws from its own
    random stream, seeded by the history's seed, the shipment and the snapshot, so
    a stride or a different order never changes another snapshot's promise.
    ``progress`` is told (snapshots done, snapshots to do) as it goes.
    """
    oracle = Oracle(history, parameters)
    drafts = history.drafts()
    shipments = list(history.shipments())
    index = {s.shipment_id: i for i, s in enumerate(shipments)}
    _, test = split_history(shipments, train_fraction)
    plan = [(s, at) for s in test for at in snapshot_times(s)]
    promises: list[OraclePromise] = []
    starved = failed = 0
    chosen = plan[::stride]
    for k, (shipment, at) in enumerate(chosen):
        if progress is not None and k % _PROGRESS_STEP == 0:
            progress(k, len(chosen))
        i = index[shipment.shipment_id]
        minute = round((at - history.start) / _MINUTE)
        now = minute / _MINUTES_PER_DAY
        rng = np.random.default_rng([history.seed % 2**32, i, minute])
        seen = seen_by(drafts[i], minute)
        drawn = oracle.draw(rng, drafts[i], seen, now, resamples)
        if drawn is None:
            failed += 1
            continue
        starved += drawn.effective_size < resamples
        promises.append(_promise(shipment, at, now, drawn, quantile))
    if progress is not None:
        progress(len(chosen), len(chosen))
    return OracleRun(promises, len(test), len(plan), stride, starved, failed)


def _promise(
    shipment: ClosedShipment, at: datetime, now: float, drawn: Futures, quantile: float
) -> OraclePromise:
    progress = progress_at(shipment, at)
    promised, floor = drawn.quantiles((quantile, CELL_COVERAGE))
    actual_hours = hours_between(at, shipment.in_stock_at)
    return OraclePromise(
        shipment_id=shipment.shipment_id,
        bucket=bucket_of(progress),
        peak=is_peak(at),
        stage=stage_of(progress)[0],
        made_at=at,
        promised_hours=(promised - now) * 24.0,
        floor_hours=(floor - now) * 24.0,
        actual_hours=actual_hours,
        effective_size=drawn.effective_size,
        pit=drawn.share_by(now + actual_hours / 24.0),
    )


def cells_of(promises: Sequence[OraclePromise], quantile: float) -> list[OracleCell]:
    """Overall, then each bucket x (off-peak, peak) cell, as ``eta evaluate`` reports them."""

    def cell(name: str, chosen: Sequence[OraclePromise], limit: float | None) -> OracleCell:
        return OracleCell(
            name,
            score(((p.made_at, p.promised_hours, p.actual_hours) for p in chosen), quantile),
            score(((p.made_at, p.floor_hours, p.actual_hours) for p in chosen), CELL_COVERAGE),
            limit,
        )

    cells = [cell("overall", promises, None)]
    for bucket in BUCKETS:
        for peak, label in ((False, "off-peak"), (True, "peak")):
            chosen = [p for p in promises if p.bucket == bucket and p.peak == peak]
            limit = PADDING_TARGET_DAYS[bucket] * (_PEAK_FACTOR if peak else 1.0)
            cells.append(cell(f"{bucket} {label}", chosen, limit))
    return cells
