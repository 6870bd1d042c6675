"""The synthetic history generator: PARAMETERS.md's figures, reproducible by seed (issue 3)."""

from __future__ import annotations

import bisect
import math
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone

import pytest

from headstart.domain.estimate import AT_FC_MILESTONES, MODES, ClosedShipment
from headstart.sim.history import (
    DEFAULTS,
    REGIMES,
    SyntheticHistory,
    generate_history,
    synthesize_history,
)

START = datetime(2025, 1, 1, tzinfo=UTC)  # as in conftest.py's year_of_history
DAY = timedelta(days=1)
PEAK_START = (10, 15)


def _days(start: datetime, end: datetime) -> float:
    return (end - start) / DAY


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def _is_peak(at: datetime) -> bool:
    return at.year == START.year and (at.month, at.day) >= PEAK_START


def _first(shipment: ClosedShipment, kind: str) -> datetime:
    return next(event.occurred_at for event in shipment.events if event.type == kind)


def test_the_same_seed_draws_the_same_history_and_another_seed_does_not() -> None:
    first = list(generate_history(300, 11, START))
    again = list(generate_history(300, 11, START))
    other = list(generate_history(300, 12, START))

    assert first == again
    assert first != other


def test_weekly_regimes_do_not_depend_on_how_many_shipments_are_drawn() -> None:
    assert (
        synthesize_history(10, 7, START).weekly_regimes
        == synthesize_history(500, 7, START).weekly_regimes
    )


def test_seed_7_year_has_a_disrupted_or_crisis_ocean_episode(
    year_of_history: SyntheticHistory,
) -> None:
    weeks = year_of_history.summary.regime_weeks

    assert set(weeks) == set(REGIMES)
    assert sum(weeks.values()) == 53  # 365 days: 52 weeks and a day
    assert weeks["disrupted"] + weeks["crisis"] >= 1
    assert weeks["normal"] >= 1


def test_shipments_come_sorted_by_shipped_at_and_spread_over_the_year(
    year_of_shipments: list[ClosedShipment],
) -> None:
    shipped = [s.shipped_at for s in year_of_shipments]

    assert shipped == sorted(shipped)
    assert START <= shipped[0] < START + 3 * DAY
    assert START + 360 * DAY < shipped[-1] < START + 366 * DAY
    per_month = Counter(at.month for at in shipped)
    assert len(per_month) == 12
    assert min(per_month.values()) > 0.5 * len(shipped) / 12


def test_shipments_leave_mostly_on_weekdays(year_of_shipments: list[ClosedShipment]) -> None:
    local_weekdays = Counter(
        (s.shipped_at - timedelta(hours=8)).weekday()
        for s in year_of_shipments
        if s.origin.startswith("US-")
    )
    weekend = local_weekdays[5] + local_weekdays[6]

    assert weekend < 0.1 * sum(local_weekdays.values())


def test_every_mode_appears_in_about_the_configured_mix(
    year_of_shipments: list[ClosedShipment],
) -> None:
    counts = Counter(s.mode for s in year_of_shipments)

    for mode in MODES:
        share = DEFAULTS.value(f"mode.{mode}.share")
        assert counts[mode] / len(year_of_shipments) == pytest.approx(share, abs=0.03)


def test_lanes_run_from_several_origins_to_at_least_four_fcs(
    year_of_shipments: list[ClosedShipment],
) -> None:
    imports = {s.origin for s in year_of_shipments if s.mode in ("air", "ocean")}
    domestic = {s.origin for s in year_of_shipments if s.mode not in ("air", "ocean")}
    fcs = {s.destination_fc for s in year_of_shipments}

    assert imports == {"CN-SHA", "CN-SZX", "VN-SGN"}
    assert domestic == {"US-TX", "US-OH", "US-CA", "MX-MTY"}
    assert fcs == {"LAX1", "ONT8", "EWR1", "DFW6"}


@pytest.mark.parametrize(
    ("mode", "milestones"),
    [
        (
            "ocean",
            [
                "booked",
                "departed_origin",
                "arrived_port",
                "customs_released",
                "out_for_delivery",
                "delivered",
                "checked_in",
                "receiving_started",
            ],
        ),
        (
            "air",
            [
                "booked",
                "departed_origin",
                "arrived_port",
                "customs_released",
                "delivered",
                "receiving_started",
            ],
        ),
        (
            "parcel",
            ["departed_origin", "in_transit", "out_for_delivery", "delivered", "receiving_started"],
        ),
        ("ltl", ["departed_origin", "in_transit", "out_for_delivery", "delivered"]),
        ("ftl", ["departed_origin", "in_transit", "out_for_delivery", "delivered"]),
    ],
)
def test_each_mode_passes_its_milestones_in_order(
    year_of_shipments: list[ClosedShipment], mode: str, milestones: list[str]
) -> None:
    for shipment in (s for s in year_of_shipments if s.mode == mode):
        kinds = [event.type for event in shipment.events]
        times = [event.occurred_at for event in shipment.events]
        assert times == sorted(times)
        firsts = [kinds.index(kind) for kind in milestones]
        assert firsts == sorted(firsts), (shipment.shipment_id, kinds)
        assert kinds.count("delivered") == 1
        assert shipment.delivered_at == _first(shipment, "delivered")


