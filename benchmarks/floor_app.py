"""The floor: the least a durable ingest endpoint can do on this stack.

One POST endpoint reads the body, INSERTs it into SQLite with the hub's pragmas
(WAL, synchronous=FULL, busy_timeout, BEGIN IMMEDIATE) and commits before it
answers 202, exactly the promise the hub makes. No routing, parsing, ORM,
metrics or worker. Served by ``uvicorn.run`` with the arguments ``hub run`` uses.

With ``--serialize`` the write transactions take a process-wide lock first, so
threads queue on it instead of on SQLite's busy handler, which sleeps 1..100 ms
between retries and leaves the disk idle while the lock is long free.

    python -m benchmarks.floor_app --db /tmp/floor.db --port 8099 [--serialize]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import threading
import uuid
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

__all__ = ["app", "create_table", "main"]

DB_ENV = "BENCH_FLOOR_DB"

app = FastAPI(title="switchboard-floor")
app.state.serialize = False
_local = threading.local()
_write_lock = threading.Lock()


def _connect(path: str) -> sqlite3.Connection:
    """A connection tuned as hub/store/engine.py tunes the hub's."""
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _connection() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = _connect(os.environ[DB_ENV])
        _local.conn = conn
    return conn


def create_table(path: str) -> None:
    conn = _connect(path)
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS messages ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " id VARCHAR(36) NOT NULL UNIQUE,"
            " route VARCHAR(64) NOT NULL,"
            " body BLOB NOT NULL,"
            " received_at DATETIME NOT NULL)"
        )
    finally:
        conn.close()


def _insert_serialized(message_id: str, route: str, body: bytes) -> None:
    with _write_lock:
        _insert(message_id, route, body)


def _insert(message_id: str, route: str, body: bytes) -> None:
    conn = _connection()
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT INTO messages (id, route, body, received_at) VALUES (?, ?, ?, ?)",
            (message_id, route, body, datetime.now(UTC).isoformat(sep=" ")),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@app.post("/ingest/{route}", status_code=202)
async def ingest(route: str, request: Request) -> JSONResponse:
    body = await request.body()
    message_id = str(uuid.uuid4())
    write = _insert_serialized if app.state.serialize else _insert
    await run_in_threadpool(write, message_id, route, body)
    return JSONResponse({"id": message_id}, status_code=202)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="SQLite file to write")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--serialize", action="store_true", help="one write at a time")
    parser.add_argument(
        "--http", default="auto", choices=["auto", "h11", "httptools"], help="uvicorn's parser"
    )
    parser.add_argument(
        "--loop", default="auto", choices=["auto", "asyncio", "uvloop"], help="the event loop"
    )
    args = parser.parse_args()
    os.environ[DB_ENV] = args.db
    app.state.serialize = args.serialize
    create_table(args.db)

    import uvicorn

    from hub.logs import configure_logging

    # The same as `hub run` (hub/cli/main.py): its logging (INFO, access log at WARNING),
    # one process, the loop and parser `hub run` picks by default (auto: uvloop and httptools
    # when the fast extra is installed), or those given (benchmarks/http_stack.py).
    configure_logging("INFO")
    uvicorn.run(
        app, host=args.host, port=args.port, log_config=None, http=args.http, loop=args.loop
    )


if __name__ == "__main__":
    main()
