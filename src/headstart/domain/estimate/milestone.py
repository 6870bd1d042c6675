"""The milestone model: remaining transit from where the shipment stands, then receiving.

In-stock time = remaining transit to the FC + receiving (section 4). The two
stages are combined as distributions: N stratified draws of the remaining
transit, each paired (through a fixed shuffle) with a receiving draw for the
season of *that* draw's arrival, so quantiles are read off the sum, never added.

Remaining transit comes from one of two pools of closed shipments, whichever
the fit found sharper for this mode and milestone (by pinball loss at the
promise quantile):

- ``A``: delivery minus the carrier's latest ETA (the carrier's learned bias and
  spread), by how far ahead that ETA lay; given that the shipment is not yet
  delivered now, i.e. that the ETA error exceeds minus the time left to the ETA.
- ``B``: delivery minus the time the milestone was reached, given the time
  already spent since then.

Receiving comes from pools of delivered/checked-in/receiving-started to in stock,
by FC and season of arrival, normalised by the FC's load at arrival and scaled
by its load now (``LoadEffect``, per season, fading with the time to arrival). A
peak the history has not shown borrows the off-peak pools mapped quantile by
quantile onto the published peak figures (``peak_mapping``), a young one a
falling share of them (``young_peak``), less where the load now still holds
(``borrowed_weight``); the
published-figures prior stands at the root of every receiving chain and of the
"shipped" transit chain, so a season or mode the history has never shown still
gets a sound answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from headstart.domain.estimate.distribution import LEVELS, InStockEstimate
from headstart.domain.estimate.fc_load import LoadEffect
from headstart.domain.estimate.instants import hours_between, to_utc
from headstart.domain.estimate.pool_keys import (
    horizon_bucket,
    peak_mask,
    receiving_keys,
    season,
    transit_keys,
)
from headstart.domain.estimate.pools import Array, Pool, draw_chain
from headstart.domain.estimate.progress import ShipmentProgress
from headstart.domain.estimate.stages import AT_FC_RANK, RANK, SHIPPED, lane_of, slip_of, stage_of

MODEL_NAME = "milestone-1"
_LEVELS = np.asarray(LEVELS)
# Where the FC's load seen now still holds (at the FC: all of it; fading with the time to
# arrival), the peak's own pools scaled by that load answer for this share of what a young
# peak would otherwise borrow from the published figures (``borrowed_weight``).
LOAD_SPEAKS = 0.5


def borrowed_weight(fade: float) -> float:
    """The part of a young peak's borrowed share kept for an arrival whose load factor now
    holds ``fade`` (1 at the FC, toward 0 for arrivals weeks away): the published figures
    stand for the load a far arrival will meet; a near one's load is largely known."""
    return 1.0 - LOAD_SPEAKS * min(1.0, max(0.0, fade))


@dataclass(frozen=True)
class MilestoneSettings:
    """The fit's knobs; all part of the model's version."""

    draws: int = 1000
    lane_k: float = 30.0  # pseudo-observations a lane (or FC, carrier) needs to hold half
    group_k: float = 30.0
    prior_weight: float = 100.0  # the published prior's pseudo-observations
    prior_samples: int = 2000
    seed: int = 0
    quantile: float = 0.97  # the promise quantile the A/B choice is judged at
    min_history: int = 30
    horizon_edges_days: tuple[float, ...] = (1.0, 3.0, 7.0, 14.0)
    unvalidated_widening: float = 1.25
    unvalidated_grace_hours: float = 24.0


@lru_cache(maxsize=64)
def _shuffle(n: int) -> npt.NDArray[np.int64]:
    """A fixed permutation pairing transit draws with receiving draws (deterministic)."""
    return np.random.default_rng(n).permutation(n)