def test_times_are_consistent_and_created_a_little_before_shipping(
    year_of_shipments: list[ClosedShipment],
) -> None:
    for s in year_of_shipments:
        assert s.created_at is not None
        assert s.shipped_at - 5 * DAY <= s.created_at < s.shipped_at
        assert s.delivered_at is not None
        assert s.shipped_at <= s.delivered_at <= s.in_stock_at
        assert all(
            s.delivered_at <= e.occurred_at <= s.in_stock_at
            for e in s.events
            if e.type in AT_FC_MILESTONES
        )
        assert all(e.carrier_eta is None for e in s.events if e.type in AT_FC_MILESTONES)


def test_ocean_to_the_east_coast_takes_longer_than_to_the_west_coast(
    year_of_shipments: list[ClosedShipment],
) -> None:
    door_to_door: dict[str, list[float]] = defaultdict(list)
    for s in year_of_shipments:
        if s.mode == "ocean" and s.delivered_at is not None:
            door_to_door[s.destination_fc].append(_days(s.shipped_at, s.delivered_at))

    west, east = statistics.median(door_to_door["LAX1"]), statistics.median(door_to_door["EWR1"])
    # PARAMETERS.md: door to door 18-30 d to the West Coast, 25-40 d to the East Coast.
    assert 18 <= west <= 30
    assert 25 <= east <= 40
    assert east - west >= 5


def test_first_carrier_eta_runs_early_and_later_etas_come_closer(
    year_of_shipments: list[ClosedShipment],
) -> None:
    first_error, last_error = [], []
    for s in year_of_shipments:
        if s.mode != "ocean" or s.delivered_at is None:
            continue
        etas = [e.carrier_eta for e in s.events if e.carrier_eta is not None]
        first_error.append(_days(s.delivered_at, etas[0]))
        last_error.append(_days(s.delivered_at, etas[-1]))

    assert statistics.median(first_error) < -2  # optimistic: days before the real delivery
    assert statistics.mean(map(abs, last_error)) < 0.5 * statistics.mean(map(abs, first_error))


def test_late_vessels_announce_delays_and_publish_revised_etas(
    year_of_shipments: list[ClosedShipment],
) -> None:
    ocean = [s for s in year_of_shipments if s.mode == "ocean"]
    delayed = [s for s in ocean if any(e.type == "delayed" for e in s.events)]

    assert 0.1 * len(ocean) < len(delayed) < 0.6 * len(ocean)
    for s in delayed:
        notice = next(e for e in s.events if e.type == "delayed")
        assert notice.carrier_eta is not None
        earlier = [e.carrier_eta for e in s.events if e.occurred_at < notice.occurred_at]
        assert all(eta is None or eta <= notice.carrier_eta for eta in earlier)
    assert any(e.type == "eta_update" for s in ocean for e in s.events)


def test_customs_exams_hold_three_to_five_percent_of_ocean_for_three_to_seven_days() -> None:
    history = synthesize_history(8000, 3, START)
    held = []
    for s in history.shipments():
        if s.mode == "ocean":
            clearance = _days(_first(s, "arrived_port"), _first(s, "customs_released"))
            if clearance > 1.0:  # without an exam, release comes within a day of berthing
                held.append(clearance)

    assert len(held) == history.summary.customs_exams
    assert 0.03 <= len(held) / history.summary.by_mode["ocean"] <= 0.05
    assert min(held) >= 3.0 and max(held) <= 8.0


def test_receiving_matches_the_published_median_and_p90_off_peak_and_in_peak(
    year_of_shipments: list[ClosedShipment],
) -> None:
    receiving: dict[bool, list[float]] = {False: [], True: []}
    for s in year_of_shipments:
        assert s.delivered_at is not None
        receiving[_is_peak(s.delivered_at)].append(_days(s.delivered_at, s.in_stock_at))

    off, peak = receiving[False], receiving[True]
    assert statistics.median(off) == pytest.approx(1.5, rel=0.05)
    assert _quantile(off, 0.9) == pytest.approx(4.0, rel=0.05)
    assert statistics.median(peak) == pytest.approx(4.0, rel=0.05)
    assert _quantile(peak, 0.9) == pytest.approx(14.0, rel=0.05)


