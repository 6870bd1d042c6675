"""``headstart history generate`` and ``check``, invoked as the CLI would."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from headstart.commands.history import app

runner = CliRunner()


def test_generate_writes_the_requested_shipments_and_prints_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "history.jsonl"

    result = runner.invoke(
        app, ["generate", "--shipments", "300", "--seed", "7", "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 300
    assert json.loads(lines[0])["shipment_id"] == "SIM7-000001"
    for text in ("Shipments by mode", "ocean", "shipped in peak", "weeks of ocean regime"):
        assert text in result.output
    for text in ("customs exams", "shipments received short", "Wrote 300 shipments"):
        assert text in result.output


def test_generate_is_reproducible_and_honours_start_and_days(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    options = ["--shipments", "50", "--seed", "3", "--start", "2024-06-01", "--days", "30"]

    for out in (first, second):
        result = runner.invoke(app, ["generate", *options, "--out", str(out)])
        assert result.exit_code == 0, result.output

    assert first.read_bytes() == second.read_bytes()
    shipped = [json.loads(line)["shipped_at"] for line in first.read_text().splitlines()]
    assert min(shipped) >= "2024-06-01" and max(shipped) < "2024-07-02"


def test_generate_refuses_a_start_that_is_not_a_date(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path / "x.jsonl"), "--start", "soon"])

    assert result.exit_code == 2
    assert not (tmp_path / "x.jsonl").exists()


def test_generate_refuses_an_output_in_a_missing_directory(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path / "nope" / "x.jsonl")])

    assert result.exit_code == 2
    assert "no such directory" in result.output


def test_check_accepts_a_generated_history(tmp_path: Path) -> None:
    out = tmp_path / "history.jsonl"
    runner.invoke(app, ["generate", "--shipments", "120", "--seed", "1", "--out", str(out)])

    result = runner.invoke(app, ["check", str(out)])

    assert result.exit_code == 0, result.output
    assert "shipments read" in result.output
    assert "120" in result.output


def test_check_reports_each_bad_line_by_number_and_exits_1(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    runner.invoke(app, ["generate", "--shipments", "3", "--seed", "1", "--out", str(good)])
    lines = good.read_text().splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        "\n".join([lines[0], "{oops", lines[1], '{"mode": "rail"}', "", lines[2]]) + "\n"
    )

    result = runner.invoke(app, ["check", str(broken)])

    assert result.exit_code == 1
    assert "line 2: not valid JSON" in result.output
    assert "line 4: " in result.output and "unknown mode 'rail'" in result.output
    assert "bad lines" in result.output


def test_check_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(tmp_path / "nope.jsonl")])

    assert result.exit_code == 2
