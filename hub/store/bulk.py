"""A batch's rows in one go, the cheapest way the database takes them.

Recording a worker's batch of 50 writes 200 events (the turn, the translation, the attempt,
the delivery of each message) and updates 50 message rows and 50 delivery rows. An
executemany sends each row through the driver's Python code on its own: on PostgreSQL
(psycopg) that was most of the writer thread's CPU (150 events about 8 ms, 50 updates about
4 ms). There the events go by ``COPY ... FROM STDIN`` (psycopg formats the rows in C and
sends them as one stream: about 1.4 ms) and the updates as one ``UPDATE ... FROM unnest(...)``
with one array per column (about 2.3 ms), see docs/benchmarks.md.

What is stored is the same either way: naive UTC times, event data as :func:`json.dumps`
writes it (SQLAlchemy's default serializer), no data as the JSON ``null`` SQLAlchemy writes;
the arrays are cast to the columns' unbounded types, so a text too long for its column
fails the statement as the executemany would, never cut. SQLite, other drivers, a handful of
rows, and a batch naming one row twice keep the executemany.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, LargeBinary, String, Text, bindparam, func, insert, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from hub.store.tables import DELIVERIES, EVENTS, MESSAGES, UTCDateTime, naive_utc

__all__ = ["BULK_FROM", "insert_events", "update_deliveries", "update_messages"]

#: Below this many rows the executemany is as cheap (COPY has a round trip of its own).
BULK_FROM = 8

_M = MESSAGES.c
_D = DELIVERIES.c
_INSERT_EVENTS = insert(EVENTS)
_EVENT_COLUMNS = ("message_id", "at", "kind", "sink", "detail", "data")
_COPY_EVENTS = f"COPY events ({', '.join(_EVENT_COLUMNS)}) FROM STDIN"

_DELIVERY = (
    update(DELIVERIES)
    .where(_D.message_id == bindparam("m_id"), _D.sink == bindparam("m_sink"))
    .values(
        status=bindparam("m_status"),
        attempts=_D.attempts + 1,
        last_error=bindparam("m_error"),
        delivered_at=func.coalesce(bindparam("m_at", type_=UTCDateTime()), _D.delivered_at),
    )
)
_DELIVERIES_UNNEST = text(
    "UPDATE deliveries AS d SET status = v.status, attempts = d.attempts + 1, "
    "last_error = v.last_error, delivered_at = COALESCE(v.delivered_at, d.delivered_at) "
    "FROM unnest(CAST(:m_id AS varchar[]), CAST(:m_sink AS varchar[]), "
    "CAST(:m_status AS varchar[]), CAST(:m_error AS text[]), CAST(:m_at AS timestamp[])) "
    "AS v(message_id, sink, status, last_error, delivered_at) "
    "WHERE d.message_id = v.message_id AND d.sink = v.sink"
)

#: A message column's type -> the array type its values are sent as (unbounded: a value
#: too long for the column fails on assignment, as in the executemany).
_ARRAYS: dict[type, str] = {
    String: "varchar[]",
    Text: "text[]",
    LargeBinary: "bytea[]",
    Integer: "integer[]",
    UTCDateTime: "timestamp[]",
}
_UPDATES: dict[tuple[str, ...], Any] = {}
_UNNESTS: dict[tuple[str, ...], Any] = {}


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (:func:`hub.store.rows.event_values`) into ``events``, in order."""
    if not rows:
        return
    connection = session.connection()
    if not _bulk(connection, rows):
        connection.execute(_INSERT_EVENTS, list(rows))
        return
    driver: Any = connection.connection.driver_connection
    dumps = json.dumps
    with driver.cursor() as cursor, cursor.copy(_COPY_EVENTS) as copy:
        write = copy.write_row
        for row in rows:
            data = row["data"]
            write(
                (
                    row["message_id"],
                    naive_utc(row["at"]),
                    row["kind"],
                    row["sink"],
                    row["detail"],
                    "null" if data is None else dumps(data),
                )
            )


def update_messages(
    session: Session, keys: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> None:
    """``UPDATE messages SET <keys> WHERE id = m_id`` for each row (``m_id`` and ``v_<key>``
    values)."""
    if not rows:
        return
    connection = session.connection()
    unnest = _unnest(keys)
    if unnest is None or not _bulk(connection, rows) or not _distinct(rows, ("m_id",)):
        connection.execute(_update(keys), list(rows))
        return
    columns: dict[str, list[Any]] = {"m_id": [row["m_id"] for row in rows]}
    for key in keys:
        values = [row[f"v_{key}"] for row in rows]
        if type(_M[key].type) is UTCDateTime:
            values = [None if value is None else naive_utc(value) for value in values]
        columns[f"v_{key}"] = values
    connection.execute(unnest, columns)


def update_deliveries(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Count one more attempt of each (``m_id``, ``m_sink``) delivery, with its status,
    error and (if delivered) time."""
    if not rows:
        return
    connection = session.connection()
    if not _bulk(connection, rows) or not _distinct(rows, ("m_id", "m_sink")):
        connection.execute(_DELIVERY, list(rows))
        return
    columns = {key: [row[key] for row in rows] for key in ("m_id", "m_sink", "m_status")}
    columns["m_error"] = [row["m_error"] for row in rows]
    columns["m_at"] = [None if row["m_at"] is None else naive_utc(row["m_at"]) for row in rows]
    connection.execute(_DELIVERIES_UNNEST, columns)


def _bulk(connection: Connection, rows: Sequence[object]) -> bool:
    """Whether ``rows`` go in one statement: enough of them, on PostgreSQL with psycopg."""
    dialect = connection.dialect
    return len(rows) >= BULK_FROM and dialect.name == "postgresql" and dialect.driver == "psycopg"


def _distinct(rows: Sequence[dict[str, Any]], keys: tuple[str, ...]) -> bool:
    """No two rows name the same target row (one statement would apply only one of them)."""
    return len({tuple(row[key] for key in keys) for row in rows}) == len(rows)


def _update(keys: tuple[str, ...]) -> Any:
    """``UPDATE messages SET <keys> WHERE id = :m_id``, built once per set of columns."""
    statement = _UPDATES.get(keys)
    if statement is None:
        statement = (
            update(MESSAGES)
            .where(_M.id == bindparam("m_id"))
            .values({key: bindparam(f"v_{key}", type_=_M[key].type) for key in keys})
        )
        _UPDATES[keys] = statement
    return statement


def _unnest(keys: tuple[str, ...]) -> Any:
    """The same update of many rows as one ``UPDATE ... FROM unnest(...)``; None if a
    column's type has no array here. Built once per set of columns, from the table's own
    column names only."""
    if keys in _UNNESTS:
        return _UNNESTS[keys]
    arrays = [_ARRAYS.get(type(_M[key].type)) for key in keys]
    statement = None
    if all(arrays):
        sets = ", ".join(f"{key} = v.{key}" for key in keys)
        casts = ", ".join(
            f"CAST(:v_{key} AS {array})" for key, array in zip(keys, arrays, strict=True)
        )
        names = ", ".join(keys)
        statement = text(
            f"UPDATE messages AS m SET {sets} "  # noqa: S608 - column names of the table
            f"FROM unnest(CAST(:m_id AS varchar[]), {casts}) AS v(id, {names}) "
            "WHERE m.id = v.id"
        )
    _UNNESTS[keys] = statement
    return statement
