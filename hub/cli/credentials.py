"""What ``hub keys`` and ``hub users`` share: the ``--config`` option, the store they write
(migrated first, so a credential can be made before the hub first ran), and their ``list``
and ``revoke`` commands, which differ only in what they show."""

# No ``from __future__ import annotations``: the commands made below carry annotations built
# from their factory's arguments, which typer could not evaluate from strings.

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Protocol, TypeVar

import typer

from hub.cli.output import handle_errors
from hub.config import load_config
from hub.store import Store

__all__ = ["DEFAULT_CONFIG", "ConfigOption", "Credentials", "add_list", "add_revoke", "opened"]

DEFAULT_CONFIG = Path("config.example.yaml")
ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", help="the hub's YAML config", envvar="HUB_CONFIG"),
]

T = TypeVar("T")
C = TypeVar("C")
T_co = TypeVar("T_co", covariant=True)


class Credentials(Protocol[T_co]):
    """A table of named credentials: ``ApiKeys`` or ``ConsoleUsers``."""

    def list(self) -> Sequence[T_co]: ...

    def revoke(self, name: str) -> T_co: ...


@contextmanager
def opened(config: Path, table: Callable[[Store], C]) -> Iterator[C]:
    """``table`` over the config's store, migrated (or its schema checked) first."""
    from hub.runtime import open_store

    loaded = load_config(config)
    store = open_store(loaded)
    try:
        if loaded.config.store.auto_migrate:
            store.migrate()
        else:
            store.check_schema()
        yield table(store)
    finally:
        store.close()


def add_list(
    group: typer.Typer,
    table: Callable[[Store], Credentials[T]],
    shown: Callable[[T], str],
    help_: str,
) -> None:
    """``list``: every credential, one JSON object per line."""

    @group.command("list", help=help_)
    @handle_errors
    def list_(config: ConfigOption = DEFAULT_CONFIG) -> None:
        with opened(config, table) as store:
            for item in store.list():
                typer.echo(shown(item))


def add_revoke(
    group: typer.Typer,
    table: Callable[[Store], Credentials[T]],
    shown: Callable[[T], str],
    help_: str,
    noun: str,
) -> None:
    """``revoke NAME``: refused from now on; prints the credential as ``list`` does."""

    @group.command("revoke", help=help_)
    @handle_errors
    def revoke(
        name: Annotated[str, typer.Argument(help=f"the {noun}'s name")],
        config: ConfigOption = DEFAULT_CONFIG,
    ) -> None:
        with opened(config, table) as store:
            item = store.revoke(name)
        typer.echo(shown(item))
