"""``hub messages list`` and ``hub messages find``: from an order number to its messages."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.listing import (
    ConfigOption,
    CursorOption,
    LimitOption,
    SinceOption,
    StatusOption,
    UntilOption,
    open_store,
    print_page,
)
from hub.cli.output import handle_errors
from hub.store import MessageFilter, find_messages

__all__ = ["register"]

DEFAULT_CONFIG = Path("config.example.yaml")


class AwaitingAck(enum.StrEnum):
    ANY = "any"
    OVERDUE = "overdue"


def register(messages: typer.Typer) -> None:
    @messages.command("list")
    @handle_errors
    def list_(
        config: ConfigOption = DEFAULT_CONFIG,
        route: Annotated[str | None, typer.Option(help="a route of the config")] = None,
        status: StatusOption = None,
        correlation_key: Annotated[
            str | None, typer.Option(help="the business key, e.g. an order number")
        ] = None,
        error_type: Annotated[str | None, typer.Option(help="e.g. delivery_fatal")] = None,
        since: SinceOption = None,
        until: UntilOption = None,
        limit: LimitOption = 100,
        cursor: CursorOption = None,
        awaiting_ack: Annotated[
            AwaitingAck | None,
            typer.Option(
                help="delivered to a trading partner, its acknowledgement not yet in: any, or "
                "only those overdue"
            ),
        ] = None,
    ) -> None:
        """Messages matching every filter given, newest first, one JSON object per line."""
        where = MessageFilter(
            statuses=tuple(status or ()),
            route=route,
            error_type=error_type,
            correlation_key=correlation_key,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            awaiting_ack=awaiting_ack.value if awaiting_ack is not None else None,
        )
        with open_store(config, route) as store:
            page = find_messages(store, where)
        print_page(page)

    @messages.command("find")
    @handle_errors
    def find(
        key: Annotated[str, typer.Argument(metavar="KEY", help="e.g. the order number 727")],
        config: ConfigOption = DEFAULT_CONFIG,
        limit: LimitOption = 100,
        cursor: CursorOption = None,
    ) -> None:
        """Every message whose correlation key is KEY (or a part KEY#n of it), on any route,
        newest first, with its route and status: one JSON object per line."""
        where = MessageFilter(correlation_key=key, with_parts=True, limit=limit, cursor=cursor)
        with open_store(config) as store:
            page = find_messages(store, where)
        if not page.messages:
            typer.echo(
                f"no message has the correlation key {key!r}"
                " (a route keeps one only if it sets `correlation:`)",
                err=True,
            )
        print_page(page)
