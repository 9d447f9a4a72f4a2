"""``hub users create|list|password|revoke``: console users (name, password, scopes).

A person signs in to ``/ui`` with a name and password instead of an API key, and sees and
does what their scopes allow, as a key would. The password is asked twice on the terminal
(not echoed), or read from the first line of stdin with ``--password-stdin`` (scripts);
never from an argument, which the process list and shell history would show.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from hub.cli.credentials import DEFAULT_CONFIG, ConfigOption, add_list, add_revoke, opened
from hub.cli.output import handle_errors
from hub.credentials import SCOPES
from hub.store.users import MIN_PASSWORD, ConsoleUser, ConsoleUsers

__all__ = ["register"]

PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="read the password from stdin's first line"),
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    entered: str = typer.prompt(
        f"Password (at least {MIN_PASSWORD} characters)",
        hide_input=True,
        confirmation_prompt=True,
        err=True,
    )
    return entered


def _shown(user: ConsoleUser) -> str:
    return json.dumps(
        {
            "name": user.name,
            "scopes": list(user.scopes),
            "state": "active" if user.active else "revoked",
            "created_at": user.created_at.isoformat(),
            "revoked_at": user.revoked_at.isoformat() if user.revoked_at else None,
        },
        ensure_ascii=False,
    )


def register(app: typer.Typer) -> None:
    users = typer.Typer(
        help="Create, list and revoke console users (sign-in to /ui by name and password).",
        no_args_is_help=True,
    )
    app.add_typer(users, name="users")

    @users.command("create")
    @handle_errors
    def create(
        name: Annotated[str, typer.Argument(help="the user's name: the audit trail's actor")],
        scope: Annotated[
            list[str],
            typer.Option("--scope", "-s", help=f"repeat for several: {', '.join(SCOPES)}"),
        ],
        password_stdin: PasswordStdin = False,
        config: ConfigOption = DEFAULT_CONFIG,
    ) -> None:
        """Make a console user with a password and scopes."""
        password = _password(password_stdin)
        with opened(config, ConsoleUsers) as store:
            user = store.create(name, password, scope)
        typer.echo(_shown(user))

    add_list(
        users, ConsoleUsers, _shown, "Every user, one JSON object per line (no password or hash)."
    )

    @users.command("password")
    @handle_errors
    def password(
        name: Annotated[str, typer.Argument(help="the user's name")],
        password_stdin: PasswordStdin = False,
        config: ConfigOption = DEFAULT_CONFIG,
    ) -> None:
        """Give a user a new password; their open console sessions end."""
        new = _password(password_stdin)
        with opened(config, ConsoleUsers) as store:
            user = store.set_password(name, new)
        typer.echo(_shown(user))

    add_revoke(
        users,
        ConsoleUsers,
        _shown,
        "Refuse the user from now on and end their sessions; the name stays taken.",
        "user",
    )
