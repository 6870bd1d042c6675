"""The JSON Lines history format (DESIGN.md section 4): bad lines reported, never dropped."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headstart.domain.estimate import ClosedShipment
from headstart.history import (
    InvalidHistoryLine,
    LineError,
    format_shipment,
    parse_shipment,
    read_history,
    read_history_file,
    write_history,
)

GOOD: dict[str, Any] = {
    "shipment_id": "S1",
    "mode": "ocean",
    "carrier_program": "global_logistics",
    "carrier": "COSCO",
    "origin": "CN-SHA",
    "destination_fc": "ONT8",
    "created_at": "2025-03-01T02:00:00+00:00",
    "shipped_at": "2025-03-02T03:00:00+00:00",
    "events": [
        {
            "type": "departed_origin",
            "occurred_at": "2025-03-05T00:00:00+00:00",
            "carrier_eta": "2025-03-25T00:00:00+00:00",
        },
        {"type": "delivered", "occurred_at": "2025-03-28T10:00:00+00:00"},
        {"type": "receiving_started", "occurred_at": "2025-03-29T08:00:00+00:00"},
    ],
    "in_stock_at": "2025-03-30T12:00:00+00:00",
    "quantity_shipped": 1200,
    "quantity_received": 1180,
}


def _line(**changes: Any) -> str:
    record = {**GOOD, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not _DROP})


_DROP = object()


def test_round_trip_generate_write_read_gives_equal_records(
    year_of_shipments: list[ClosedShipment],
) -> None:
    shipments = year_of_shipments[:800]
    file = io.StringIO()

    written = write_history(shipments, file)
    result = read_history(io.StringIO(file.getvalue()))

    assert written == len(shipments)
    assert result.errors == []
    assert result.shipments == shipments
    assert result.lines == len(shipments)


def test_a_good_line_reads_into_utc_instants_with_delivery_from_its_events() -> None:
    shipment = parse_shipment(_line(shipped_at="2025-03-02T11:00:00+08:00"))

    assert shipment.shipment_id == "S1"
    assert shipment.shipped_at == datetime(2025, 3, 2, 3, 0, tzinfo=UTC)
    assert shipment.delivered_at == datetime(2025, 3, 28, 10, 0, tzinfo=UTC)
    assert shipment.events[0].carrier_eta == datetime(2025, 3, 25, tzinfo=UTC)
    assert shipment.quantity_received == 1180


def test_a_z_suffix_is_an_offset_and_optional_fields_may_be_absent() -> None:
    line = _line(
        shipped_at="2025-03-02T03:00:00Z",
        carrier=_DROP,
        created_at=_DROP,
        events=_DROP,
    )

    shipment = parse_shipment(line)

    assert shipment.shipped_at == datetime(2025, 3, 2, 3, 0, tzinfo=UTC)
    assert (shipment.carrier, shipment.created_at, shipment.events) == ("", None, ())
    assert shipment.delivered_at is None


def test_unknown_fields_are_ignored_at_the_top_and_in_events() -> None:
    events = [{**GOOD["events"][0], "vessel": "EVER GIVEN"}, *GOOD["events"][1:]]

    shipment = parse_shipment(_line(seller="NW", notes={"a": [1]}, events=events))

    assert shipment == parse_shipment(_line())


def test_events_are_read_in_time_order() -> None:
    shipment = parse_shipment(_line(events=list(reversed(GOOD["events"]))))

    assert [e.type for e in shipment.events] == [
        "departed_origin",
        "delivered",
        "receiving_started",
    ]


def test_an_explicit_delivered_at_is_kept_and_written_only_when_events_lack_it() -> None:
    events = [GOOD["events"][0]]
    shipment = parse_shipment(_line(events=events, delivered_at="2025-03-28T10:00:00Z"))

    assert shipment.delivered_at == datetime(2025, 3, 28, 10, 0, tzinfo=UTC)
    assert json.loads(format_shipment(shipment))["delivered_at"] == "2025-03-28T10:00:00+00:00"
    assert "delivered_at" not in json.loads(format_shipment(parse_shipment(_line())))
    assert parse_shipment(format_shipment(shipment)) == shipment


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object, got an array"),
        ('"just a string"', "expected a JSON object, got a string"),
        (_line(mode=_DROP), "missing required field 'mode'"),
        (_line(shipment_id=None), "field 'shipment_id' is null"),
        (_line(origin=""), "field 'origin' is empty"),
        (_line(mode="rail"), "unknown mode 'rail'"),
        (_line(carrier_program="pigeon"), "unknown carrier_program 'pigeon'"),
        (_line(destination_fc=7), "field 'destination_fc' must be a string, got a number"),
        (_line(quantity_shipped="1200"), "must be a whole number, got a string"),
        (_line(quantity_shipped=12.5), "must be a whole number, got a number"),
        (_line(quantity_received=True), "must be a whole number, got a boolean"),
        (_line(quantity_received=-1), "cannot be negative"),
        (_line(shipped_at="2025-03-02T03:00:00"), "shipped_at has no UTC offset"),
        (_line(shipped_at="2025-03-02"), "shipped_at has no UTC offset"),
        (_line(in_stock_at="next tuesday"), "in_stock_at is not an ISO 8601 timestamp"),
        (_line(in_stock_at=1741000000), "in_stock_at must be an ISO 8601 string"),
        (_line(events={"type": "booked"}), "field 'events' must be an array"),
        (_line(events=[7]), "events[0] must be an object"),
        (
            _line(events=[{"type": "teleported", "occurred_at": "2025-03-05T00:00:00Z"}]),
            "events[0].type: unknown event type 'teleported'",
        ),
        (_line(events=[{"type": "booked"}]), "events[0] is missing occurred_at"),
        (
            _line(events=[{"type": "booked", "occurred_at": "2025-03-05T00:00:00"}]),
            "events[0].occurred_at has no UTC offset",
        ),
        (
            _line(
                events=[
                    {"type": "booked", "occurred_at": "2025-03-05T00:00:00Z", "carrier_eta": "x"}
                ]
            ),
            "events[0].carrier_eta is not an ISO 8601 timestamp",
        ),
        (_line(in_stock_at="2025-03-01T00:00:00Z"), "in_stock_at 2025-03-01T00:00:00+00:00 is "),
        (_line(created_at="2025-03-03T00:00:00Z"), "created_at 2025-03-03T00:00:00+00:00 is af"),
        (_line(in_stock_at="2025-03-28T09:00:00Z"), "delivered_at 2025-03-28T10:00:00+00:00 is"),
        (
            _line(delivered_at="2025-03-01T00:00:00Z"),
            "delivered_at 2025-03-01T00:00:00+00:00 is not between shipped_at and in_stock_at",
        ),
        (
            _line(in_stock_at="2025-03-29T00:00:00Z"),
            "receiving_started event at 2025-03-29T08:00:00+00:00 is not between",
        ),
    ],
)
def test_a_malformed_line_is_reported_with_its_number_and_reading_goes_on(
    line: str, message: str
) -> None:
    result = read_history([_line(), "", line, _line(shipment_id="S3")])

    assert [s.shipment_id for s in result.shipments] == ["S1", "S3"]
    assert len(result.errors) == 1
    assert result.errors[0].line_number == 3
    assert message in result.errors[0].message
    assert result.lines == 4


def test_every_problem_of_a_line_is_listed_with_its_shipment_id() -> None:
    result = read_history([_line(mode="rail", quantity_shipped="x", shipped_at="yesterday")])

    (error,) = result.errors
    assert error.message.startswith("shipment 'S1': ")
    for part in ("unknown mode 'rail'", "quantity_shipped", "shipped_at is not an ISO 8601"):
        assert part in error.message


def test_a_repeated_shipment_id_is_reported_and_the_first_kept() -> None:
    result = read_history([_line(), _line(quantity_received=3)])

    assert [s.quantity_received for s in result.shipments] == [1180]
    assert result.errors == [LineError(2, "duplicate shipment_id 'S1' (first on line 1)")]


def test_parse_shipment_raises_a_value_error_naming_the_problem() -> None:
    with pytest.raises(InvalidHistoryLine, match="unknown mode 'rail'"):
        parse_shipment(_line(mode="rail"))
    assert issubclass(InvalidHistoryLine, ValueError)


def test_bytes_lines_are_decoded_one_by_one_and_a_bom_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + _line().encode()
        + b"\n\xff\xfe not utf-8\n\n"
        + _line(shipment_id="S\u00e9").encode()
        + b"\n"
    )

    result = read_history_file(path)

    assert [s.shipment_id for s in result.shipments] == ["S1", "S\u00e9"]
    assert [(e.line_number, e.message[:13]) for e in result.errors] == [(2, "not UTF-8 tex")]
    assert result.lines == 4


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
_REQUIRED = ["shipment_id", "mode", "shipped_at", "in_stock_at", "quantity_shipped"]
# No required field accepts these (strings and whole numbers could happen to be valid).
_WRONG_TYPE = (
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False)
    | st.lists(_JSON, max_size=2)
    | st.dictionaries(st.text(max_size=4), _JSON, max_size=2)
)
_JUNK = st.one_of(
    st.text(max_size=40),
    _JSON.map(json.dumps),
    st.sampled_from(_REQUIRED).map(lambda name: _line(**{name: _DROP})),
    st.tuples(st.sampled_from(_REQUIRED), _WRONG_TYPE).map(lambda c: _line(**{c[0]: c[1]})),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.booleans(), _JUNK), min_size=1, max_size=12))
def test_junk_between_good_lines_is_reported_line_by_line_and_good_lines_survive(
    layout: list[tuple[bool, str]],
) -> None:
    lines, good_ids, junk_numbers = [_line(shipment_id="first")], ["first"], []
    for index, (good, junk) in enumerate(layout):
        if good:
            good_ids.append(f"good-{index}")
            lines.append(_line(shipment_id=f"good-{index}"))
        lines.append(junk)
        if junk.strip():
            junk_numbers.append(len(lines))

    result = read_history(lines)

    assert [s.shipment_id for s in result.shipments] == good_ids
    assert [e.line_number for e in result.errors] == junk_numbers
    assert all(e.message for e in result.errors)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=60), max_size=8))
def test_reading_arbitrary_bytes_never_raises(lines: list[bytes]) -> None:
    result = read_history(lines)

    assert result.lines == len(lines)
    assert len(result.shipments) + len(result.errors) <= len(lines)
