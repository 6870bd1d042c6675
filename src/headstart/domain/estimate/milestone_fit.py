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
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime

import numpy as np

from headstart.domain.estimate.fc_load import (
    FcLoadIndex,
    LoadEffect,
    fit_load_effect,
    persistence_days,
)
from headstart.domain.estimate.milestone import MODEL_NAME, MilestoneModel, MilestoneSettings
from headstart.domain.estimate.pool_keys import (
    horizon_bucket,
    receiving_keys,
    season,
    transit_keys,
)
from headstart.domain.estimate.pools import Array, Pool
from headstart.domain.estimate.prior import is_peak, sample_receiving, sample_transit
from headstart.domain.estimate.progress import MODES, ClosedShipment
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
    history: Sequence[ClosedShipment], settings: MilestoneSettings | None = None
) -> MilestoneModel:
    """Fit on ``history`` (closed shipments in any order); pure and deterministic."""
    settings = settings or MilestoneSettings()
    samples: dict[str, list[float]] = defaultdict(list)
    judged: dict[str, list[tuple[float, float, str, float]]] = defaultdict(list)
    load_index = FcLoadIndex.of(history)
    receiving: list[tuple[str, str, str, str, float, float, int, int]] = []
    for shipment in history:
        _collect(shipment, settings, samples, judged, receiving, load_index)
    load = _fit_load(receiving, load_index)
    for milestone, mode, fc, peak, hours, _, backlog, deliveries in receiving:
        scaled = hours / np.exp(load.log_factor(fc, backlog, deliveries))
        for key, _level in receiving_keys(milestone, mode, fc, peak):
            samples[key].append(float(scaled))
    pools = {key: Pool.of(values, _MAX_POOL) for key, values in samples.items() if values}
    priors = _prior_pools(settings)
    pools.update(priors)
    stretch = float(np.median(priors["P|R|peak"].values) / np.median(priors["P|R|off"].values))
    for key in [k for k in pools if k.startswith("R|") and k.endswith("|off")]:
        off = pools[key]
        pools[key.removesuffix("off") + "peak~"] = Pool(
            np.round(off.values * stretch, 3), off.count
        )
    choice = {group: _choose(group, rows, pools, settings) for group, rows in judged.items()}
    model = MilestoneModel(settings, pools, choice, load, len(history), season_stretch=stretch)
    return replace(model, version=model_version(model))


def _collect(
    shipment: ClosedShipment,
    settings: MilestoneSettings,
    samples: dict[str, list[float]],
    judged: dict[str, list[tuple[float, float, str, float]]],
    receiving: list[tuple[str, str, str, str, float, float, int, int]],
    load_index: FcLoadIndex,
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
        receiving.append((milestone, mode, fc, peak, hours, arrival, backlog, deliveries))


def season_of_seconds(t: float) -> bool:
    return is_peak(datetime.fromtimestamp(t, UTC))


def _fit_load(
    receiving: list[tuple[str, str, str, str, float, float, int, int]], index: FcLoadIndex
) -> LoadEffect:
    rows = [r for r in receiving if r[0] == "delivered" and r[4] > 0.0]
    if not rows:
        return LoadEffect()
    effect = fit_load_effect(
        [r[2] for r in rows],
        [f"{r[2]}|{r[3]}" for r in rows],
        np.log(np.array([r[4] for r in rows])),
        np.array([float(r[6]) for r in rows]),
        np.array([float(r[7]) for r in rows]),
    )
    series = {}
    for fc, delivered in index.delivered.items():
        if delivered.size < 2:
            continue
        days = np.arange(delivered[0], delivered[-1], 86400.0)
        counts = np.array([index.load_at_seconds(fc, float(t))[1] for t in days], dtype=float)
        series[fc] = np.log(counts + 1.0)
    return replace(effect, persistence_days=persistence_days(series))


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


def _prior_pools(settings: MilestoneSettings) -> dict[str, Pool]:
    """Draws from the published figures (PARAMETERS.md): the root of every chain."""
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
            "pools": {k: [p.count, p.to_list()] for k, p in sorted(model.pools.items())},
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(body.encode()).hexdigest()[:8]
    return f"{MODEL_NAME}+history-{model.history_count}-{digest}"
