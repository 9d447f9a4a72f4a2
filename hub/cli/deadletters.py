"""``hub dead-letters list | replay | discard`` and ``hub worker``."""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.output import handle_errors
from hub.config import load_config
from hub.message import MessageStatus
from hub.store import DeadLetters, ListFilter, Store

__all__ = ["register"]

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="the hub's YAML config", envvar="HUB_CONFIG")
]
DEFAULT_CONFIG = Path("config.example.yaml")


def _open(config: Path) -> tuple[Store, DeadLetters]:
    loaded = load_config(config)
    store = Store(loaded.config.store.url, base_dir=loaded.base_dir)
    return store, DeadLetters(store)


def register(app: typer.Typer) -> None:
    dead = typer.Typer(help="Find, replay and discard failed messages.", no_args_is_help=True)
    app.add_typer(dead, name="dead-letters")

    @dead.command("list")
    @handle_errors
    def list_(
        config: ConfigOption = DEFAULT_CONFIG,
        route: str | None = None,
        error_type: Annotated[str | None, typer.Option(help="e.g. delivery_fatal")] = None,
        correlation_key: str | None = None,
        since: Annotated[datetime | None, typer.Option(help="received at or after")] = None,
        until: Annotated[datetime | None, typer.Option(help="received before")] = None,
        status: MessageStatus = MessageStatus.FAILED,
        limit: int = 100,
    ) -> None:
        """Failed messages, newest first, one JSON object per line."""
        store, dead_letters = _open(config)
        try:
            found = dead_letters.find(
                ListFilter(status, route, error_type, correlation_key, since, until, limit)
            )
        finally:
            store.close()
        for m in found:
            line = {
                "id": m.id,
                "route": m.route,
                "status": m.status.value,
                "correlation_key": m.correlation_key,
                "received_at": m.received_at.isoformat(),
                "error": f"{m.error.stage}/{m.error.type}: {m.error.message}" if m.error else None,
            }
            typer.echo(json.dumps(line, ensure_ascii=False))

    @dead.command()
    @handle_errors
    def replay(
        ids: Annotated[list[str], typer.Argument(metavar="ID...")],
        config: ConfigOption = DEFAULT_CONFIG,
        original: Annotated[
            bool, typer.Option(help="resend the original output instead of translating again")
        ] = False,
        reason: str = "",
    ) -> None:
        """Send dead letters through again (the running hub picks them up)."""
        store, dead_letters = _open(config)
        try:
            for message_id in ids:
                dead_letters.replay(
                    message_id,
                    actor=getpass.getuser(),
                    reason=reason,
                    mode="original" if original else "current",
                )
                typer.echo(f"{message_id}: replayed")
        finally:
            store.close()

    @dead.command()
    @handle_errors
    def discard(
        ids: Annotated[list[str], typer.Argument(metavar="ID...")],
        reason: Annotated[str, typer.Option(help="why (kept in the audit trail)")],
        config: ConfigOption = DEFAULT_CONFIG,
    ) -> None:
        """Drop dead letters for good, with a reason."""
        store, dead_letters = _open(config)
        try:
            for message_id in ids:
                dead_letters.discard(message_id, actor=getpass.getuser(), reason=reason)
                typer.echo(f"{message_id}: discarded")
        finally:
            store.close()
