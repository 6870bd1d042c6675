"""``headstart eta fit`` and ``headstart eta evaluate`` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from headstart.commands.eta import app
from headstart.domain.estimate.calibrated import CalibratedEstimator
from headstart.history.jsonl import write_history
from tests.unit.estimate.history_builders import parcel_history

runner = CliRunner()


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eta") / "history.jsonl"
    with path.open("w") as file:
        write_history(parcel_history(160), file)
        file.write("{not json\n")  # a bad line is reported and skipped, not fatal
    return path


def test_fit_writes_a_model_that_loads_back(history_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.json"

    result = runner.invoke(app, ["fit", "--history", str(history_file), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert "line 161" in result.output
    estimator = CalibratedEstimator.from_dict(json.loads(out.read_text()))
    assert estimator.version.startswith("milestone-1+history-160-")


def test_evaluate_prints_the_tables_and_writes_charts_next_to_the_output(
    history_file: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        ["evaluate", "--history", str(history_file), "--train-fraction", "0.75",
         "--out", str(tmp_path)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "coverage overall" in result.output
    assert "lane q pin" in result.output
    assert (tmp_path / "coverage_by_month.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "padding_histograms.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "evaluation.json").read_text())["replayed_shipments"] == 40
    assert "By ISO week the promise was made" in result.output


def test_evaluate_json_is_machine_readable(history_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["evaluate", "--history", str(history_file), "--json", "--quantile", "0.9",
         "--out", str(tmp_path)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    document = json.loads(result.output[result.output.index("{") :])
    assert document["quantile"] == 0.9
    assert document["rows"][0]["name"] == "overall"
    assert {"carrier_eta", "mode_quantile", "lane_quantile"} == set(
        document["rows"][0]["baselines"]
    )


def test_evaluate_json_has_a_weekly_series_whose_overall_counts_add_up_to_every_promise(
    history_file: Path, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["evaluate", "--history", str(history_file), "--json", "--out", str(tmp_path)]
    )

    assert result.exit_code == 0, result.output
    document = json.loads(result.output[result.output.index("{") :])
    weekly = document["weekly"]
    assert sum(w["count"] for w in weekly if w["bucket"] == "overall") == document["promises"]
    assert set(weekly[0]) == {
        "week", "bucket", "count", "coverage", "raw_coverage",
        "mean_padding_days", "raw_mean_padding_days",
    }  # fmt: skip


def test_a_history_without_a_valid_line_fails_cleanly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("{}\n")

    result = runner.invoke(app, ["fit", "--history", str(empty), "--out", str(tmp_path / "m")])

    assert result.exit_code == 1
    assert "no valid closed shipment" in result.output


@pytest.fixture(scope="module")
def recorded(history_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """An evaluation run with ``--record``: the recording and the evaluation's own JSON."""
    folder = tmp_path_factory.mktemp("recorded")
    recording = folder / "recording.npz"
    result = runner.invoke(
        app,
        ["evaluate", "--history", str(history_file), "--train-fraction", "0.75", "--json",
         "--out", str(folder), "--record", str(recording)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return recording, json.loads(result.output[result.output.index("{") :])


def _targets(output: str) -> dict[str, float]:
    document = json.loads(output[output.index("{") :])
    return {t["name"]: t["measured"] for t in document["targets"]}


def test_recalibrate_as_recorded_repeats_the_evaluation_it_was_recorded_from(
    recorded: tuple[Path, dict],
) -> None:
    recording, evaluation = recorded

    result = runner.invoke(app, ["recalibrate", str(recording), "--json"])

    assert result.exit_code == 0, result.output
    measured = _targets(result.output)
    expected = {t["name"]: t["measured"] for t in evaluation["targets"]}
    expected.pop("fit seconds")
    assert measured.keys() == expected.keys()
    for name, value in expected.items():
        assert measured[name] == pytest.approx(value, rel=1e-3, abs=1e-3), name


def test_recalibrate_with_a_setting_changed_moves_the_promises_not_the_model(
    recorded: tuple[Path, dict],
) -> None:
    recording, _ = recorded

    wider = runner.invoke(
        app, ["recalibrate", str(recording), "--set", "floor_offset=0.5", "--json"]
    )

    assert wider.exit_code == 0, wider.output
    as_recorded = _targets(runner.invoke(app, ["recalibrate", str(recording), "--json"]).output)
    changed = _targets(wider.output)
    # a floor of e^0.5 on every promise's stretch: wider promises, so more padding
    padding = "mean padding parcel off-peak (d)"
    assert changed[padding] > as_recorded[padding]
    assert changed["coverage overall"] >= as_recorded["coverage overall"]
    assert json.loads(wider.output[wider.output.index("{") :])["settings"] == {"floor_offset": 0.5}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("quantile=0.9", "expected NAME=VALUE"),
        ("margin", "expected NAME=VALUE"),
        ("memory_days=soon", "is not a number"),
        ("margin=0.5", "margin must keep the target coverage below 1"),
    ],
)
def test_recalibrate_refuses_a_setting_it_cannot_change(
    recorded: tuple[Path, dict], setting: str, message: str
) -> None:
    result = runner.invoke(app, ["recalibrate", str(recorded[0]), "--set", setting])

    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", " ").split())


def test_recalibrate_refuses_a_file_that_is_not_a_recording(tmp_path: Path) -> None:
    bogus = tmp_path / "history.npz"
    bogus.write_text("not a recording")

    result = runner.invoke(app, ["recalibrate", str(bogus)])

    assert result.exit_code == 2
    assert "not a replay recording" in " ".join(result.output.split())
