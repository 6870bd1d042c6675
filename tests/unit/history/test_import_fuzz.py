"""Fuzzing the JSON Lines history importer (DESIGN.md section 4; issue 7, item 3).

``headstart eta fit|evaluate`` and ``headstart history check`` read closed shipments
from JSONL written by other systems. Whatever a line holds, reading must not crash:
a good line becomes a shipment, a bad one an error with its line number, and the
reading goes on. The properties here, over generated valid records, mutations of
them, arbitrary JSON values and arbitrary bytes:

- nothing but ``InvalidHistoryLine`` ever leaves ``parse_shipment``;
- a whole file's result is exactly its lines taken one by one: every good line
  kept in order (the first of a repeated ``shipment_id``), every other non-blank
  line reported once, with its 1-based number;
- a line that reads writes back to a line that reads to the same shipment, with
  every instant in UTC, in the supported years, and in a sane order;
- valid records at the edges (years 1970 and 2199, offsets of -12:00 and +14:00)
  round-trip; the CLI's ``history check`` exits 0 or 1, never with a traceback.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from headstart.commands.history import app as history_app
from headstart.domain.calendar import EARLIEST_INSTANT, LATEST_INSTANT
from headstart.domain.estimate import AT_FC_MILESTONES, CARRIER_PROGRAMS, MILESTONES, MODES
from headstart.history import (
    InvalidHistoryLine,
    format_shipment,
    parse_shipment,
    read_history,
    read_history_file,
)

pytestmark = pytest.mark.slow  # seconds, not milliseconds: a few thousand examples
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REQUIRED = (
    "shipment_id",
    "mode",
    "carrier_program",
    "origin",
    "destination_fc",
    "shipped_at",
    "in_stock_at",
    "quantity_shipped",
    "quantity_received",
)
TIME_FIELDS = ("created_at", "shipped_at", "in_stock_at", "delivered_at")
OFFSETS = [
    timedelta(hours=h, minutes=m) for h, m in ((-12, 0), (-3, -30), (0, 0), (5, 45), (14, 0))
]

# ---------------------------------------------------------------- strategies

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=10,
)
ZONES = st.sampled_from([timezone(o) for o in OFFSETS])
DAY = timedelta(days=1)
# Strings shaped like timestamps, most of them nearly right, some at the ends of time.
TIMESTAMPS = st.one_of(
    st.datetimes(timezones=ZONES).map(datetime.isoformat),
    # hypothesis bounds are naive; it adds the zone
    st.datetimes(max_value=datetime.min + DAY, timezones=ZONES).map(datetime.isoformat),  # noqa: DTZ901
    st.datetimes(min_value=datetime.max - DAY, timezones=ZONES).map(datetime.isoformat),  # noqa: DTZ901
    st.datetimes().map(datetime.isoformat),  # naive
    st.from_regex(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?\Z"),
    st.text(max_size=30),
)
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=16).filter(
    str.strip
)


@st.composite
def valid_records(draw: st.DrawFn) -> dict[str, Any]:
    """A closed shipment as a JSON object, anywhere in the supported years and offsets."""
    zone = timezone(draw(st.sampled_from(OFFSETS)))
    span = LATEST_INSTANT - EARLIEST_INSTANT - timedelta(days=400)
    shipped = EARLIEST_INSTANT + timedelta(days=40) + draw(st.timedeltas(timedelta(0), span))
    in_stock = shipped + timedelta(minutes=draw(st.integers(0, 200 * 24 * 60)))

    def between(low: datetime, high: datetime) -> datetime:
        return low + (high - low) * draw(st.floats(0, 1))

    events = []
    for kind in draw(st.lists(st.sampled_from(MILESTONES), max_size=5)):
        at = (
            between(shipped, in_stock)
            if kind in AT_FC_MILESTONES
            else between(shipped - timedelta(days=3), in_stock + timedelta(days=3))
        )
        event: dict[str, Any] = {"type": kind, "occurred_at": at.astimezone(zone).isoformat()}
        if draw(st.booleans()):
            event["carrier_eta"] = between(shipped, in_stock + timedelta(days=30)).isoformat()
        events.append(event)
    record: dict[str, Any] = {
        "shipment_id": draw(TEXT),
        "mode": draw(st.sampled_from(MODES)),
        "carrier_program": draw(st.sampled_from(CARRIER_PROGRAMS)),
        "carrier": draw(st.text(max_size=8)),
        "origin": draw(TEXT),
        "destination_fc": draw(TEXT),
        "created_at": between(shipped - timedelta(days=30), shipped).astimezone(zone).isoformat(),
        "shipped_at": shipped.astimezone(zone).isoformat(),
        "events": events,
        "in_stock_at": in_stock.astimezone(zone).isoformat(),
        "quantity_shipped": draw(st.integers(0, 10**6)),
        "quantity_received": draw(st.integers(0, 10**6)),
    }
    if draw(st.booleans()):
        record["unknown_field"] = draw(JSON_VALUES)  # kept and ignored (section 4)
    return record


@st.composite
def mutated_records(draw: st.DrawFn) -> dict[str, Any]:
    """A valid record with a few fields dropped, retyped, or given timestamp-like junk."""
    record = draw(valid_records())
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted({*REQUIRED, *TIME_FIELDS, "events", "carrier"})))
        action = draw(st.sampled_from(["drop", "value", "timestamp", "event"]))
        if action == "drop":
            record.pop(name, None)
        elif action == "value":
            record[name] = draw(JSON_VALUES)
        elif action == "timestamp":
            record[name] = draw(TIMESTAMPS)
        elif record.get("events") and isinstance(record["events"], list):
            index = draw(st.integers(0, len(record["events"]) - 1))
            key = draw(st.sampled_from(["type", "occurred_at", "carrier_eta"]))
            event = record["events"][index]
            record["events"][index] = {
                **(event if isinstance(event, dict) else {}),
                key: draw(TIMESTAMPS),
            }
    return record


LINES = st.one_of(
    valid_records().map(json.dumps),
    mutated_records().map(json.dumps),
    JSON_VALUES.map(json.dumps),
    st.text(max_size=40),
    st.just(""),
    st.just("   "),
)

# ---------------------------------------------------------------- checks


def outcome(line: str) -> str | None:
    """The line's shipment_id when it reads on its own, else None; never another error."""
    try:
        return parse_shipment(line).shipment_id
    except InvalidHistoryLine as error:
        assert str(error)
        return None


