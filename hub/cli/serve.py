"""``hub run``'s server: uvicorn, told to cancel running previews as soon as it must stop."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn

__all__ = ["serve"]


class _Server(uvicorn.Server):
    """Calls ``on_exit`` when a signal asks it to stop, before it waits for open requests."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)


def serve(app: Any, host: str, port: int, on_exit: Callable[[], None], **options: Any) -> bool:
    """Serve ``app`` until a signal stops it; False when the server did not start.

    uvicorn waits for open requests before it stops; ``on_exit`` (which cancels running
    previews) makes sure none of them keeps it waiting. ``options`` go to uvicorn.Config.
    """
    config = uvicorn.Config(app, host=host, port=port, **options)
    server = _Server(config, on_exit)
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C
        server.run()
    return server.started
