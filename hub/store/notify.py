"""PostgreSQL LISTEN/NOTIFY: a commit of new work wakes idle workers in every process.

Polling (``worker.poll_interval_seconds``) stays as the fallback, so a lost notification
or a dropped listener connection only delays work, never loses it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

__all__ = ["CHANNEL", "Listener", "notify"]

CHANNEL = "hub_messages"
log = logging.getLogger("hub.notify")


def notify(session: Session) -> None:
    """Queue a notification; PostgreSQL delivers it when the transaction commits."""
    session.execute(text(f"NOTIFY {CHANNEL}"))


class Listener:
    """A thread holding one connection that LISTENs and calls ``wake`` on each notification."""

    def __init__(self, engine: Engine, wake: Callable[[], None]) -> None:
        self.dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.wake = wake
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="hub-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self.wake()
            except psycopg.Error as exc:
                log.warning("LISTEN connection lost (%s); polling until it is back", exc)
                self._stop.wait(2.0)
