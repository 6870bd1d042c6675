"""The online calibration's state to and from JSON-safe values, as a stored estimator keeps it."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from headstart.domain.estimate.calibration import ConformalCalibration, GroupState
from headstart.domain.estimate.errors import InvalidEstimateInput


def calibration_to_dict(calibration: ConformalCalibration) -> dict[str, object]:
    """The calibration state as JSON-safe values (the stored estimator keeps it)."""
    return {
        "quantile": calibration.quantile,
        "step": calibration.step,
        "window": calibration.window,
        "floor_hours": calibration.floor_hours,
        "margin": calibration.margin,
        "default_offset": calibration.default_offset,
        "memory_days": calibration.memory_days,
        "min_kept": calibration.min_kept,
        "floor_offset": calibration.floor_offset,
        "young_group": calibration.young_group,
        "groups": {
            name: {
                "level": state.level,
                "observed": state.observed,
                "scores": [round(v, 5) for v in state.scores],
                "times": [round(v, 1) for v in state.times],
                "overdue": {key: list(entry) for key, entry in state.overdue.items()},
            }
            for name, state in sorted(calibration.groups.items())
        },
    }


def calibration_from_dict(d: Mapping[str, object]) -> ConformalCalibration:
    """Rebuild what ``calibration_to_dict`` wrote."""
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
            overdue = g.get("overdue", {})
            assert isinstance(overdue, Mapping)
            groups[str(name)] = GroupState(
                float(g["level"]),
                deque((float(v) for v in scores), maxlen=window),
                int(g["observed"]),
                times=deque((float(v) for v in times), maxlen=window),
                overdue={str(k): _overdue_entry(v) for k, v in overdue.items()},
            )
        return ConformalCalibration(
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


def _overdue_entry(value: object) -> tuple[float, float, float, float]:
    assert isinstance(value, list) and len(value) == 4
    made, promised, weight, bound = (float(v) for v in value)
    return made, promised, weight, bound
