"""Fitting the milestone model from closed shipments alone.

Every closed shipment is replayed through the instants a live service would
have re-estimated it (``snapshot_times``), and each snapshot contributes what it
could teach: the time from its milestone to delivery (pool B), the delivery's
distance from the carrier's latest ETA (pool A), and, once delivered, the time
from each at-FC milestone to in stock (pool R). Nothing about how the history
was made is assumed: any history in the JSONL format of section 4 (an air
forwarder with only departed, arrived and delivered events and planned times
as ETAs, say) fits the same way; pools the history cannot fill fall back to
their parent group and, at the root, to the published-figures prior.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from functools import lru_cache

import numpy as np

from headstart.domain.estimate.fc_load import (
    MIN_CENSORED_ROWS,
    FcLoadIndex,
    LoadEffect,
    SeasonFit,
    fit_censored_seasons,
    persistence_days,
)
from headstart.domain.estimate.inbound import fit_arrival_forecast
from headstart.domain.estimate.milestone import MODEL_NAME, MilestoneModel, MilestoneSettings
from headstart.domain.estimate.pool_keys import (
    PEAK_BOUNDS as _PEAK_BOUNDS,
)
from headstart.domain.estimate.pool_keys import (
    horizon_bucket,
    peak_mask,
    receiving_keys,
    season,
    transit_keys,
)
from headstart.domain.estimate.pools import Array, Pool
from headstart.domain.estimate.prior import is_peak, sample_receiving, sample_transit
from headstart.domain.estimate.progress import MODES, ClosedShipment
from headstart.domain.estimate.receiving_start import SHARE_ALL, share_key, start_share
from headstart.domain.estimate.stages import (
    AT_FC_RANK,
    RANK,
    lane_of,
    slip_of,
    walk,
)

_AT_FC = ("delivered", "checked_in", "receiving_started")
_MAX_POOL = 500


def arrival_of(shipment: ClosedShipment) -> float | None:
    """Epoch seconds the freight reached the FC: delivery, else the first at-FC event."""
    if shipment.delivered_at is not None:
        return shipment.delivered_at.timestamp()
    times = [e.occurred_at.timestamp() for e in shipment.events if e.type in _AT_FC]
    return min(times) if times else None


def fit_milestone_model(
    history: Sequence[ClosedShipment],
    settings: MilestoneSettings | None = None,
    *,
    load_index: FcLoadIndex | None = None,
    now: datetime | None = None,
) -> MilestoneModel:
    """Fit on ``history`` (closed shipments in any order); pure and deterministic.

    ``load_index`` gives the FCs' loads (default: counted from ``history`` itself).
    ``now``, the moment of a live fit, lets the fit weigh what cannot have closed yet
    (``MilestoneFitter.model``); without it the history is taken as complete.
    """
    fitter = MilestoneFitter(settings or MilestoneSettings(), load_index or FcLoadIndex.of(history))
    for shipment in history:
        fitter.add_transit(shipment)
        fitter.add_receiving(shipment)
    return fitter.model(now)


_Receiving = tuple[str, str, str, str, float, float, int, int]


class MilestoneFitter:
    """What closed shipments teach, kept so a scheduled refit only adds what closed since.

    A live service refits as outcomes arrive (receiving labels within days, so
    a season's change is learned while it lasts). Each shipment is walked once
    (``add_transit``, ``add_receiving``); ``model`` rebuilds the pools, the load
    effect and the A/B choice from everything added. Transit and receiving are
    added apart because their labels are ready at different times: a caller
    refitting from shipments closed by now may hold back a recent shipment's
    transit (the slow ones of its cohort are still open) while taking its receiving.
    """

    def __init__(self, settings: MilestoneSettings, load_index: FcLoadIndex) -> None:
        self.settings = settings
        self.load_index = load_index
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.judged: dict[str, list[tuple[float, float, str, float]]] = defaultdict(list)
        self.receiving: list[_Receiving] = []
        self.seen: set[str] = set()  # shipments added, in part or in full

    def add_transit(self, shipment: ClosedShipment) -> None:
        """The shipment's transit: milestone to delivery (B) and delivery less ETA (A)."""
        _collect_transit(shipment, self.settings, self.samples, self.judged)
        self.seen.add(shipment.shipment_id)

    def add_receiving(self, shipment: ClosedShipment) -> None:
        """The shipment's at-FC milestones to in stock, with the FC's load at its arrival."""
        _collect_receiving(shipment, self.receiving, self.load_index)
        _collect_start_share(shipment, self.samples)
        self.seen.add(shipment.shipment_id)

    def model(self, now: datetime | None = None) -> MilestoneModel:
        """The model of everything added. With ``now``, the history is "closed by now":
        receiving outcomes are weighted by the inverse chance that one of their length
        had closed by then (see ``open_weights``), so a season's first weeks, where
        only the quick ones are in, are not read as a quick season."""
        settings = self.settings
        weights = (
            open_weights(self.receiving, self.load_index, now.timestamp())
            if now is not None
            else np.ones(len(self.receiving))
        )
        load, (off_fit, peak_fit) = _fit_load(
            self.load_index, None if now is None else now.timestamp()
        )
        levels = fc_levels(off_fit, peak_fit)
        samples = {key: (np.asarray(v), None) for key, v in self.samples.items() if v}
        received: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
        for row, w in zip(self.receiving, weights.tolist(), strict=True):
            milestone, mode, fc, peak, hours, _, backlog, deliveries = row
            scaled = hours / math.exp(load.log_factor(fc, backlog, deliveries, peak == "peak"))
            common = scaled / levels.get(peak, {}).get(fc, 1.0)
            for key, level in receiving_keys(milestone, mode, fc, peak):
                values, ws = received[key]
                values.append(scaled if level == "lane" else common)
                ws.append(w)
        pools = {key: Pool.of(values, _MAX_POOL) for key, (values, _) in samples.items()}
        pools.update(
            (key, Pool.of(values, _MAX_POOL, weights=ws)) for key, (values, ws) in received.items()
        )
        priors = _prior_pools(settings)
        pools.update(dict(priors))
        mapping = peak_mapping(priors["P|R|off"], priors["P|R|peak"])
        for key in [k for k in pools if k.startswith("R|") and k.endswith("|off")]:
            off = pools[key]
            pools[key.removesuffix("off") + "peak~"] = Pool(
                np.round(off.values * mapping(off.values.size), 3), off.count
            )
        stretch = float(np.median(priors["P|R|peak"].values) / np.median(priors["P|R|off"].values))
        choice = {g: _choose(g, rows, pools, settings) for g, rows in self.judged.items()}
        young = 0.0 if now is None else young_season_share(now, priors["P|R|peak"])
        tail = peak_tail(now, peak_fit, off_fit) if now is not None and young > 0.0 else {}
        model = MilestoneModel(
            settings,
            pools,
            choice,
            load,
            len(self.seen),
            season_stretch=stretch,
            young_peak=young,
            peak_tail=tail,
            fc_levels=levels,
        )
        return replace(model, version=model_version(model))


# A young peak's pools are trusted fully once the peak is this many times the prior's
# q99 of peak receiving old: by then not only its first deliveries but the bulk of them
# (made weeks into it) have had a q99 receipt's time to close.
MATURITY_SPAN = 1.5


def young_season_share(now: datetime, prior: Pool, level: float = 0.99) -> float:
    """How much of peak receiving to take from the published figures alone at ``now``.

    A peak's own deliveries can only show receiving times shorter than the peak's age:
    a week into it, the 20-day receipts that set its 0.97-quantile are all still open,
    and pools of the closed ones promise a quick season. So until the peak is
    ``MATURITY_SPAN`` times the prior's ``level``-quantile of peak receiving old, a share
    falling linearly from one comes from the published peak figures (borrowed ``peak~``
    pools and the prior).
    """
    t = now.timestamp()
    k = int(np.searchsorted(_PEAK_BOUNDS, t, side="right"))
    if k % 2 == 0:  # not in peak: the next peak's pools, if any, are a year old
        return 0.0
    age_hours = (t - float(_PEAK_BOUNDS[k - 1])) / 3600.0
    mature_hours = float(np.quantile(prior.values, level)) * MATURITY_SPAN
    return max(0.0, 1.0 - age_hours / mature_hours)


def peak_mapping(off: Pool, peak: Pool) -> Callable[[int], Array]:
    """Quantile mapping from off-peak to peak receiving by the published figures.

    Returns, for a pool of ``m`` values at levels (i + ½) / m, the ratio of the
    prior's peak quantile to its off-peak quantile at each level. Peak is not
    off-peak times one number: its published spread is wider (p90/median 3.5
    against 2.7), so a single median ratio under-promises peak's slow tail.
    """
    levels_off = (np.arange(off.values.size) + 0.5) / off.values.size
    levels_peak = (np.arange(peak.values.size) + 0.5) / peak.values.size

    def ratio(m: int) -> Array:
        at = (np.arange(m) + 0.5) / m
        out: Array = np.interp(at, levels_peak, peak.values) / np.interp(at, levels_off, off.values)
        return out

    return ratio


def open_weights(rows: Sequence[_Receiving], index: FcLoadIndex, now: float) -> Array:
    """Inverse-probability-of-closing weights of receiving outcomes, closed by ``now``.

    An outcome of length R delivered in a season that began at ``s`` is in
    the history only if it was delivered by ``now - R``; of the season's
    deliveries so far (the service knows every delivery, open or not) that is
    the share delivered by then. Weight = 1 / that share (capped at 20), so the
    slow ones a young season has only begun to close count for those still open.
    """
    delivered = np.sort(np.concatenate([v for v in index.delivered.values()] or [np.zeros(0)]))
    if delivered.size == 0 or not rows:
        return np.ones(len(rows))
    hours = np.array([r[4] for r in rows])
    arrival = np.array([r[5] for r in rows])
    k = np.searchsorted(_PEAK_BOUNDS, arrival, side="right")
    start, end = _PEAK_BOUNDS[k - 1], _PEAK_BOUNDS[k]
    upto = np.minimum(now, end)
    early = np.searchsorted(delivered, start, side="right")
    before = np.searchsorted(delivered, upto - hours * 3600.0, side="right") - early
    total = np.searchsorted(delivered, upto, side="right") - early
    out: Array = np.where(before > 0, np.minimum(20.0, total / np.maximum(before, 1)), 1.0)
    return out


def _collect_transit(
    shipment: ClosedShipment,
    settings: MilestoneSettings,
    samples: dict[str, list[float]],
    judged: dict[str, list[tuple[float, float, str, float]]],
) -> None:
    arrival = arrival_of(shipment)
    if arrival is None:
        return
    mode, fc = shipment.mode, shipment.destination_fc
    lane = lane_of(shipment.origin, fc)
    seen_stages: set[tuple[str, float]] = set()
    for snap in walk(shipment):
        t = snap.at.timestamp()
        if t >= arrival or RANK[snap.stage] >= AT_FC_RANK:
            break
        stage, stage_at = snap.stage, snap.stage_at.timestamp()
        peak = season(snap.at)
        if (stage, stage_at) not in seen_stages:
            seen_stages.add((stage, stage_at))
            for key, _level in transit_keys("B", mode, stage, lane, shipment.carrier, peak, "", ""):
                samples[key].append((arrival - stage_at) / 3600.0)
        if snap.carrier_eta is None:
            continue
        eta = snap.carrier_eta.timestamp()
        ahead = (eta - t) / 3600.0
        hb = horizon_bucket(ahead, settings.horizon_edges_days)
        slip = slip_of(snap.carrier_eta, snap.first_carrier_eta)
        for key, _level in transit_keys("A", mode, stage, lane, shipment.carrier, peak, hb, slip):
            samples[key].append((arrival - eta) / 3600.0)
        judged[f"{mode}|{stage}"].append(((arrival - t) / 3600.0, ahead, hb, (t - stage_at) / 3600))


def _collect_receiving(
    shipment: ClosedShipment, receiving: list[_Receiving], load_index: FcLoadIndex
) -> None:
    arrival = arrival_of(shipment)
    if arrival is None:
        return
    mode, fc = shipment.mode, shipment.destination_fc
    backlog, deliveries = load_index.load_at_seconds(fc, arrival)
    peak = "peak" if season_of_seconds(arrival) else "off"
    in_stock = shipment.in_stock_at.timestamp()
    reached = {e.type: e.occurred_at.timestamp() for e in reversed(shipment.events)}
    reached.setdefault("delivered", arrival)
    for milestone in _AT_FC:
        start = reached.get(milestone)
        if start is None or not arrival <= start <= in_stock:
            continue
        hours = max((in_stock - start) / 3600.0, 0.0)
        if start != arrival:
            # Normalised by the load at the milestone, as an estimate made then will scale it.
            backlog, deliveries = load_index.load_at_seconds(fc, start)
        receiving.append((milestone, mode, fc, peak, hours, arrival, backlog, deliveries))


def _collect_start_share(shipment: ClosedShipment, samples: dict[str, list[float]]) -> None:
    """The share of its time at the FC the shipment waited for receiving to start."""
    delivered = shipment.delivered_at  # as an estimate counts the wait: from delivery
    started = next((e.occurred_at for e in shipment.events if e.type == "receiving_started"), None)
    if delivered is None or started is None:
        return
    share = start_share(
        delivered.timestamp(), started.timestamp(), shipment.in_stock_at.timestamp()
    )
    if share is not None:
        samples[share_key(shipment.mode)].append(share)
        samples[SHARE_ALL].append(share)


def season_of_seconds(t: float) -> bool:
    return is_peak(datetime.fromtimestamp(t, UTC))


def peak_tail(
    now: datetime, fit: SeasonFit | None, off: SeasonFit | None = None
) -> dict[str, tuple[float, float, float]]:
    """Per FC: (mu, sigma, peak age in hours) of ``MilestoneModel.peak_tail``. The censored
    fit has seen every delivery of the peak so far, open ones as "longer than so far", so it
    knows how much of the peak's receiving lies past its age, which the pools (closed
    deliveries only) cannot show. A fit that saw no open delivery (a history of closed
    shipments alone) cannot: none then.

    An FC with ``MIN_CENSORED_ROWS`` closed peak deliveries takes its own intercept. One
    with fewer (a slow FC closes few early in peak) takes its off-peak intercept (``off``)
    raised by the peak's mean rise at the FCs that have them, rather than the published
    figures' every-load spread, which at a slow FC's level promises weeks."""
    if fit is None or fit.open == 0:
        return {}
    t = now.timestamp()
    k = int(np.searchsorted(_PEAK_BOUNDS, t, side="right"))
    if k % 2 == 0:
        return {}
    age = (t - float(_PEAK_BOUNDS[k - 1])) / 3600.0
    own = {
        fc: mu
        for fc, mu in sorted(fit.intercepts.items())
        if fit.closed.get(fc, 0) >= MIN_CENSORED_ROWS
    }
    out = {fc: (mu, fit.sigma, age) for fc, mu in own.items()}
    if off is None:
        return out
    rises = [mu - off.intercepts[fc] for fc, mu in own.items() if fc in off.intercepts]
    if not rises:
        return out
    rise = float(np.mean(rises))
    for fc, mu in sorted(off.intercepts.items()):
        if fc not in out and fc in fit.intercepts:
            out[fc] = (mu + rise, fit.sigma, age)
    return dict(sorted(out.items()))


def fc_levels(off: SeasonFit | None, peak: SeasonFit | None) -> dict[str, dict[str, float]]:
    """``MilestoneModel.fc_levels``: per season, each FC's receiving at its usual load over
    the FCs' geometric mean, by the censored fit's intercepts (peak as off-peak until a
    peak fit exists)."""
    out = {}
    for label, fit in (("off", off), ("peak", peak or off)):
        if fit is None or not fit.intercepts:
            continue
        mean = float(np.mean(list(fit.intercepts.values())))
        out[label] = {fc: math.exp(mu - mean) for fc, mu in sorted(fit.intercepts.items())}
    return out


def _fit_load(
    index: FcLoadIndex, now: float | None
) -> tuple[LoadEffect, tuple[SeasonFit | None, SeasonFit | None]]:
    """The load effect per season, by censored regression over every delivery made by
    ``now``: those still open count as "longer than so far", so a young peak's slope is
    read off its slow deliveries before they close (``fit_censored_seasons``); and that
    fit of peak."""
    deliveries = index.deliveries_by(now)
    if deliveries.at.size < 50:
        return LoadEffect(), (None, None)
    fcs = np.asarray(deliveries.fcs)
    usual = {
        fc: (
            float(np.median(deliveries.deliveries[fcs == fc])),
            float(np.median(deliveries.backlog[fcs == fc])),
        )
        for fc in sorted(set(deliveries.fcs))
    }
    peak = peak_mask(deliveries.at).astype(bool)
    off_fit, peak_fit = fit_censored_seasons(deliveries, peak, usual)
    off = off_fit.slopes if off_fit else (0.0, 0.0)
    in_peak = peak_fit.slopes if peak_fit else None
    effect = LoadEffect(off[0], off[1], 7.0, usual, in_peak)
    series = {}
    for fc, delivered in index.delivered.items():
        if delivered.size < 2:
            continue
        days = np.arange(delivered[0], delivered[-1], 86400.0)
        counts = np.array([index.load_at_seconds(fc, float(t))[1] for t in days], dtype=float)
        series[fc] = np.log(counts + 1.0)
    arrival = (
        None
        if index.inbound is None
        else fit_arrival_forecast(
            index.inbound, index.delivered, index.load_at_seconds, usual, now, peak_mask
        )
    )
    fitted = replace(effect, persistence_days=persistence_days(series), arrival=arrival)
    return fitted, (off_fit, peak_fit)


def _choose(
    group: str,
    rows: list[tuple[float, float, str, float]],
    pools: dict[str, Pool],
    settings: MilestoneSettings,
) -> str:
    """ "A" when the carrier's ETA gives the lower pinball loss at the promise quantile."""
    mode, stage = group.split("|")
    b_pool = pools.get(f"B|{mode}|{stage}")
    if b_pool is None:
        return "A"
    q = settings.quantile
    remaining = np.array([r[0] for r in rows])
    ahead = np.array([r[1] for r in rows])
    buckets = np.array([r[2] for r in rows])
    spent = np.array([r[3] for r in rows])
    predicted_a = np.empty_like(remaining)
    for hb in set(buckets.tolist()):
        a_pool = pools.get(f"A|{mode}|{stage}|{hb}")
        if a_pool is None:
            return "B"
        mask = buckets == hb
        predicted_a[mask] = a_pool.quantile_beyond(-ahead[mask], q)
    predicted_b = b_pool.quantile_beyond(spent, q)
    return "A" if _pinball(remaining, predicted_a, q) < _pinball(remaining, predicted_b, q) else "B"


def _pinball(actual: Array, predicted: Array, q: float) -> float:
    diff = actual - predicted
    return float(np.mean(np.where(diff >= 0.0, q * diff, (q - 1.0) * diff)))


@lru_cache(maxsize=8)
def _prior_pools(settings: MilestoneSettings) -> dict[str, Pool]:
    """Draws from the published figures (PARAMETERS.md): the root of every chain.

    Memoised (a pure function of the settings): a scheduled refit reuses them.
    Callers copy the dict, never change it."""
    pools = {}
    for peak in (False, True):
        label = "peak" if peak else "off"
        rng = random.Random(f"{settings.seed}:receiving:{label}")
        draws = [sample_receiving(rng, peak) for _ in range(settings.prior_samples)]
        pools[f"P|R|{label}"] = Pool.of(draws, _MAX_POOL, prior=True)
        for mode in MODES:
            rng = random.Random(f"{settings.seed}:{mode}:{label}")
            draws = [sample_transit(mode, rng, peak) for _ in range(settings.prior_samples)]
            pools[f"P|T|{mode}|{label}"] = Pool.of(draws, _MAX_POOL, prior=True)
    return pools


def model_version(model: MilestoneModel) -> str:
    """``milestone-1+history-<n>-<digest>``: the digest covers every pool and setting."""
    body = json.dumps(
        {
            "settings": asdict(model.settings),
            "choice": model.choice,
            "load": model.load.to_dict(),
            "season_stretch": model.season_stretch,
            "young_peak": model.young_peak,
            "peak_tail": {fc: list(v) for fc, v in sorted(model.peak_tail.items())},
            "fc_levels": {k: dict(sorted(v.items())) for k, v in sorted(model.fc_levels.items())},
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(body.encode())
    for key, pool in sorted(model.pools.items()):
        digest.update(f"{key}:{pool.count}:".encode())
        digest.update(np.round(pool.values, 3).tobytes())
    return f"{MODEL_NAME}+history-{model.history_count}-{digest.hexdigest()[:8]}"
