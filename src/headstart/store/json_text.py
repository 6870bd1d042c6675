"""JSON columns read and written as their text, for the paths that move many rows.

A delay re-promises tens of thousands of orders onto a handful of distinct promises,
and every revision row carries the same inputs (R17). Through the ``JSON`` type each
value is parsed or encoded once per row; here the caller holds the text, so each
distinct value is encoded once (``JsonCodec``) and the rows share it. The text is what
the ``JSON`` type itself writes (``json.dumps`` with its default separators), so rows
written either way read back the same.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, ColumnElement, Text, bindparam, cast

from headstart.domain.promise import Promise


def json_text(column: ColumnElement[Any]) -> ColumnElement[str]:
    """``column``'s JSON as text: psycopg would otherwise parse PostgreSQL's ``json``."""
    return cast(column, Text)


def json_param(name: str, dialect: str) -> ColumnElement[Any]:
    """A parameter taking JSON text for a ``JSON`` column of ``dialect``.

    PostgreSQL casts the text to ``json``; SQLite stores JSON as text already, and a
    cast there would apply numeric affinity (``CAST(x AS JSON)`` is not a JSON type).
    """
    parameter = bindparam(name, type_=Text)
    return cast(parameter, JSON) if dialect == "postgresql" else parameter


class JsonCodec:
    """Encodes values to JSON text once per distinct value, for one use case."""

    def __init__(self) -> None:
        self._promises: dict[Promise, str] = {}

    def promise(self, promise: Promise) -> str:
        text = self._promises.get(promise)
        if text is None:
            text = self._promises[promise] = encode(promise.to_dict())
        return text


def encode(value: Any) -> str:
    """The text the ``JSON`` column type writes for ``value``."""
    return json.dumps(value)
