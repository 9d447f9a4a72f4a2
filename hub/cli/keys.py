"""``hub keys create|list|revoke``: API keys and their scopes, in the store.

The token is printed once, alone on stdout (so ``KEY=$(hub keys create ...)`` works); the
store keeps only its hash. Keys take effect at once on every running hub of the store.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated

import typer

from hub.cli.credentials import DEFAULT_CONFIG, ConfigOption, add_list, add_revoke, opened
from hub.cli.output import handle_errors
from hub.credentials import SCOPES
from hub.errors import HubError
from hub.message import utcnow
from hub.store.apikeys import ApiKey, ApiKeys

__all__ = ["register"]


def _shown(key: ApiKey) -> str:
    def at(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return json.dumps(
        {
            "name": key.name,
            "key_id": key.key_id,
            "scopes": list(key.scopes),
            "state": key.state().value,
            "created_at": at(key.created_at),
            "expires_at": at(key.expires_at),
            "revoked_at": at(key.revoked_at),
        },
        ensure_ascii=False,
    )


def _expiry(days: float | None, until: datetime | None) -> datetime | None:
    if days is not None and until is not None:
        raise HubError("give --expires-in or --expires, not both")
    if days is not None:
        return utcnow() + timedelta(days=days)
    if until is not None:
        return until if until.tzinfo is not None else until.astimezone()
    return None


def register(app: typer.Typer) -> None:
    keys = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
    app.add_typer(keys, name="keys")

    @keys.command("create")
    @handle_errors
    def create(
        name: Annotated[str, typer.Argument(help="who or what uses it: the audit trail's name")],
        scope: Annotated[
            list[str],
            typer.Option(
                "--scope",
                "-s",
                help=f"repeat for several: {', '.join(SCOPES)}, or ingest:ROUTE",
            ),
        ],
        expires_in: Annotated[
            float | None, typer.Option("--expires-in", min=0.0001, help="days until it expires")
        ] = None,
        expires: Annotated[
            datetime | None, typer.Option("--expires", help="when it expires (ISO 8601)")
        ] = None,
        config: ConfigOption = DEFAULT_CONFIG,
    ) -> None:
        """Make a key; its token is printed once, on stdout: keep it now."""
        with opened(config, ApiKeys) as store:
            key, token = store.create(name, scope, expires_at=_expiry(expires_in, expires))
        typer.echo(
            f"key {key.name!r} (id {key.key_id}) with scope(s) {', '.join(key.scopes)}"
            + (f", expires {key.expires_at.isoformat()}" if key.expires_at else "")
            + ". The token below is shown only now; send it as `Authorization: Bearer <token>`.",
            err=True,
        )
        typer.echo(token)

    add_list(
        keys,
        ApiKeys,
        _shown,
        "Every key, one JSON object per line: name, id, scopes, state, dates (no token).",
    )
    add_revoke(
        keys,
        ApiKeys,
        _shown,
        "Refuse the key from now on, on every hub of the store; its name stays taken.",
        "key",
    )
