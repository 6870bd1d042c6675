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
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
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
    mostly receiving) is not carried into the weeks after it, nor before.
    """
    peak = is_peak(now + timedelta(hours=median_hours))
    return f"{progress.mode}|{phase_of(progress)}|{'peak' if peak else 'off'}"


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

    def observe(
        self,
        group: str,
        raw: InStockEstimate,
        predicted: InStockEstimate,
        in_stock_at: datetime,
        weight: float = 1.0,
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
        alpha = self.alpha
        level = state.level + weight * self.step * (alpha - (1.0 if miss else 0.0))
        state.level = min(_LEVEL_SPAN[1] * alpha, max(_LEVEL_SPAN[0] * alpha, level))
        stamp = in_stock_at.timestamp()
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

    def to_dict(self) -> dict[str, object]:
        return {
            "quantile": self.quantile,
            "step": self.step,
            "window": self.window,
            "floor_hours": self.floor_hours,
            "margin": self.margin,
            "default_offset": self.default_offset,
            "memory_days": self.memory_days,
            "min_kept": self.min_kept,
            "floor_offset": self.floor_offset,
            "young_group": self.young_group,
            "groups": {
                name: {
                    "level": state.level,
                    "observed": state.observed,
                    "scores": [round(v, 5) for v in state.scores],
                    "times": [round(v, 1) for v in state.times],
                }
                for name, state in sorted(self.groups.items())
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> ConformalCalibration:
        try:
            window = int(str(d["window"]))
            raw_groups = d.get("groups", {})
            assert isinstance(raw_groups, Mapping)
            groups = {}
            for name, g in raw_groups.items():
                assert isinstance(g, Mapping)
                scores = g["scores"]
                times = g.get("times", [])
                assert isinstance(scores, list) and isinstance(times, list)
                groups[str(name)] = GroupState(
                    float(g["level"]),
                    deque((float(v) for v in scores), maxlen=window),
                    int(g["observed"]),
                    times=deque((float(v) for v in times), maxlen=window),
                )
            return cls(
                quantile=float(str(d["quantile"])),
                step=float(str(d["step"])),
                window=window,
                floor_hours=float(str(d["floor_hours"])),
                groups=groups,
                default_offset=float(str(d.get("default_offset", 0.0))),
                margin=float(str(d.get("margin", 0.0))),
                memory_days=float(str(d.get("memory_days", 28.0))),
                min_kept=int(str(d.get("min_kept", 200))),
                floor_offset=float(str(d.get("floor_offset", 0.0))),
                young_group=int(str(d.get("young_group", 0))),
            )
        except (AssertionError, KeyError, TypeError, ValueError) as error:
            raise InvalidEstimateInput(f"malformed stored calibration: {error}") from error
