"""Shipment history as JSON Lines (DESIGN.md section 4): one closed shipment per line.

A line looks like (wrapped here)::

    {"shipment_id": "S1", "mode": "ocean", "carrier_program": "global_logistics",
     "carrier": "COSCO", "origin": "CN-SHA", "destination_fc": "ONT8",
     "created_at": "2025-03-01T02:00:00+00:00", "shipped_at": "2025-03-02T03:00:00+00:00",
     "events": [{"type": "departed_origin", "occurred_at": "...", "carrier_eta": "..."}],
     "in_stock_at": "...", "quantity_shipped": 1200, "quantity_received": 1180}

Required: ``shipment_id``, ``mode``, ``carrier_program``, ``origin``,
``destination_fc``, ``shipped_at``, ``in_stock_at``, ``quantity_shipped``,
``quantity_received``. Optional: ``carrier``, ``created_at``, ``events`` (each with
``type``, ``occurred_at`` and optionally ``carrier_eta``) and ``delivered_at``,
which when absent is the time of the last ``delivered`` event. Times are ISO 8601
with an offset (``Z`` accepted), from 1970 to 2199 (``domain/calendar.py``); they are
read into UTC and written in UTC.

Reading never stops at a bad line: each one is reported with its 1-based line
number and every problem found on it, and skipped. Blank lines are skipped;
unknown fields are ignored; events are put in time order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from headstart.domain.estimate import (
    AT_FC_MILESTONES,
    CARRIER_PROGRAMS,
    MILESTONES,
    MODES,
    ClosedShipment,
    HistoryEvent,
    InvalidEstimateInput,
)
from headstart.history.fields import LineFields


@dataclass(frozen=True)
class LineError:
    """One bad line: where it is and what is wrong with it."""

    line_number: int  # 1-based, counting blank lines
    message: str


@dataclass
class HistoryReadResult:
    """The shipments of every good line, in file order, and an error per bad line."""

    shipments: list[ClosedShipment] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    lines: int = 0  # lines seen, blank ones included


class InvalidHistoryLine(ValueError):
    """A line that is not a valid closed shipment; the message lists every problem."""


def read_history(lines: Iterable[str | bytes]) -> HistoryReadResult:
    """Parse JSON Lines; ``bytes`` lines are decoded as UTF-8 one by one."""
    result = HistoryReadResult()
    first_line: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        result.lines = number
        try:
            text = _decode(raw, number)
            if not text.strip():
                continue
            shipment = parse_shipment(text)
        except InvalidHistoryLine as bad:
            result.errors.append(LineError(number, str(bad)))
            continue
        if shipment.shipment_id in first_line:
            first = first_line[shipment.shipment_id]
            message = f"duplicate shipment_id {shipment.shipment_id!r} (first on line {first})"
            result.errors.append(LineError(number, message))
            continue
        first_line[shipment.shipment_id] = number
        result.shipments.append(shipment)
    return result


def read_history_file(path: str | Path) -> HistoryReadResult:
    """``read_history`` over a file, read as bytes so a bad encoding is one bad line."""
    with Path(path).open("rb") as file:
        return read_history(file)


def write_history(shipments: Iterable[ClosedShipment], file: TextIO) -> int:
    """Write one line per shipment; return how many were written."""
    written = 0
    for shipment in shipments:
        file.write(format_shipment(shipment))
        file.write("\n")
        written += 1
    return written


def format_shipment(shipment: ClosedShipment) -> str:
    """The JSON line of one shipment (no newline)."""
    line: dict[str, Any] = {
        "shipment_id": shipment.shipment_id,
        "mode": shipment.mode,
        "carrier_program": shipment.carrier_program,
        "carrier": shipment.carrier,
        "origin": shipment.origin,
        "destination_fc": shipment.destination_fc,
        "created_at": _instant(shipment.created_at),
        "shipped_at": _instant(shipment.shipped_at),
        "events": [_event(event) for event in shipment.events],
        "in_stock_at": _instant(shipment.in_stock_at),
        "quantity_shipped": shipment.quantity_shipped,
        "quantity_received": shipment.quantity_received,
    }
    if shipment.delivered_at != _last_delivered(shipment.events):
        line["delivered_at"] = _instant(shipment.delivered_at)
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def parse_shipment(text: str) -> ClosedShipment:
    """One JSON line into a shipment; ``InvalidHistoryLine`` lists every problem found."""
    try:
        value = json.loads(text)
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise InvalidHistoryLine(f"not valid JSON: {error}") from None
    except RecursionError:
        raise InvalidHistoryLine("not valid JSON: nested too deeply") from None
    fields = LineFields(value)
    shipment_id = fields.text("shipment_id")
    mode = fields.choice("mode", MODES)
    program = fields.choice("carrier_program", CARRIER_PROGRAMS)
    origin = fields.text("origin")
    fc = fields.text("destination_fc")
    carrier = fields.text("carrier", required=False) or ""
    created_at = fields.instant("created_at", required=False)
    shipped_at = fields.instant("shipped_at")
    in_stock_at = fields.instant("in_stock_at")
    delivered_at = fields.instant("delivered_at", required=False)
    shipped = fields.count("quantity_shipped")
    received = fields.count("quantity_received")
    events = tuple(
        sorted(
            (HistoryEvent(kind, at, eta) for kind, at, eta in fields.events("events", MILESTONES)),
            key=lambda event: event.occurred_at,
        )
    )
    if (
        fields.problems
        or shipment_id is None
        or mode is None
        or program is None
        or origin is None
        or fc is None
        or shipped_at is None
        or in_stock_at is None
        or shipped is None
        or received is None
    ):  # every None of a required field comes with a problem
        raise InvalidHistoryLine(_joined(shipment_id, fields.problems))
    if delivered_at is None:
        delivered_at = _last_delivered(events)
    problems = _inconsistencies(created_at, shipped_at, in_stock_at, delivered_at, events)
    if problems:
        raise InvalidHistoryLine(_joined(shipment_id, problems))
    try:
        return ClosedShipment(
            mode=mode,
            carrier_program=program,
            origin=origin,
            destination_fc=fc,
            shipped_at=shipped_at,
            delivered_at=delivered_at,
            in_stock_at=in_stock_at,
            quantity_shipped=shipped,
            quantity_received=received,
            shipment_id=shipment_id,
            carrier=carrier,
            created_at=created_at,
            events=events,
        )
    except InvalidEstimateInput as error:  # a rule of the record this module does not repeat
        raise InvalidHistoryLine(_joined(shipment_id, [str(error)])) from None


def _decode(raw: str | bytes, number: int) -> str:
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff") if number == 1 else raw
    try:
        return raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text: byte {error.start + 1} cannot be decoded"
        raise InvalidHistoryLine(message) from None


def _inconsistencies(
    created_at: datetime | None,
    shipped_at: datetime,
    in_stock_at: datetime,
    delivered_at: datetime | None,
    events: tuple[HistoryEvent, ...],
) -> list[str]:
    problems = []
    if in_stock_at < shipped_at:
        problems.append(f"in_stock_at {_instant(in_stock_at)} is before shipped_at")
    if created_at is not None and created_at > shipped_at:
        problems.append(f"created_at {_instant(created_at)} is after shipped_at")
    if delivered_at is not None and not shipped_at <= delivered_at <= in_stock_at:
        problems.append(
            f"delivered_at {_instant(delivered_at)} is not between shipped_at and in_stock_at"
        )
    for event in events:
        if event.type in AT_FC_MILESTONES and not shipped_at <= event.occurred_at <= in_stock_at:
            problems.append(
                f"{event.type} event at {_instant(event.occurred_at)} is not between "
                "shipped_at and in_stock_at"
            )
    return problems


def _joined(shipment_id: str | None, problems: list[str]) -> str:
    prefix = f"shipment {shipment_id!r}: " if shipment_id else ""
    return prefix + "; ".join(problems)


def _last_delivered(events: Iterable[HistoryEvent]) -> datetime | None:
    times = [event.occurred_at for event in events if event.type == "delivered"]
    return max(times) if times else None


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _event(event: HistoryEvent) -> dict[str, str]:
    line = {"type": event.type, "occurred_at": event.occurred_at.isoformat()}
    if event.carrier_eta is not None:
        line["carrier_eta"] = event.carrier_eta.isoformat()
    return line
