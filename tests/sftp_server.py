"""A real SFTP server for tests: asyncssh's, on 127.0.0.1, in a thread of its own.

It serves one folder (chrooted) to user ``partner`` with a password or a key, and writes the
``known_hosts`` line of its host key, so the tests check host keys as production does.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

USER, PASSWORD = "partner", "s3cret-pw"


@dataclass
class SftpServer:
    host: str
    port: int
    root: Path
    known_hosts: Path
    client_key: Path
    host_key_line: str

    def options(self, **more: Any) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "username": USER,
            "password": PASSWORD,
            "known_hosts": str(self.known_hosts),
            **more,
        }


_OPEN: set[Any] = set()


class _Server(asyncssh.SSHServer):
    def connection_made(self, conn: Any) -> None:
        self._conn = conn
        _OPEN.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        _OPEN.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USER and password == PASSWORD


@contextmanager
def running_sftp(tmp: Path) -> Iterator[SftpServer]:
    root = tmp / "sftp-root"
    root.mkdir(exist_ok=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp / "client_key"
    client_key.write_private_key(str(key_file))
    authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}

    async def serve() -> None:
        server = await asyncssh.listen(
            "127.0.0.1",
            0,
            server_host_keys=[host_key],
            authorized_client_keys=authorized,
            server_factory=_Server,
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root).encode()),
            allow_scp=False,
        )
        holder["server"] = server
        holder["port"] = server.sockets[0].getsockname()[1]
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not started.wait(60):
        raise AssertionError("the test SFTP server did not start")
    port = holder["port"]
    line = host_key.export_public_key().decode().split()
    key_line = f"{line[0]} {line[1]}"
    known = tmp / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {key_line}\n")
    try:
        yield SftpServer("127.0.0.1", port, root, known, key_file, key_line)
    finally:

        async def stop() -> None:
            holder["server"].close()
            await holder["server"].wait_closed()
            for conn in list(_OPEN):  # connections a client left open: close them too
                conn.close()
                await conn.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
