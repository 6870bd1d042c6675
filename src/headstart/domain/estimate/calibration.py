"""Online calibration: a one-sided adaptive conformal correction per group (section 4).

Each group (mode x phase x season: en route, berthed or at the FC; peak or not,
by the expected in-stock time) holds an offset θ on a log scale. The upper half
of an estimate is stretched by it, fully from the promise quantile q upward and
fading to nothing at the median:

    hours'(p) = (hours(p) + f) · exp(θ · w(p)) - f,   w(p) = clip((p - ½) / (q - ½), 0, 1)

(f, a few hours, keeps a near-zero remainder from pinning the stretch at zero).

θ is adaptive conformal inference as Gibbs & Candès (2021) state it: the
(1 - alpha_t)-quantile of the group's recent conformity scores, where a score is
the offset that would just have covered an outcome, and the working level
alpha_t follows the misses of the promises actually made:

    alpha_t ← alpha_t + gamma · w · ((1 - q) - miss_t)

where miss_t says the shipment came into stock later than the promised
q-quantile and w is the outcome's weight (1/k for each of a shipment's k
promises). alpha_t is kept within [0.75 alpha, 1.5 alpha]

so the share of misses is pulled toward 1 - q, while the recent-score window
moves θ quickly when outcomes change. Scores are forgotten by age (``memory_days``,
once ``min_kept`` newer ones remain) so a season that has turned, or a model
refitted since, stops weighing on θ within weeks; θ never falls below
``floor_offset`` (0: the correction only ever widens the model's own estimate). Labels
arrive late (an ocean promise is judged weeks after it is made), so
``observe`` is called only once a shipment is in stock; nothing here reads a
clock. Each group starts from held-out scores (``warm_start``), so the
correction is right from the first day.

A miss need not wait for its shipment to close: once a promise's date has passed
without it (``observe_overdue``) the level moves at once, and the promise counts
among the scores at its lower bound (the score of coming into stock at the latest
outcome or deadline the group has heard of), until its outcome replaces it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from headstart.domain.estimate.distribution import LEVELS, InStockEstimate
from headstart.domain.estimate.errors import InvalidEstimateInput
from headstart.domain.estimate.instants import hours_between, to_utc
from headstart.domain.estimate.pools import Array
from headstart.domain.estimate.prior import is_peak
from headstart.domain.estimate.progress import ShipmentProgress
from headstart.domain.estimate.stages import phase_of

_LEVELS = np.asarray(LEVELS)
MIN_GROUP = 30  # scores a group needs before its own offset replaces the default
# alpha_t stays within [0.75 alpha, 1.5 alpha]: the recent scores carry the shift, the level
# only trims it; unbounded, a burst of correlated misses (one late vessel, many promises) drives
# alpha_t below zero and the offset to the window's maximum for weeks.
_LEVEL_SPAN = (0.75, 1.5)


def group_of(progress: ShipmentProgress, now: datetime, median_hours: float) -> str:
    """The calibration group: ``mode|phase|season``, the season of the expected in-stock time.

    Season is part of the group so that what peak teaches the correction (it is
    mostly receiving) is not carried into the weeks after it, nor before. An
    estimate is corrected by the group of its median; an outcome is scored in the
    group of the season it came into stock in (``outcome_group_of``).
    """
    return estimate_group(kind_of(progress), now, median_hours)


def estimate_group(kind: str, now: datetime, median_hours: float) -> str:
    """``group_of`` an estimate of ``kind`` (``kind_of``) made at ``now``."""
    return group_in_season(kind, now + timedelta(hours=median_hours))


def kind_of(progress: ShipmentProgress) -> str:
    """``mode|phase``: the calibration group but for its season."""
    return f"{progress.mode}|{phase_of(progress)}"


def group_in_season(kind: str, at: datetime) -> str:
    """The group of ``kind`` (``kind_of``) in the season of the instant ``at``."""
    return f"{kind}|{'peak' if is_peak(at) else 'off'}"


def outcome_group_of(progress: ShipmentProgress, in_stock_at: datetime) -> str:
    """The group an outcome teaches: that of the season the shipment came into stock in.

    Scored by the season its estimate expected, a promise made before peak for an
    off-peak arrival that peak caught teaches the off-peak group peak's receiving, and
    with few off-peak outcomes closing in peak those scores set its correction for the
    weeks after peak (ocean padding doubled in December for it).
    """
    return group_in_season(kind_of(progress), in_stock_at)


def sibling_of(group: str) -> str:
    """The same mode and phase in the other season."""
    head, _, season = group.rpartition("|")
    return f"{head}|{'off' if season == 'peak' else 'peak'}"


@dataclass
class GroupState:
    """One group's working level alpha_t and its most recent scores (oldest first), each
    with the epoch second of its outcome (NaN: a held-out score from ``warm_start``)."""

    level: float
    scores: deque[float]
    observed: int = 0
    cached: float | None = None  # θ as last computed; cleared by every change
    times: deque[float] = field(default_factory=deque)
    # Promises past their deadline, not yet in stock: key -> (made at, raw q-hours, weight
    # counted, lower bound of the score as of the group's latest news).
    overdue: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)


@dataclass
class ConformalCalibration:
    """Per-group adaptive conformal state, updated in place by ``observe``; JSON-safe."""

    quantile: float = 0.97
    step: float = 0.002  # gamma: how far one outcome moves the working level alpha_t
    window: int = 2000  # recent scores kept per group
    floor_hours: float = 12.0
    groups: dict[str, GroupState] = field(default_factory=dict)
    default_offset: float = 0.0
    # Coverage aimed at: q plus a margin, because a shift is only seen once its late
    # outcomes arrive, and the weeks before it cost coverage that must be made up.
    margin: float = 0.01
    # Scores older than this (by outcome time, against the group's newest) are forgotten
    # once ``min_kept`` newer ones remain: a model refitted since, or a season that has
    # turned, makes old scores stale, and a count window alone keeps them for months in
    # a quiet group.
    memory_days: float = 28.0
    min_kept: int = 200
    # θ never falls below this: a group whose earliest outcomes came in early (the first
    # ones of a new season always do: the slow ones are still open) must not shrink the
    # model's own estimate just as the season turns.
    floor_offset: float = 0.0
    # Outcomes a group must have shown before it may be corrected less than its sibling.
    young_group: int = 300

    @property
    def alpha(self) -> float:
        """The miss rate aimed at: 1 - (q + margin)."""
        return 1.0 - self.quantile - self.margin

    def __post_init__(self) -> None:
        if not 0.5 < self.quantile < 1.0:
            raise InvalidEstimateInput("the calibrated quantile must lie in (0.5, 1)")
        if self.margin < 0.0 or self.quantile + self.margin >= 1.0:
            raise InvalidEstimateInput("the margin must keep the target coverage below 1")
        if self.step <= 0.0 or self.floor_hours <= 0.0 or self.window < 1:
            raise InvalidEstimateInput("step, window and floor_hours must be positive")
        if self.memory_days <= 0.0 or self.min_kept < 1:
            raise InvalidEstimateInput("memory_days and min_kept must be positive")

    def offset(self, group: str) -> float:
        """θ of ``group``: the (1 - alpha_t)-quantile of its recent scores."""
        state = self.groups.get(group)
        sibling = self.groups.get(sibling_of(group))
        if sibling is not None and len(sibling.scores) < MIN_GROUP:
            sibling = None
        if state is None or len(state.scores) < MIN_GROUP:
            if sibling is None:
                return max(self.floor_offset, self.default_offset)
            return self._theta(sibling)  # a season not seen yet starts where the other stands
        if state.observed < self.young_group and sibling is not None:
            # A season's first outcomes are its quick ones (the slow are still open): until
            # it has shown ``young_group`` of its own, it is never corrected less than the
            # other season.
            return max(self._theta(state), self._theta(sibling))
        return self._theta(state)

    def _theta(self, state: GroupState) -> float:
        if state.cached is None:
            level = min(1.0, max(0.0, 1.0 - state.level))
            scores = np.asarray(state.scores, dtype=np.float64)
            if state.overdue:
                bounds = [entry[3] for entry in state.overdue.values()]
                scores = np.concatenate((scores, np.asarray(bounds, dtype=np.float64)))
            state.cached = max(
                self.floor_offset, float(np.quantile(scores, level, method="higher"))
            )
        return state.cached

    def adjust(self, estimate: InStockEstimate, group: str) -> InStockEstimate:
        """``estimate`` with the group's correction applied (monotone, non-negative)."""
        hours = self.adjust_hours(np.asarray(estimate.hours), group)
        return InStockEstimate(
            computed_at=estimate.computed_at,
            model_version=estimate.model_version,
            basis=estimate.basis,
            history_count=estimate.history_count,
            hours=tuple(hours.tolist()),
        )

    def adjust_hours(self, hours: Array, group: str) -> Array:
        """The corrected grid of remaining hours at ``LEVELS``."""
        theta = self.offset(group)
        if theta == 0.0:
            return hours
        weight = np.clip((_LEVELS - 0.5) / (self.quantile - 0.5), 0.0, 1.0)
        stretched = (hours + self.floor_hours) * np.exp(theta * weight) - self.floor_hours
        out: Array = np.maximum.accumulate(np.maximum(stretched, 0.0))
        return out

    def _new_state(self) -> GroupState:
        return GroupState(self.alpha, deque(maxlen=self.window), times=deque(maxlen=self.window))

    def observe_overdue(
        self, group: str, key: str, raw: InStockEstimate, now: datetime, weight: float = 1.0
    ) -> float:
        """A promise of ``group`` reached its deadline ``now`` with the shipment not in stock:
        a miss, known now rather than weeks later once it closes. The level moves at once;
        until the outcome closes (``observe`` with the same ``key``) the promise counts
        among the scores as its lower bound, the score of an in-stock time of ``now``,
        raised to the group's latest news as time passes. Returns the group's new θ."""
        now = to_utc("now", now)
        state = self.groups.get(group)
        if state is None:
            state = self.groups[group] = self._new_state()
        self._move_level(state, True, weight)
        made = raw.computed_at.timestamp()
        promised = hours_between(raw.computed_at, raw.quantile(self.quantile))
        state.overdue[key] = (made, promised, weight, 0.0)
        self._raise_bounds(state, now.timestamp())
        return self.offset(group)

    def _raise_bounds(self, state: GroupState, stamp: float) -> None:
        """Each open overdue promise's score as if it came into stock at ``stamp``."""
        for key, (made, promised, weight, _) in state.overdue.items():
            actual = max((stamp - made) / 3600.0, 0.0)
            bound = math.log((actual + self.floor_hours) / (promised + self.floor_hours))
            state.overdue[key] = (made, promised, weight, bound)
        state.cached = None

    def forget_overdue(self, group: str, key: str) -> None:
        """The overdue promise ``key`` will have no outcome (its shipment was cancelled or
        closed with nothing received): its miss stands, its lower-bound score goes."""
        self._close_overdue(key, group)

    def _close_overdue(self, key: str, group: str) -> tuple[float, float, float, float] | None:
        """Take ``key`` off the overdue promises of ``group`` or of its sibling (an overdue
        promise is held in the season of its deadline, its outcome in that of its close)."""
        for name in (group, sibling_of(group)):
            state = self.groups.get(name)
            if state is not None and key in state.overdue:
                state.cached = None
                return state.overdue.pop(key)
        return None

    def _move_level(self, state: GroupState, miss: bool, weight: float) -> None:
        alpha = self.alpha
        level = state.level + weight * self.step * (alpha - (1.0 if miss else 0.0))
        state.level = min(_LEVEL_SPAN[1] * alpha, max(_LEVEL_SPAN[0] * alpha, level))

    def observe(
        self,
        group: str,
        raw: InStockEstimate,
        predicted: InStockEstimate,
        in_stock_at: datetime,
        weight: float = 1.0,
        key: str | None = None,
    ) -> float:
        """Learn from one outcome of ``group``; returns the group's new offset θ.

        ``raw`` is the model's estimate before correction, ``predicted`` the
        corrected one a promise rested on; call once the shipment is in stock.
        ``weight`` scales the step (1/k for each of one shipment's k estimates,
        so a shipment that missed at every event counts as one miss, not k).
        """
        in_stock_at = to_utc("in_stock_at", in_stock_at)
        miss = in_stock_at > predicted.quantile(self.quantile)
        state = self.groups.get(group)
        if state is None:
            state = self.groups[group] = self._new_state()
        opened = self._close_overdue(key, group) if key is not None else None
        if opened is None:
            self._move_level(state, miss, weight)
        elif weight != opened[2]:
            self._move_level(state, True, weight - opened[2])  # the weight known only now
        stamp = in_stock_at.timestamp()
        if state.overdue:
            self._raise_bounds(state, stamp)
        # Held-out scores (no time of their own) count as of the group's first outcome.
        state.times.extendleft([stamp] * (len(state.scores) - len(state.times)))
        state.scores.append(self.score(raw, in_stock_at))
        state.times.append(stamp)
        cutoff = stamp - self.memory_days * 86400.0
        while len(state.scores) > self.min_kept and state.times[0] < cutoff:
            state.scores.popleft()
            state.times.popleft()
        state.observed += 1
        state.cached = None
        return self.offset(group)

    def score(self, estimate: InStockEstimate, in_stock_at: datetime) -> float:
        """The offset that would just have covered this outcome."""
        actual = max(hours_between(estimate.computed_at, in_stock_at), 0.0)
        promised = hours_between(estimate.computed_at, estimate.quantile(self.quantile))
        return math.log((actual + self.floor_hours) / (promised + self.floor_hours))

    def warm_start(self, scores: Iterable[tuple[str, float]]) -> None:
        """Fill each group's window with held-out scores (most recent last)."""
        everything: list[float] = []
        for group, value in scores:
            everything.append(value)
            state = self.groups.get(group)
            if state is None:
                state = self._new_state()
                self.groups[group] = state
            state.scores.append(value)
            state.cached = None
        if everything:
            level = min(1.0, math.ceil((len(everything) + 1) * (1 - self.alpha)) / len(everything))
            self.default_offset = float(np.quantile(np.asarray(everything), level, method="higher"))
