"""A replay's recording (``replay.Recording``) to and from one ``.npz`` file.

The model's pass over a 30,000-shipment history takes minutes; its recording lets
``eta recalibrate`` try the online correction's settings in seconds each. Arrays
hold the snapshots (the model's grid of hours per snapshot, as float64, so a
recalibration promises exactly what the model said); the calibration state, the
last model and the figures of the split travel as JSON in the same file. Nothing
is pickled: loading a file runs no code from it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from headstart.domain.estimate.calibration_codec import calibration_from_dict, calibration_to_dict
from headstart.domain.estimate.distribution import InStockEstimate
from headstart.domain.estimate.milestone_codec import milestone_from_dict, milestone_to_dict
from headstart.evaluation.baselines import BASELINES
from headstart.evaluation.replay import Recording, Snapshot

FORMAT = "headstart-replay-recording/1"


class RecordingFileError(ValueError):
    """The file is not a recording this version can read."""


def save_recording(recording: Recording, path: Path) -> None:
    """Write ``recording`` to ``path`` (an ``.npz`` file; numpy adds the suffix if missing)."""
    snaps = recording.snapshots
    meta = {
        "format": FORMAT,
        "train_count": recording.train_count,
        "test_count": recording.test_count,
        "split_at": recording.split_at.isoformat(),
        "fit_seconds": recording.fit_seconds,
        "quantile": recording.quantile,
        "baselines": list(BASELINES),
        "calibration": calibration_to_dict(recording.calibration),
        "model": milestone_to_dict(recording.model),
    }
    np.savez_compressed(
        path,
        meta=np.array(json.dumps(meta)),
        shipment=np.array([s.shipment for s in snaps], dtype=np.int64),
        shipment_id=np.array([s.shipment_id for s in snaps], dtype=str),
        kind=np.array([s.kind for s in snaps], dtype=str),
        made_at=np.array([s.raw.computed_at.timestamp() for s in snaps], dtype=np.float64),
        in_stock_at=np.array([s.in_stock_at.timestamp() for s in snaps], dtype=np.float64),
        hours=np.array([s.raw.hours for s in snaps], dtype=np.float64),
        model_version=np.array([s.raw.model_version for s in snaps], dtype=str),
        basis=np.array([s.raw.basis for s in snaps], dtype=str),
        history_count=np.array([s.raw.history_count for s in snaps], dtype=np.int64),
        baseline_hours=np.array(
            [[s.baseline_hours[name] for name in BASELINES] for s in snaps], dtype=np.float64
        ),
    )


def load_recording(path: Path) -> Recording:
    """Read what ``save_recording`` wrote; ``RecordingFileError`` if it is something else."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError) as error:
        # numpy's own message suggests unpickling the file: not advice to pass on
        raise RecordingFileError(
            f"{path} is not a replay recording (write one with `eta evaluate --record`)"
        ) from error
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise RecordingFileError(f"{path} is not a recording in the format {FORMAT}")
    names = list(meta["baselines"])
    stamps = {t: datetime.fromtimestamp(t, UTC) for t in np.unique(arrays["in_stock_at"])}
    snapshots = [
        Snapshot(
            shipment=int(arrays["shipment"][k]),
            shipment_id=str(arrays["shipment_id"][k]),
            kind=str(arrays["kind"][k]),
            raw=InStockEstimate(
                computed_at=datetime.fromtimestamp(float(arrays["made_at"][k]), UTC),
                model_version=str(arrays["model_version"][k]),
                basis=str(arrays["basis"][k]),
                history_count=int(arrays["history_count"][k]),
                hours=tuple(arrays["hours"][k].tolist()),
            ),
            in_stock_at=stamps[arrays["in_stock_at"][k]],
            baseline_hours=dict(zip(names, arrays["baseline_hours"][k].tolist(), strict=True)),
        )
        for k in range(len(arrays["shipment"]))
    ]
    return Recording(
        snapshots=snapshots,
        calibration=calibration_from_dict(meta["calibration"]),
        model=milestone_from_dict(meta["model"]),
        train_count=int(meta["train_count"]),
        test_count=int(meta["test_count"]),
        split_at=datetime.fromisoformat(meta["split_at"]),
        fit_seconds=float(meta["fit_seconds"]),
        quantile=float(meta["quantile"]),
    )