def assert_read_back_is_sound(line: str) -> None:
    shipment = parse_shipment(line)
    instants = [shipment.shipped_at, shipment.in_stock_at, shipment.created_at]
    instants += [shipment.delivered_at] + [e.occurred_at for e in shipment.events]
    for instant in (i for i in instants if i is not None):
        assert instant.utcoffset() == timedelta(0)
        assert EARLIEST_INSTANT <= instant < LATEST_INSTANT
    assert shipment.shipped_at <= shipment.in_stock_at
    assert shipment.quantity_shipped >= 0 and shipment.quantity_received >= 0
    assert [e.occurred_at for e in shipment.events] == sorted(
        e.occurred_at for e in shipment.events
    )
    again = parse_shipment(format_shipment(shipment))
    assert again == shipment


# ---------------------------------------------------------------- properties


@FUZZ
@given(valid_records())
def test_a_valid_record_anywhere_in_the_supported_years_reads_and_round_trips(
    record: dict[str, Any],
) -> None:
    line = json.dumps(record)

    assert outcome(line) == record["shipment_id"]
    assert_read_back_is_sound(line)
    shipped = datetime.fromisoformat(record["shipped_at"])
    assert parse_shipment(line).shipped_at == shipped.astimezone(UTC)


@FUZZ
@given(valid_records(), st.sampled_from([*TIME_FIELDS, "event", "carrier_eta"]), TIMESTAMPS)
def test_any_timestamp_in_any_time_field_reads_within_the_supported_years_or_is_refused(
    record: dict[str, Any], field: str, value: str
) -> None:
    if field in ("event", "carrier_eta"):
        key = "occurred_at" if field == "event" else field
        record["events"] = [{"type": "in_transit", "occurred_at": record["shipped_at"], key: value}]
    else:
        record[field] = value
    line = json.dumps(record)

    if outcome(line) is not None:
        assert_read_back_is_sound(line)


