"""The admin console at ``/ui``: server-rendered pages, served by the hub itself.

Templates, the stylesheet and one small script (select all, live counts) ship inside the
package: no CDN. The pages read the same store as the JSON API and follow the signed-in
user's scopes.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hub.api.console import bulk, editor, live, systems
from hub.api.console.pages import router
from hub.api.console.throttle import SignInThrottle
from hub.runtime import Hub
from hub.store.consoles import ConsoleSessions

__all__ = ["install_console"]


def install_console(app: FastAPI, hub: Hub) -> None:
    """Serve the console at /ui (its pages) and /ui/static (its stylesheet and script)."""
    app.state.console_sessions = ConsoleSessions(hub.store)
    app.state.console_users = hub.users
    app.state.sign_in_throttle = SignInThrottle()
    app.include_router(bulk.router)
    app.include_router(live.router)
    app.include_router(editor.router)
    app.include_router(systems.router)
    app.include_router(router)
    static = Path(__file__).parent / "static"
    app.mount("/ui/static", StaticFiles(directory=static), name="console-static")
