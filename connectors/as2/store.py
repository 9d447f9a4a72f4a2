"""Asynchronous MDNs between the as2 source that receives them and the sink that awaits them.

The source writes each MDN it verified into a folder both are configured with, one file per
original Message-ID (written under a temporary name, then renamed, so a reader never sees
half a file); the sink's attempt looks there. A folder, not the hub's store, because a
connector sees only the SDK; processes on several hosts need it on a shared volume.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from pathlib import Path

__all__ = ["MdnBox"]


class MdnBox:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, message_id: str) -> Path:
        name = hashlib.sha256(message_id.strip().strip("<>").encode()).hexdigest()
        return self.directory / f"{name}.mdn"

    def put(self, message_id: str, headers: Mapping[str, str], body: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self._path(message_id)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        data = json.dumps(
            {
                "message_id": message_id,
                "headers": dict(headers),
                "body": base64.b64encode(body).decode(),
            }
        ).encode()
        try:
            with temporary.open("wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            temporary.replace(target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()

    def take(self, message_id: str) -> tuple[dict[str, str], bytes] | None:
        """The MDN for ``message_id`` once it arrived (it stays, for a repeated attempt)."""
        try:
            data = json.loads(self._path(message_id).read_bytes())
        except FileNotFoundError:
            return None
        return dict(data["headers"]), base64.b64decode(data["body"])
