"""Rows read and written as plain SQL (Core) beside the ORM, for the hot paths.

Placing an order reads settings, FCs and waiting orders and writes a handful of rows,
each once. Through the ORM every such statement pays for a query context, result
machinery or the unit of work's bookkeeping, which costs more than the statement;
these run the same SQL on the session's connection instead:

- ``plain_rows`` reads rows after the session's pending changes are flushed, exactly
  as an ORM query's autoflush would flush them (and not inside ``no_autoflush``);
- ``insert_row`` inserts a new object's values; the object stays out of the session;
  ``insert_rows`` many of one class in one ``executemany`` (a batch of orders);
- ``update_row`` writes new values of a loaded object by primary key and sets them on
  the object as its database state, so the session's flush has nothing left to write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable, Insert, Result, Table, Update, bindparam, inspect
from sqlalchemy.orm import InstanceState, Session
from sqlalchemy.orm.attributes import set_committed_value


def plain_rows(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> Result[*tuple[Any, ...]]:
    """``statement``'s rows, as ``session.execute`` would see them."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params)


def insert_row(session: Session, row: object) -> None:
    """INSERT the values set on ``row``, a new (transient) mapped object; the columns it
    leaves unset get their defaults, as from the ORM."""
    state = inspect(row)
    session.execute(_statements(state.mapper.local_table)[0], _set_values(state))


def insert_rows(session: Session, rows: Sequence[object]) -> None:
    """``insert_row`` for new objects of one mapped class that set the same attributes,
    in one ``executemany``."""
    if rows:
        states = [inspect(row) for row in rows]
        table = states[0].mapper.local_table
        session.execute(_statements(table)[0], [_set_values(state) for state in states])


def _set_values(state: InstanceState[Any]) -> dict[str, Any]:
    """The column values set on a new object (``insert_row``)."""
    return {
        attribute.columns[0].key: state.dict[attribute.key]
        for attribute in state.mapper.column_attrs
        if attribute.key in state.dict
    }


def update_row(session: Session, row: object, values: Mapping[str, Any]) -> None:
    """UPDATE ``row`` (a loaded mapped object) with ``values`` by its primary key."""
    state = inspect(row)
    if not state.persistent:  # not in the database yet: the flush writes it whole
        for name, value in values.items():
            setattr(row, name, value)
        return
    table = state.mapper.local_table
    # Named <table>_<column>: the name under which offer_changes finds a row's SKU.
    where = {
        f"{table.name}_{column.key}": value
        for column, value in zip(state.mapper.primary_key, state.identity, strict=True)
    }
    session.execute(_statements(table)[1], {**values, **where})
    for name, value in values.items():
        set_committed_value(row, name, value)


_STATEMENTS: dict[Table, tuple[Insert, Update]] = {}


def _statements(table: Any) -> tuple[Insert, Update]:
    """The table's INSERT and its UPDATE by primary key (the SET clause follows the
    parameters), built once."""
    statements = _STATEMENTS.get(table)
    if statements is None:
        keys = [column == bindparam(f"{table.name}_{column.key}") for column in table.primary_key]
        statements = _STATEMENTS[table] = (table.insert(), table.update().where(*keys))
    return statements
