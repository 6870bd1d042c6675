"""The fitted milestone model as a JSON-safe dict, and back (stored and versioned, R17)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields

import numpy as np

from headstart.domain.estimate.errors import InvalidEstimateInput
from headstart.domain.estimate.fc_load import LoadEffect
from headstart.domain.estimate.milestone import MODEL_NAME, MilestoneModel, MilestoneSettings
from headstart.domain.estimate.pools import Pool

FORMAT = 1


def milestone_to_dict(model: MilestoneModel) -> dict[str, object]:
    """Settings, choices, load effect and every pool (values rounded to 1/1000 hour)."""
    return {
        "model": MODEL_NAME,
        "format": FORMAT,
        "version": model.version,
        "history_count": model.history_count,
        "settings": asdict(model.settings),
        "choice": dict(sorted(model.choice.items())),
        "load": model.load.to_dict(),
        "season_stretch": model.season_stretch,
        "young_peak": model.young_peak,
        "peak_tail": {fc: list(v) for fc, v in sorted(model.peak_tail.items())},
        "fc_levels": {k: dict(sorted(v.items())) for k, v in sorted(model.fc_levels.items())},
        "pools": {
            key: {"count": pool.count, "values": pool.to_list()}
            for key, pool in sorted(model.pools.items())
        },
    }


def milestone_from_dict(d: Mapping[str, object]) -> MilestoneModel:
    """Rebuild a stored model; refuses another model or format."""
    if d.get("model") != MODEL_NAME or d.get("format") != FORMAT:
        raise InvalidEstimateInput(f"not a stored {MODEL_NAME} model (format {FORMAT})")
    try:
        raw_settings = d["settings"]
        raw_pools = d["pools"]
        raw_choice = d["choice"]
        raw_load = d["load"]
        assert isinstance(raw_settings, Mapping) and isinstance(raw_pools, Mapping)
        assert isinstance(raw_choice, Mapping) and isinstance(raw_load, Mapping)
        known = {f.name for f in fields(MilestoneSettings)}
        values = {k: v for k, v in raw_settings.items() if k in known}
        if "horizon_edges_days" in values:
            values["horizon_edges_days"] = tuple(values["horizon_edges_days"])
        pools = {}
        for key, pool in raw_pools.items():
            assert isinstance(pool, Mapping)
            sample = np.asarray(pool["values"], dtype=np.float64)
            pools[str(key)] = Pool(np.sort(sample), int(pool["count"]), str(key).startswith("P|"))
        return MilestoneModel(
            settings=MilestoneSettings(**values),
            pools=pools,
            choice={str(k): str(v) for k, v in raw_choice.items()},
            load=LoadEffect.from_dict(raw_load),
            history_count=int(str(d["history_count"])),
            version=str(d["version"]),
            season_stretch=float(str(d.get("season_stretch", 1.0))),
            young_peak=float(str(d.get("young_peak", 0.0))),
            peak_tail=_peak_tail(d.get("peak_tail", {})),
            fc_levels=_fc_levels(d.get("fc_levels", {})),
        )
    except (AssertionError, KeyError, TypeError, ValueError) as error:
        raise InvalidEstimateInput(f"malformed stored model: {error}") from error


def _peak_tail(raw: object) -> dict[str, tuple[float, float, float]]:
    assert isinstance(raw, Mapping)
    out = {}
    for fc, value in raw.items():
        assert isinstance(value, list) and len(value) == 3
        out[str(fc)] = (float(value[0]), float(value[1]), float(value[2]))
    return out


def _fc_levels(raw: object) -> dict[str, dict[str, float]]:
    assert isinstance(raw, Mapping)
    out = {}
    for season, levels in raw.items():
        assert isinstance(levels, Mapping)
        out[str(season)] = {str(fc): float(v) for fc, v in levels.items()}
    return out
