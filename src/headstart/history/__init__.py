"""Shipment history files: the JSON Lines format of DESIGN.md section 4."""

from headstart.history.jsonl import (
    HistoryReadResult,
    InvalidHistoryLine,
    LineError,
    format_shipment,
    parse_shipment,
    read_history,
    read_history_file,
    write_history,
)

__all__ = [
    "HistoryReadResult",
    "InvalidHistoryLine",
    "LineError",
    "format_shipment",
    "parse_shipment",
    "read_history",
    "read_history_file",
    "write_history",
]
