"""Reading the fields of one JSON line, collecting every problem instead of stopping.

Each reader returns the value, or ``None`` after recording a problem (or when an
optional field is absent or null), so one pass reports all that is wrong with a
line.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from headstart.domain.calendar import EARLIEST_INSTANT, LATEST_INSTANT

_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _kind(value: object) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class LineFields:
    """The top-level object of a line, and the problems found reading it."""

    def __init__(self, value: object) -> None:
        self.problems: list[str] = []
        self._object: dict[str, Any] = value if isinstance(value, dict) else {}
        self._is_object = isinstance(value, dict)
        if not self._is_object:
            self.problems.append(f"expected a JSON object, got {_kind(value)}")

    def _get(self, name: str, required: bool) -> object:
        if name not in self._object:
            if required and self._is_object:  # else the one problem is "not an object"
                self.problems.append(f"missing required field {name!r}")
            return None
        value = self._object[name]
        if value is None and required:
            self.problems.append(f"field {name!r} is null")
        return value

    def text(self, name: str, required: bool = True) -> str | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problems.append(f"field {name!r} must be a string, got {_kind(value)}")
            return None
        if required and not value.strip():
            self.problems.append(f"field {name!r} is empty")
            return None
        return value

    def choice(self, name: str, known: tuple[str, ...]) -> str | None:
        value = self.text(name)
        if value is not None and value not in known:
            self.problems.append(f"unknown {name} {value!r} (known: {', '.join(known)})")
            return None
        return value

    def count(self, name: str) -> int | None:
        value = self._get(name, required=True)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(f"field {name!r} must be a whole number, got {_kind(value)}")
            return None
        if value < 0:
            self.problems.append(f"field {name!r} cannot be negative, got {value}")
            return None
        return value

    def instant(self, name: str, required: bool = True) -> datetime | None:
        return self._instant(name, self._get(name, required))

    def _instant(self, name: str, value: object) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self.problems.append(f"{name} must be an ISO 8601 string, got {_kind(value)}")
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.problems.append(f"{name} is not an ISO 8601 timestamp: {_short(value)}")
            return None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.problems.append(
                f"{name} has no UTC offset: {_short(value)} (write e.g. +00:00 or Z)"
            )
            return None
        # Compared before converting: 0001-01-01T00:00+14:00 has no UTC equivalent at all.
        if not EARLIEST_INSTANT <= parsed < LATEST_INSTANT:
            self.problems.append(
                f"{name} is outside the supported years {EARLIEST_INSTANT.year}"
                f"..{LATEST_INSTANT.year - 1}: {_short(value)}"
            )
            return None
        return parsed.astimezone(UTC)

    def events(
        self, name: str, known: tuple[str, ...]
    ) -> list[tuple[str, datetime, datetime | None]]:
        """The (type, occurred_at, carrier_eta) of each well-formed event; [] when absent."""
        value = self._get(name, required=False)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problems.append(f"field {name!r} must be an array, got {_kind(value)}")
            return []
        events = []
        for index, item in enumerate(value):
            where = f"{name}[{index}]"
            if not isinstance(item, dict):
                self.problems.append(f"{where} must be an object, got {_kind(item)}")
                continue
            kind = item.get("type")
            if not isinstance(kind, str):
                self.problems.append(f"{where}.type must be a string, got {_kind(kind)}")
                kind = None
            elif kind not in known:
                self.problems.append(f"{where}.type: unknown event type {_short(kind)}")
                kind = None
            if "occurred_at" not in item or item["occurred_at"] is None:
                self.problems.append(f"{where} is missing occurred_at")
                continue
            occurred_at = self._instant(f"{where}.occurred_at", item["occurred_at"])
            carrier_eta = self._instant(f"{where}.carrier_eta", item.get("carrier_eta"))
            if kind is not None and occurred_at is not None:
                events.append((kind, occurred_at, carrier_eta))
        return events