def test_receiving_grows_with_the_fcs_backlog_of_recent_deliveries(
    year_of_shipments: list[ClosedShipment],
) -> None:
    # Counted from the history alone, as a model would: deliveries to the FC in 7 days.
    deliveries: dict[str, list[datetime]] = defaultdict(list)
    for s in year_of_shipments:
        assert s.delivered_at is not None
        deliveries[s.destination_fc].append(s.delivered_at)
    for times in deliveries.values():
        times.sort()
    backlog, receiving = [], []
    for s in year_of_shipments:
        assert s.delivered_at is not None
        if _is_peak(s.delivered_at) or s.mode != "parcel":
            continue
        times = deliveries[s.destination_fc]
        count = bisect.bisect_left(times, s.delivered_at) - bisect.bisect_left(
            times, s.delivered_at - 7 * DAY
        )
        backlog.append(math.log(count + 1))
        receiving.append(math.log(_days(s.delivered_at, s.in_stock_at)))

    assert statistics.correlation(backlog, receiving) > 0.4


def test_some_shipments_come_up_short_by_a_few_percent_of_units(
    year_of_history: SyntheticHistory, year_of_shipments: list[ClosedShipment]
) -> None:
    short = [s for s in year_of_shipments if s.quantity_received < s.quantity_shipped]
    units = sum(s.quantity_shipped for s in year_of_shipments)
    missing = sum(s.quantity_shipped - s.quantity_received for s in year_of_shipments)

    assert 0.1 < len(short) / len(year_of_shipments) < 0.3
    assert 0.02 <= missing / units <= 0.05
    assert all(s.quantity_received >= 0 for s in year_of_shipments)
    assert year_of_history.summary.short_shipments == len(short)
    assert year_of_history.summary.units_short == missing


def test_summary_counts_modes_and_peak_shipments(
    year_of_history: SyntheticHistory, year_of_shipments: list[ClosedShipment]
) -> None:
    summary = year_of_history.summary

    assert summary.shipments == len(year_of_shipments) == len(year_of_history)
    assert summary.by_mode == {m: sum(s.mode == m for s in year_of_shipments) for m in MODES}
    assert summary.shipped_in_peak == sum(_is_peak(s.shipped_at) for s in year_of_shipments)
    assert sum(summary.shipped_in_peak_by_mode.values()) == summary.shipped_in_peak


def test_instants_are_utc_whole_minutes_whatever_the_start_offset() -> None:
    tokyo = timezone(timedelta(hours=9))
    shipments = list(generate_history(50, 1, datetime(2025, 1, 1, 9, 0, tzinfo=tokyo)))

    for s in shipments:
        for at in (s.shipped_at, s.in_stock_at, *(e.occurred_at for e in s.events)):
            assert at.utcoffset() == timedelta(0)
            assert at.second == 0 and at.microsecond == 0


def test_a_naive_start_or_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        synthesize_history(10, 1, datetime(2025, 1, 1))  # noqa: DTZ001 - the naive time under test
    with pytest.raises(ValueError, match="negative"):
        synthesize_history(-1, 1, START)


def test_no_shipments_is_an_empty_history() -> None:
    history = synthesize_history(0, 1, START)

    assert list(history.shipments()) == []
    assert history.summary.shipments == 0


def test_every_parameter_names_its_source_and_overrides_are_checked() -> None:
    for name, parameter in DEFAULTS.table.items():
        assert parameter.source.strip(), name
    assert sum(DEFAULTS.value(f"mode.{m}.share") for m in MODES) == pytest.approx(1.0)

    changed = DEFAULTS.with_values({"ocean.customs_exam_share": 0.5})
    assert changed.value("ocean.customs_exam_share") == 0.5
    assert "overridden" in changed.table["ocean.customs_exam_share"].source
    assert DEFAULTS.value("ocean.customs_exam_share") == 0.04
    with pytest.raises(KeyError, match=r"ocean\.exam_share"):
        DEFAULTS.with_values({"ocean.exam_share": 0.5})


def test_a_parameter_override_changes_what_is_drawn() -> None:
    always = DEFAULTS.with_values({"ocean.customs_exam_share": 1.0})
    history = synthesize_history(200, 5, START, always)

    assert history.summary.customs_exams == history.summary.by_mode["ocean"]