@dataclass(frozen=True)
class MilestoneModel:
    """A fitted milestone model; read-only. Build with ``fit_milestone_model``."""

    settings: MilestoneSettings
    pools: dict[str, Pool]
    choice: dict[str, str]  # "mode|stage" -> "A" (carrier ETA) or "B" (time since milestone)
    load: LoadEffect
    history_count: int
    version: str = field(default=MODEL_NAME)
    # Published peak/off-peak receiving ratio, behind the borrowed ``peak~`` pools.
    season_stretch: float = 1.0
    # Share of peak receiving drawn from the borrowed chain alone (``peak~`` and the
    # prior) because the peak under way was young at the fit: see ``young_season_share``.
    young_peak: float = 0.0

    def estimate(self, progress: ShipmentProgress, now: datetime) -> InStockEstimate:
        """Remaining in-stock time of ``progress`` at ``now`` (section 4; R9 on every event)."""
        now = to_utc("now", now)
        hours, behind = self.hours(progress, now)
        return self.estimate_of(now, hours, behind)

    def estimate_of(self, now: datetime, hours: Array, behind: int) -> InStockEstimate:
        """Wrap a grid from ``hours`` (perhaps corrected since) as an ``InStockEstimate``."""
        return InStockEstimate(
            computed_at=now,
            model_version=self.version,
            basis="history" if behind >= self.settings.min_history else "prior",
            history_count=behind,
            hours=tuple(hours.tolist()),
        )

    def hours(self, progress: ShipmentProgress, now: datetime) -> tuple[Array, int]:
        """Remaining hours at each of ``LEVELS``, and the history count behind them."""
        start = max(now, progress.shipped_at)  # not yet shipped: wait for shipping first
        wait = hours_between(now, start)
        total, behind = self.remaining_draws(progress, start)
        total.sort()
        hours = np.interp(_LEVELS * total.size - 0.5, _positions(total.size), total)
        factor = 1.0
        unvalidated_for = hours_between(progress.shipped_at, now)
        if not progress.tracking_validated and unvalidated_for >= (
            self.settings.unvalidated_grace_hours
        ):
            factor = self.settings.unvalidated_widening  # R2a: unvalidated ids, less confidence
        return wait + np.maximum.accumulate(hours) * factor, behind

    def remaining_draws(self, progress: ShipmentProgress, now: datetime) -> tuple[Array, int]:
        """N draws of the remaining hours to in stock, and the history count behind them."""
        stage, stage_at = stage_of(progress)
        n = self.settings.draws
        if RANK[stage] >= AT_FC_RANK:
            # At the FC the remaining time is read off the delivered -> in stock pools given
            # the time since delivery, whichever at-FC milestone came since: the time already
            # waited says more than "receiving has started" (a start three weeks after
            # delivery ends far later than one the same day), and the later milestones'
            # own pools forget that wait.
            arrived = progress.delivered_at or stage_at
            peak = season(arrived)
            log_f = self.load.log_factor_now(progress, peak == "peak")
            return self._receiving(
                progress.mode, progress.destination_fc, "delivered", peak,
                hours_between(arrived, now), math.exp(log_f), n, borrowed_weight(1.0),
            )  # fmt: skip
        transit, behind = self._transit(progress, stage, stage_at, now, n)
        if progress.carrier_eta is not None:
            # Carriers' ETAs run early (section 4): freight is not at the FC before the
            # carrier itself says, whichever pool answered. A reported delay so always
            # moves the estimate (R9), even where no history taught the ETA's bias.
            transit = np.maximum(transit, hours_between(now, progress.carrier_eta))
        return transit + self._receiving_after(progress, now, transit), behind

    def _receiving(
        self,
        mode: str,
        fc: str,
        milestone: str,
        peak: str,
        spent: float,
        scale: float,
        n: int,
        borrowing: float = 1.0,
    ) -> tuple[Array, int]:
        keys = receiving_keys(milestone, mode, fc, peak)
        chain = self._chain(keys)
        if milestone == "delivered":
            chain = self._with_prior(chain, f"P|R|{peak}")
        cut = spent / scale
        share = self.young_peak * borrowing
        young = round(n * share) if peak == "peak" and milestone == "delivered" else 0
        draws, behind = draw_chain(chain, [cut] * len(chain), n - young)
        if young:
            # A young peak's own pools hold only its quick deliveries (the slow ones are
            # still open): part of the draws come from the published peak figures alone.
            borrowed = self._with_prior(
                self._chain([key for key in keys if key[0].endswith("~")]), f"P|R|{peak}"
            )
            extra, _ = draw_chain(borrowed, [cut] * len(borrowed), young)
            draws = np.concatenate([draws, extra]) if n > young else extra
        return draws * scale, behind

    def _receiving_after(self, progress: ShipmentProgress, now: datetime, transit: Array) -> Array:
        """Receiving draws for arrivals at ``now + transit``, paired through a fixed shuffle."""
        out = np.empty_like(transit)
        in_peak = peak_mask(now.timestamp() + transit * 3600.0)
        fade = np.exp(-transit / (24.0 * self.load.persistence_days))
        for flag, label in ((False, "off"), (True, "peak")):
            mask = in_peak == flag
            count = int(mask.sum())
            if not count:
                continue
            log_now = self.load.log_factor_now(progress, flag)
            draws, _ = self._receiving(
                progress.mode, progress.destination_fc, "delivered", label, 0.0, 1.0, count,
                borrowed_weight(float(fade[mask].mean())),
            )  # fmt: skip
            order = _shuffle(count)
            out[mask] = draws[order] * np.exp(log_now * fade[mask])
        return out

    def _transit(
        self, progress: ShipmentProgress, stage: str, stage_at: datetime, now: datetime, n: int
    ) -> tuple[Array, int]:
        lane = lane_of(progress.origin, progress.destination_fc)
        peak = season(now)
        eta = progress.carrier_eta
        if eta is not None and self.choice.get(f"{progress.mode}|{stage}") == "A":
            ahead = hours_between(now, eta)
            hb = horizon_bucket(ahead, self.settings.horizon_edges_days)
            slip = slip_of(eta, progress.first_carrier_eta)
            keys = transit_keys("A", progress.mode, stage, lane, progress.carrier, peak, hb, slip)
            chain = self._chain(keys)
            if chain:
                return draw_chain(chain, [-ahead] * len(chain), n)
        keys = transit_keys("B", progress.mode, stage, lane, progress.carrier, peak, "", "")
        spent = hours_between(stage_at, now)
        if stage != SHIPPED and not self._chain(keys):
            stage, spent = SHIPPED, hours_between(progress.shipped_at, now)
            keys = transit_keys("B", progress.mode, stage, lane, progress.carrier, peak, "", "")
        chain = self._chain(keys)
        if stage == SHIPPED:
            chain = self._with_prior(chain, f"P|T|{progress.mode}|{peak}")
        return draw_chain(chain, [spent] * len(chain), n)

    def _chain(self, keys: list[tuple[str, str]]) -> list[tuple[Pool, float]]:
        k = {"lane": self.settings.lane_k, "group": self.settings.group_k}
        return [(self.pools[key], k[level]) for key, level in keys if key in self.pools]

    def _with_prior(self, chain: list[tuple[Pool, float]], key: str) -> list[tuple[Pool, float]]:
        """The prior last, taking ``prior_weight / (n + prior_weight)`` from the history root."""
        if chain:
            chain[-1] = (chain[-1][0], self.settings.prior_weight)
        return [*chain, (self.pools[key], 0.0)]


@lru_cache(maxsize=8)
def _positions(n: int) -> Array:
    return np.arange(n, dtype=np.float64)
