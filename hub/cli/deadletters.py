"""``hub dead-letters list | replay | discard``."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.listing import (
    ConfigOption,
    LimitOption,
    SinceOption,
    UntilOption,
    open_store,
    summary_line,
)
from hub.cli.output import handle_errors
from hub.config import load_config
from hub.message import MessageStatus
from hub.runtime import open_store as store_of
from hub.store import DeadLetters, MessageFilter, Store

__all__ = ["register"]

DEFAULT_CONFIG = Path("config.example.yaml")


def _open(config: Path) -> tuple[Store, DeadLetters]:
    loaded = load_config(config)
    store = store_of(loaded)
    return store, DeadLetters(store)


def register(app: typer.Typer) -> None:
    dead = typer.Typer(help="Find, replay and discard failed messages.", no_args_is_help=True)
    app.add_typer(dead, name="dead-letters")

    @dead.command("list")
    @handle_errors
    def list_(
        config: ConfigOption = DEFAULT_CONFIG,
        route: Annotated[str | None, typer.Option(help="a route of the config")] = None,
        error_type: Annotated[str | None, typer.Option(help="e.g. delivery_fatal")] = None,
        correlation_key: Annotated[
            str | None, typer.Option(help="the business key, e.g. an order number")
        ] = None,
        since: SinceOption = None,
        until: UntilOption = None,
        status: Annotated[
            list[MessageStatus] | None,
            typer.Option(
                "--status",
                help="default failed; repeat for several, e.g. --status discarded (see also "
                "`hub messages list`)",
            ),
        ] = None,
        limit: LimitOption = 100,
    ) -> None:
        """Failed messages, newest first, one JSON object per line."""
        where = MessageFilter(
            statuses=tuple(status or (MessageStatus.FAILED,)),
            route=route,
            error_type=error_type,
            correlation_key=correlation_key,
            since=since,
            until=until,
            limit=limit,
        )
        with open_store(config, route) as store:
            found = DeadLetters(store).find(where)
        for summary in found:
            typer.echo(summary_line(summary))

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