@FUZZ
@given(st.one_of(mutated_records(), JSON_VALUES))
def test_a_mutated_record_or_any_json_value_reads_or_is_refused_never_crashes(
    value: Any,
) -> None:
    line = json.dumps(value)

    if outcome(line) is not None:
        assert_read_back_is_sound(line)


@FUZZ
@given(st.lists(LINES, max_size=15))
def test_a_file_reads_as_its_lines_one_by_one_with_every_bad_line_numbered(
    lines: list[str],
) -> None:
    expected_ids: list[str] = []
    expected_errors: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        shipment_id = outcome(line)
        if shipment_id is None or shipment_id in expected_ids:
            expected_errors.append(number)  # malformed, or a repeated shipment_id
        else:
            expected_ids.append(shipment_id)

    result = read_history(lines)

    assert [s.shipment_id for s in result.shipments] == expected_ids
    assert [e.line_number for e in result.errors] == expected_errors
    assert result.lines == len(lines)


@FUZZ
@given(st.lists(st.binary(max_size=80) | LINES.map(str.encode), max_size=10))
def test_a_file_of_arbitrary_bytes_is_read_line_by_line_without_crashing(
    chunks: list[bytes],
) -> None:
    content = b"\n".join(chunks)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.jsonl"
        path.write_bytes(content)

        result = read_history_file(path)

    # A binary file is read line by line at b"\n" only; a last line without one counts.
    assert result.lines == content.count(b"\n") + (0 if content.endswith(b"\n") else 1) - (
        1 if content == b"" else 0
    )
    numbers = [e.line_number for e in result.errors]
    assert numbers == sorted(set(numbers)) and all(1 <= n <= result.lines for n in numbers)
    assert len(result.shipments) + len(result.errors) <= result.lines


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINES, min_size=1, max_size=8))
def test_history_check_exits_0_or_1_and_names_every_bad_line(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        expected = read_history_file(path)

        result = CliRunner().invoke(history_app, ["check", str(path)])

    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == (1 if expected.errors else 0), result.output
    for error in expected.errors:
        assert f"line {error.line_number}:" in result.output


def test_instants_outside_the_supported_years_are_refused_not_an_overflow() -> None:
    """Found by fuzzing: 0001-01-01T00:00+14:00 has no UTC equivalent (OverflowError),
    and a shipment in year 9999 overflowed the replay of ``headstart eta evaluate``."""
    base = json.loads(json.dumps(_edge_record("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z")))
    for shipped, in_stock in (
        ("0001-01-01T00:00:00+14:00", "2025-01-02T00:00:00Z"),
        ("2025-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00"),
        ("1969-12-31T23:59:59Z", "2025-01-02T00:00:00Z"),
        ("2025-01-01T00:00:00Z", "2200-01-01T00:00:00Z"),
    ):
        line = json.dumps({**base, "shipped_at": shipped, "in_stock_at": in_stock})

        result = read_history([line])

        assert result.shipments == []
        assert "outside the supported years 1970..2199" in result.errors[0].message


def test_records_at_the_edges_of_the_supported_years_round_trip() -> None:
    for shipped, in_stock in (
        ("1969-12-31T12:00:00-12:00", "1970-01-02T00:00:00+14:00"),  # 1970-01-01T00:00Z
        ("2199-12-30T00:00:00+14:00", "2199-12-31T23:59:59.999999Z"),
    ):
        line = json.dumps(_edge_record(shipped, in_stock))

        assert outcome(line) == "EDGE"
        assert_read_back_is_sound(line)


def _edge_record(shipped_at: str, in_stock_at: str) -> dict[str, Any]:
    return {
        "shipment_id": "EDGE",
        "mode": "air",
        "carrier_program": "partnered_carrier",
        "origin": "CN-SZX",
        "destination_fc": "LAX1",
        "shipped_at": shipped_at,
        "in_stock_at": in_stock_at,
        "quantity_shipped": 1,
        "quantity_received": 1,
    }
