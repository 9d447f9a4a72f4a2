"""What ``hub messages list|find`` and ``hub dead-letters list`` share: options and output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from hub.config import load_config
from hub.errors import RouteNotFound
from hub.message import MessageStatus
from hub.runtime import open_store as store_of
from hub.store import MessagePage, MessageSummary, Store
from hub.store.queries import MAX_CURSOR, MAX_LIMIT

__all__ = [
    "ConfigOption",
    "CursorOption",
    "LimitOption",
    "SinceOption",
    "StatusOption",
    "UntilOption",
    "open_store",
    "parse_time",
    "print_page",
    "summary_line",
]


def parse_time(text: str) -> datetime:
    """ISO 8601: ``2026-11-23``, ``2026-11-23T14:05``, ``2026-11-23T14:05:00+01:00``, ``...Z``.

    A time without a zone is UTC, as the store keeps it.
    """
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 date or time (e.g. 2026-11-23 or 2026-11-23T14:05Z)"
        ) from None


ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="the hub's YAML config", envvar="HUB_CONFIG")
]
SinceOption = Annotated[
    datetime | None,
    typer.Option(
        parser=parse_time, metavar="TIME", help="received at or after (ISO 8601; no zone: UTC)"
    ),
]
UntilOption = Annotated[
    datetime | None,
    typer.Option(
        parser=parse_time, metavar="TIME", help="received before (ISO 8601; no zone: UTC)"
    ),
]
LimitOption = Annotated[
    int, typer.Option(min=1, max=MAX_LIMIT, help="at most this many, newest first")
]
CursorOption = Annotated[
    int | None,
    typer.Option(min=1, max=MAX_CURSOR, help="continue after an earlier page (printed on stderr)"),
]
StatusOption = Annotated[
    list[MessageStatus] | None,
    typer.Option("--status", help="repeat for several: --status failed --status retrying"),
]


@contextmanager
def open_store(config: Path, route: str | None = None) -> Iterator[Store]:
    """The config's store; a ``route`` the config does not have is an error, not an empty list."""
    loaded = load_config(config)
    routes = loaded.config.routes
    if route is not None and route not in routes:
        raise RouteNotFound(
            f"no route named {route!r} in {config}",
            hint="routes in this config: " + (", ".join(sorted(routes)) or "(none)"),
        )
    store = store_of(loaded)
    try:
        yield store
    finally:
        store.close()


def summary_line(summary: MessageSummary) -> str:
    error = summary.error
    return json.dumps(
        {
            "id": summary.id,
            "route": summary.route,
            "status": summary.status.value,
            "correlation_key": summary.correlation_key,
            "received_at": summary.received_at.isoformat(),
            "updated_at": summary.updated_at.isoformat(),
            "attempts": summary.attempts,
            "error": f"{error.stage}/{error.type}: {error.message}" if error else None,
        },
        ensure_ascii=False,
    )


def print_page(page: MessagePage) -> None:
    """One JSON object per message on stdout; how to get the next page on stderr."""
    for summary in page.messages:
        typer.echo(summary_line(summary))
    if page.next_cursor is not None:
        typer.echo(
            f"more: add --cursor {page.next_cursor} for the next {len(page.messages)} (older)",
            err=True,
        )
