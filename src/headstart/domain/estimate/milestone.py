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
by FC and season of arrival, normalised by the FC's load at arrival (``LoadEffect``,
per season). An FC's pools borrow from those above it (mode, all FCs) at its own
level (``fc_levels``), not the mix of fast and slow FCs. The load scaling a draw is
the one its arrival will meet: at the FC, the load it met on delivery (kept when the
delivery was recorded) and, once receiving has started, narrowed by how long it waited
for that (``receiving_start``); an arrival
within a week, a draw around the forecast from the FC's deliveries and inbound
freight (``inbound.ArrivalForecast``, its spread narrowing toward the door); a
further one, the load now fading with the time to arrival. A peak the history has
not shown borrows the off-peak pools mapped quantile by quantile onto the published
peak figures (``peak_mapping``). A young peak's pools hold only its quick receipts:
where the fit saw its open deliveries, a censored fit of them all says how many will
take longer than the peak's age (``peak_tail``); otherwise a falling share comes from
the published figures (``young_peak``), less where the load at arrival is known
(``borrowed_weight``). The published-figures prior stands at the root of every
receiving chain and of the "shipped" transit chain, so a season or mode the history
has never shown still gets a sound answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from headstart.domain.estimate.distribution import LEVELS, InStockEstimate
from headstart.domain.estimate.fc_load import MAX_LOG_EFFECT, LoadEffect
from headstart.domain.estimate.inbound import WINDOW_DAYS, delivered_window
from headstart.domain.estimate.instants import hours_between, to_utc
from headstart.domain.estimate.pool_keys import (
    horizon_bucket,
    peak_mask,
    receiving_keys,
    season,
    transit_keys,
)
from headstart.domain.estimate.pools import Array, Pool, draw_chain, draw_chain_scaled
from headstart.domain.estimate.progress import ShipmentProgress
from headstart.domain.estimate.receiving_start import SHARE_ALL, given_start, share_key
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
    # Per FC, a young peak's receiving past its age by the censored fit of every delivery
    # so far (``fc_load.fit_censored_seasons``): (mu, sigma) of log hours at the usual load
    # and the peak's age in hours. An FC here takes its tail from the fit, not ``young_peak``.
    peak_tail: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    # Per season ("off", "peak"), each FC's receiving level relative to the FCs' mean, by the
    # censored fit: receiving pools above the FC (mode, all) hold durations divided by it,
    # so an FC borrowing from them borrows at its own level, not the mix of fast and slow.
    fc_levels: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

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
            spent = hours_between(arrived, now)
            log_f = self._log_factor_on_delivery(progress, spent, peak)
            draws, behind = self._receiving(
                progress.mode, progress.destination_fc, "delivered", peak, spent,
                math.exp(log_f), n, borrowed_weight(1.0),
            )  # fmt: skip
            if stage == "receiving_started":
                # ...and, once receiving has started, how long the receipt waited for it.
                shares = self._shares(progress.mode)
                draws = given_start(draws, spent, hours_between(arrived, stage_at), shares)
            return draws, behind
        transit, behind = self._transit(progress, stage, stage_at, now, n)
        if progress.carrier_eta is not None:
            # Carriers' ETAs run early (section 4): freight is not at the FC before the
            # carrier itself says, whichever pool answered. A reported delay so always
            # moves the estimate (R9), even where no history taught the ETA's bias.
            transit = np.maximum(transit, hours_between(now, progress.carrier_eta))
        return transit + self._receiving_after(progress, now, transit), behind

    def _shares(self, mode: str) -> Array:
        """The history's shares of time at the FC spent waiting for receiving to start
        (``receiving_start``): the mode's, else every mode's; empty if none were seen."""
        for key in (share_key(mode), SHARE_ALL):
            pool = self.pools.get(key)
            if pool is not None and pool.count >= self.settings.min_history:
                return pool.values
        return np.zeros(0)

    def _log_factor_on_delivery(self, progress: ShipmentProgress, ago: float, peak: str) -> float:
        """The load factor a receipt delivered ``ago`` hours ago met on delivery, as the
        pools were normalised: the backlog and the week's deliveries then
        (``fc_*_at_delivery``); where not kept, the deliveries read off the FC's daily
        arrivals (``delivered_window``), and the backlog now."""
        deliveries = progress.fc_deliveries_7d_at_delivery
        if deliveries is None:
            known = (
                None
                if progress.fc_arrivals is None
                else delivered_window(progress.fc_arrivals, ago / 24.0)
            )
            deliveries = progress.fc_deliveries_7d if known is None else round(known)
        backlog = progress.fc_backlog_at_delivery
        if backlog is None:
            backlog = progress.fc_backlog
        return self.load.log_factor(progress.destination_fc, backlog, deliveries, peak == "peak")

    def _young(self, n: int, fc: str, peak: str, milestone: str, borrowing: float) -> int:
        """How many of ``n`` receiving draws a young peak takes from the published figures."""
        if peak != "peak" or milestone != "delivered":
            return 0
        return round(n * self.young_peak * borrowing)

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
        censored_tail: bool = True,
    ) -> tuple[Array, int]:
        """``n`` draws: the pools' first, then the young peak's borrowed ones (``_young``) or
        its censored tail (``_tail_count``; ``censored_tail`` False: never)."""
        keys = receiving_keys(milestone, mode, fc, peak)
        chain, scales = self._receiving_chain(keys, fc, peak, milestone == "delivered")
        cut = spent / scale
        use_tail = censored_tail and fc in self.peak_tail
        young = 0 if use_tail else self._young(n, fc, peak, milestone, borrowing)
        tail = self._tail_count(n, fc, peak, milestone, cut, chain) if use_tail else 0
        draws, behind = draw_chain_scaled(chain, cut, scales, n - young - tail)
        if tail:
            mu, sigma, age = self.peak_tail[fc]
            extra = _lognormal_beyond(mu, sigma, max(cut, age), tail) - cut
            draws = np.concatenate([draws, extra])
        if young:
            # A young peak's own pools hold only its quick deliveries (the slow ones are
            # still open): part of the draws come from the published peak figures alone.
            borrowed, borrowed_scales = self._receiving_chain(
                [key for key in keys if key[0].endswith("~")], fc, peak, True
            )
            extra, _ = draw_chain_scaled(borrowed, cut, borrowed_scales, young)
            draws = np.concatenate([draws, extra])
        return draws * scale, behind

    def _receiving_chain(
        self, keys: list[tuple[str, str]], fc: str, peak: str, prior: bool
    ) -> tuple[list[tuple[Pool, float]], list[float]]:
        """The chain of ``keys`` (then the published prior) and each pool's scale: 1 for the
        FC's own, the FC's level (``fc_levels``) for the pools above it."""
        chain = self._chain(keys)
        scales = []
        for key, level in keys:
            if key not in self.pools:
                continue
            source = "off" if key.endswith("~") else peak  # ``peak~`` is built from off-peak
            scales.append(1.0 if level == "lane" else self.fc_levels.get(source, {}).get(fc, 1.0))
        if prior:
            chain = self._with_prior(chain, f"P|R|{peak}")
            scales.append(1.0)
        return chain, scales

    def _tail_count(
        self,
        n: int,
        fc: str,
        peak: str,
        milestone: str,
        cut: float,
        chain: list[tuple[Pool, float]],
    ) -> int:
        """How many of ``n`` draws lie past a young peak's age (``peak_tail``): its closed
        deliveries, all the pools hold, are all shorter than its age; the censored fit says
        how many of them, beyond ``cut`` hours already spent, will take longer."""
        if peak != "peak" or milestone != "delivered" or fc not in self.peak_tail:
            return 0
        mu, sigma, age = self.peak_tail[fc]
        if cut >= age or not chain:
            return n
        beyond = _normal_tail((math.log(max(age, 1e-3)) - mu) / sigma)
        _, surviving = chain[0][0].surviving(cut)
        share = beyond / (beyond + (1.0 - beyond) * surviving) if beyond > 0.0 else 0.0
        return round(n * share)

    def _receiving_after(self, progress: ShipmentProgress, now: datetime, transit: Array) -> Array:
        """Receiving draws for arrivals at ``now + transit``, paired through a fixed shuffle."""
        out = np.empty_like(transit)
        in_peak = peak_mask(now.timestamp() + transit * 3600.0)
        fade = np.exp(-transit / (24.0 * self.load.persistence_days))
        arrival = self.load.arrival
        days = transit / 24.0
        forecast = self._arrival_load(progress, days[:1], False)
        # Within a week the arrival's load week is partly delivered and mostly inbound now, and
        # the forecast speaks; past it, the load now only fades and a young peak borrows from
        # the published figures, which hold every load.
        near = days < WINDOW_DAYS if forecast is not None else np.zeros(transit.size, dtype=bool)
        for flag, label in ((False, "off"), (True, "peak")):
            for seen in (True, False):
                mask = (in_peak == flag) & (near == seen)
                count = int(mask.sum())
                if not count:
                    continue
                order = _shuffle(count)
                if not seen or forecast is None or arrival is None:
                    draws, _ = self._receiving(
                        progress.mode, progress.destination_fc, "delivered", label, 0.0, 1.0,
                        count, borrowed_weight(float(fade[mask].mean())), censored_tail=False,
                    )  # fmt: skip
                    log_now = self.load.log_factor_now(progress, flag)
                    out[mask] = draws[order] * np.exp(log_now * fade[mask])
                    continue
                betas = self.load.betas(flag)
                # How far the load on arrival is known now: the share of the load factor's
                # variance the forecast removes.
                borrowing = borrowed_weight(
                    float(arrival.explained(betas, days[mask], flag).mean())
                )
                draws, _ = self._receiving(
                    progress.mode, progress.destination_fc, "delivered", label, 0.0, 1.0, count,
                    borrowing,
                )  # fmt: skip
                # The pools hold receiving at the usual load: each own draw meets a load drawn
                # around the forecast; the borrowed ones (the published peak figures, which
                # hold every load already) only its expected level.
                young = (
                    0
                    if progress.destination_fc in self.peak_tail
                    else self._young(count, progress.destination_fc, label, "delivered", borrowing)
                )
                noise = np.concatenate((_normal_scores(count - young), np.zeros(young)))[order]
                predicted = self._arrival_load(progress, days[mask], flag)
                assert predicted is not None  # as ``forecast``
                deliveries, backlog, _ = predicted
                mean = betas[0] * deliveries + betas[1] * backlog
                log_f = mean + arrival.spread(betas, days[mask], flag) * noise
                out[mask] = draws[order] * np.exp(np.clip(log_f, -MAX_LOG_EFFECT, MAX_LOG_EFFECT))
        return out

    def _arrival_load(
        self, progress: ShipmentProgress, days: Array, peak: bool
    ) -> tuple[Array, Array, Array] | None:
        """The forecast of the load arrivals ``days`` ahead will meet in the season ``peak``
        (``ArrivalForecast.predict``), or None when the FC's arrivals or load now are not
        known, or nothing was fitted."""
        arrival = self.load.arrival
        usual = self.load.usual.get(progress.destination_fc)
        if arrival is None or usual is None or progress.fc_arrivals is None:
            return None
        if progress.fc_deliveries_7d is None or progress.fc_backlog is None:
            return None
        load = (progress.fc_backlog, progress.fc_deliveries_7d)
        return arrival.predict(usual, load, progress.fc_arrivals, days, peak)

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


def _normal_tail(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _lognormal_beyond(mu: float, sigma: float, above: float, n: int) -> Array:
    """``n`` stratified draws of exp(N(mu, sigma)) given that they exceed ``above``."""
    dist = NormalDist()
    low = 1.0 - _normal_tail((math.log(max(above, 1e-3)) - mu) / sigma)
    levels = [min(low + (1.0 - low) * (i + 0.5) / n, 1.0 - 1e-12) for i in range(n)]
    out: Array = np.maximum(np.exp(mu + sigma * np.array([dist.inv_cdf(u) for u in levels])), above)
    return out


@lru_cache(maxsize=64)
def _normal_scores(n: int) -> Array:
    """Stratified standard normal draws in an order of their own, so a draw's load noise is
    independent of its receiving draw (the two are paired by ``_shuffle``'s order)."""
    dist = NormalDist()
    scores = np.array([dist.inv_cdf((i + 0.5) / n) for i in range(n)]) if n else np.zeros(0)
    out: Array = scores[np.random.default_rng(n + 1).permutation(n)]
    return out


@lru_cache(maxsize=8)
def _positions(n: int) -> Array:
    return np.arange(n, dtype=np.float64)
