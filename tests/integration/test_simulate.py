"""Issue 6: a tiny paired marketplace runs on SQLite, reproducibly, with sane numbers."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from headstart.bootstrap import build_runtime
from headstart.cli import app
from headstart.config import Settings
from headstart.domain.estimate.calibrated import CalibratedEstimator
from headstart.sim.history.parameters import DEFAULTS
from headstart.sim.market.config import MarketConfig
from headstart.sim.market.run import Market
from headstart.sim.report.build import build_report
from headstart.sim.report.html import render_html
from headstart.store.tables import EstimatorModelRow, ShipmentRow

# A calm history: parcel and LTL only, no ocean, air or truckload.
CALM = DEFAULTS.with_values({"mode.ocean.share": 0.0, "mode.air.share": 0.0, "mode.ftl.share": 0.0})
TINY = MarketConfig(
    days=14,
    sellers=3,
    skus=20,
    seed=11,
    demand_per_sku=1.0,
    opening_fill=(0.0, 0.6),
    model_history=300,
    parameters=CALM,
)


def _play(config: MarketConfig, path: Path):  # type: ignore[no-untyped-def]
    runtime = build_runtime(
        Settings(database_url=f"sqlite:///{path}", sandbox=True, operator_key="op")
    )
    return runtime, Market(runtime, config).play()


def test_a_tiny_paired_run_completes_reproducibly_with_sane_headlines(tmp_path: Path) -> None:
    first = _play(TINY, tmp_path / "a.db")
    paired = _play(TINY.paired(), tmp_path / "b.db")
    report = build_report(first, paired)
    again = build_report(_play(TINY, tmp_path / "c.db"), paired)

    headline = report["headline"]
    assert headline == again["headline"]  # same seed, same numbers
    assert report["sellers"] == again["sellers"]
    assert headline["head_start_orders"] > 0
    assert headline["on_time_to_promise"] >= 0.9
    assert headline["units_sold"] >= headline["units_sold_without_head_start"]
    assert report["runs"]["without_head_start"]["head_start_orders"] == 0
    assert len(report["series"]["units_sold"]["head_start"]) == 14
    assert "<svg" in render_html(report)


def test_what_if_from_a_sellers_history_reports_bad_lines_and_runs(tmp_path: Path) -> None:
    history = tmp_path / "mine.jsonl"
    made = CliRunner().invoke(
        app,
        ["history", "generate", "--shipments", "150", "--seed", "3", "--out", str(history)],
    )
    assert made.exit_code == 0, made.output
    with history.open("a") as file:
        file.write('{"mode": "teleport"}\n')

    result = CliRunner().invoke(
        app,
        [
            "simulate", "--from-history", str(history), "--days", "4", "--sellers", "2",
            "--skus", "6", "--steps-per-day", "4", "--out", str(tmp_path / "out"),
        ],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert ":151:" in result.output  # the bad line, by number, and the run went on
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["config"]["days"] == 4


def test_the_model_is_refitted_weekly_on_the_synthetic_year_and_what_the_run_closed(
    tmp_path: Path,
) -> None:
    runtime, _ = _play(TINY, tmp_path / "a.db")

    with runtime.reader() as uow:
        models = [
            (row.version, row.history_count, row.body)
            for row in uow.session.scalars(select(EstimatorModelRow).order_by(EstimatorModelRow.id))
        ]
        closed = uow.session.scalar(
            select(func.count()).select_from(ShipmentRow).where(ShipmentRow.status == "closed")
        )
    # the first model, then one refit a simulated week (14 days: two), each on the year
    # the first was fitted on plus every shipment closed by then
    assert len(models) == 3
    (first, _, _), (version, history_count, body) = models[0], models[-1]
    assert closed and history_count == closed
    newest = CalibratedEstimator.from_dict(body)
    assert newest.model.history_count == TINY.model_history + closed
    assert version == newest.version != first


def test_the_paired_run_never_refits(tmp_path: Path) -> None:
    runtime, _ = _play(TINY.paired(), tmp_path / "b.db")

    with runtime.reader() as uow:
        assert uow.session.scalar(select(func.count()).select_from(EstimatorModelRow)) == 1


def _report_without_timings(out: Path) -> dict[str, object]:
    report = json.loads((out / "report.json").read_text())
    for run in report["runs"].values():
        del run["seconds"]
    return report


def test_the_paired_run_played_beside_in_its_own_process_reports_the_same(
    tmp_path: Path,
) -> None:
    small = ["simulate", "--days", "3", "--sellers", "2", "--skus", "12", "--steps-per-day", "4"]
    one = CliRunner().invoke(app, [*small, "--out", str(tmp_path / "one")])
    two = CliRunner().invoke(app, [*small, "--jobs", "2", "--out", str(tmp_path / "two")])

    assert one.exit_code == 0, one.output
    assert two.exit_code == 0, two.output
    report = _report_without_timings(tmp_path / "two")
    assert report == _report_without_timings(tmp_path / "one")
    assert report["runs"]["without_head_start"]["buyer_arrivals"] > 0
