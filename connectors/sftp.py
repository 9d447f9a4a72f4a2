"""The ``sftp`` connector: poll a remote folder for files, and upload files atomically.

Source: like ``directory``, on an SFTP server. A file is taken once it has not changed for
``settle_seconds``; its key is its name, size and modification time, and it is moved to
``done/`` (or deleted) only after the hub has committed it.

Sink: each message is written under a temporary name (``.<name>.part``) and renamed when
complete, so the partner never picks up half a file; the name is fixed per message and sink
(the ``file`` sink's template), so a redelivery replaces the same file.

The server's host key is checked by default, against ``known_hosts`` or a pinned
``host_key``; turning the check off takes ``insecure_skip_host_key_check: true``. Password and
key passphrase are secrets: give them as ``${VARIABLES}``.
"""

from __future__ import annotations

import base64
import contextlib
import posixpath
import socket
import stat
import string
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.file import NO_KEY, escape
from hub.sdk import (
    ConnectorContext,
    ConnectorOptions,
    ConnectorPlugin,
    Delivery,
    DeliverySemantics,
    FatalDeliveryError,
    Inbound,
    Poll,
    Polled,
    PollSource,
    Receipt,
    RetriableDeliveryError,
    RetriableSourceError,
    Sink,
    SourceError,
)
from hub.sdk.files import FileRules, file_key, settled_order, too_big, wanted

__all__ = ["SftpSink", "SftpSinkOptions", "SftpSource", "SftpSourceOptions", "plugin"]

_FIELDS = {"route", "sink", "message_id", "correlation", "extension"}


class SftpOptions(ConnectorOptions):
    host: str
    port: int = Field(22, ge=1, le=65535)
    username: str
    password: SecretStr | None = None
    private_key: Path | None = Field(
        None, description="a private key file (OpenSSH or PEM); relative to the config's folder"
    )
    private_key_passphrase: SecretStr | None = None
    known_hosts: Path | None = Field(
        None, description="an OpenSSH known_hosts file (default: ~/.ssh/known_hosts)"
    )
    host_key: str | None = Field(
        None, description='the server\'s public key pinned, e.g. "ssh-ed25519 AAAAC3..."'
    )
    insecure_skip_host_key_check: bool = Field(
        False, description="accept any host key (never in production: allows a man in the middle)"
    )
    path: str = Field(description="the remote folder")
    timeout_seconds: float = Field(30.0, gt=0, le=300)

    @model_validator(mode="after")
    def _credentials(self) -> SftpOptions:
        if self.password is None and self.private_key is None:
            raise ValueError("give a password or a private_key")
        if self.host_key is not None and len(self.host_key.split()) < 2:
            raise ValueError('host_key is "<type> <base64>", as in a known_hosts line')
        return self


class SftpSourceOptions(SftpOptions, FileRules):
    done: str | None = Field("done", description="where taken files go; null: delete them")
    error: str = Field("error", description="where refused files go, with the reason")


class SftpSinkOptions(SftpOptions):
    filename: str = Field(
        "{correlation}-{message_id}.{extension}",
        description="template with {route} {sink} {message_id} {correlation} {extension}",
    )

    @field_validator("filename")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        used = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        unknown = used - _FIELDS
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {sorted(_FIELDS)}")
        if "/" in value:
            raise ValueError("the filename must not contain a path separator")
        return value


class _HostKeyError(Exception):
    pass


class _Session:
    """One SSH connection with an SFTP channel, opened on first use, reopened after a loss."""

    def __init__(self, options: SftpOptions, context: ConnectorContext) -> None:
        self.options = options
        self.context = context
        self.lock = threading.RLock()
        self._transport: Any = None
        self._sftp: Any = None

    @property
    def shown(self) -> str:
        return f"sftp://{self.options.username}@{self.options.host}:{self.options.port}"

    def sftp(self) -> Any:
        import paramiko

        if self._sftp is not None and self._transport is not None and self._transport.is_active():
            return self._sftp
        self.drop()
        o = self.options
        sock = socket.create_connection((o.host, o.port), timeout=o.timeout_seconds)
        transport = paramiko.Transport(sock)
        try:
            transport.banner_timeout = o.timeout_seconds
            transport.auth_timeout = o.timeout_seconds
            transport.start_client(timeout=o.timeout_seconds)
            self._check_host_key(transport.get_remote_server_key())
            if o.private_key is not None:
                key = paramiko.PKey.from_path(
                    self.context.resolve(o.private_key),
                    (
                        o.private_key_passphrase.get_secret_value()
                        if o.private_key_passphrase
                        else None
                    ),
                )
                transport.auth_publickey(o.username, key)
            else:
                assert o.password is not None
                transport.auth_password(o.username, o.password.get_secret_value())
            sftp = paramiko.SFTPClient.from_transport(transport)
            assert sftp is not None
            sftp.get_channel().settimeout(o.timeout_seconds)
        except BaseException:
            transport.close()
            raise
        self._transport, self._sftp = transport, sftp
        return sftp

    def _check_host_key(self, key: Any) -> None:
        import paramiko

        o = self.options
        if o.insecure_skip_host_key_check:
            return
        offered = f"{key.get_name()} {key.get_base64()}"
        if o.host_key is not None:
            pinned = " ".join(o.host_key.split()[:2])
            if pinned != offered:
                raise _HostKeyError(
                    f"{self.shown} offered host key {_fingerprint(key)}, not the pinned one"
                )
            return
        path = self.context.resolve(o.known_hosts or Path("~/.ssh/known_hosts").expanduser())
        try:
            known = paramiko.HostKeys(str(path))
        except OSError as exc:
            raise _HostKeyError(f"cannot read known_hosts {path}: {exc.strerror}") from None
        name = o.host if o.port == 22 else f"[{o.host}]:{o.port}"
        entries = known.lookup(name)
        if entries is None or key.get_name() not in entries:
            raise _HostKeyError(f"{self.shown} is not in {path} (its key: {_fingerprint(key)})")
        if entries[key.get_name()] != key:
            raise _HostKeyError(
                f"{self.shown} offered {_fingerprint(key)}, which is not the key {path} holds: "
                "the server was replaced, or someone is in between"
            )

    def drop(self) -> None:
        transport, self._transport, self._sftp = self._transport, None, None
        if transport is not None:
            transport.close()

    def failure(self, exc: BaseException) -> tuple[str, str | None, bool]:
        """(message, hint, retriable) for an error of connecting or talking to the server."""
        import paramiko

        self.drop()
        if isinstance(exc, _HostKeyError):
            return (
                str(exc),
                "add the server's key to known_hosts (ssh-keyscan) or pin it in host_key",
                True,
            )
        if isinstance(exc, paramiko.AuthenticationException):
            return (
                f"{self.shown} refused the credentials",
                "check username, password or private_key in the options",
                True,
            )
        if isinstance(exc, paramiko.SSHException | OSError | EOFError):
            text = str(exc) or type(exc).__name__
            return f"cannot talk to {self.shown}: {text}", "is the server up?", True
        return f"{self.shown}: {type(exc).__name__}: {exc}", None, False


@dataclass(frozen=True)
class _Found:
    name: str
    size: int
    mtime: int


class SftpSource(PollSource[SftpSourceOptions]):
    options_model = SftpSourceOptions

    def __init__(
        self, name: str, options: SftpSourceOptions, context: ConnectorContext | None = None
    ) -> None:
        super().__init__(name, options, context)
        self._session = _Session(options, self.context)

    def _run(self, action: str, work: Any) -> Any:
        with self._session.lock:
            try:
                return work(self._session.sftp())
            except (SourceError, FileNotFoundError):
                raise
            except Exception as exc:
                message, hint, retriable = self._session.failure(exc)
                error = RetriableSourceError if retriable else SourceError
                raise error(f"{action}: {message}", hint=hint) from None

    def poll(self, cursor: str | None, limit: int) -> Poll:
        o = self.options

        def work(sftp: Any) -> Poll:
            try:
                entries = sftp.listdir_attr(o.path)
            except FileNotFoundError:
                raise RetriableSourceError(
                    f"the folder {o.path} does not exist on {self._session.shown}",
                    where=o.path,
                    hint="create it on the server; the hub keeps trying",
                ) from None
            cutoff = time.time() - o.settle_seconds
            found: list[_Found] = []
            for entry in entries:
                name = entry.filename
                if not wanted(name, o):
                    continue
                if not stat.S_ISREG(entry.st_mode or 0) or (entry.st_mtime or 0) > cutoff:
                    continue
                found.append(_Found(name, int(entry.st_size or 0), int(entry.st_mtime or 0)))
            found, refused = settled_order(found, o)
            for entry in refused:
                self._move(sftp, entry, o.error, too_big(entry, o))
            items: list[Polled] = []
            for entry in found[:limit]:
                try:
                    with sftp.open(posixpath.join(o.path, entry.name), "rb") as remote:
                        remote.prefetch(entry.size)
                        body = remote.read()
                except FileNotFoundError:
                    continue  # taken by someone else since the listing
                items.append(
                    Polled(
                        Inbound(body, {"file-name": entry.name, "file-size": str(entry.size)}),
                        key=file_key(entry),
                        ref=entry,
                    )
                )
            return Poll(items, cursor=None, more=len(found) > limit)

        result: Poll = self._run(f"polling {o.path}", work)
        return result

    def confirm(self, items: Sequence[Polled]) -> None:
        def work(sftp: Any) -> None:
            for item in items:
                entry = item.ref
                assert isinstance(entry, _Found)
                if self.options.done is None:
                    with contextlib.suppress(FileNotFoundError):  # removed before a crash
                        sftp.remove(posixpath.join(self.options.path, entry.name))
                else:
                    self._move(sftp, entry, self.options.done, None)

        self._run("confirming", work)

    def reject(self, item: Polled, reason: str) -> None:
        entry = item.ref
        assert isinstance(entry, _Found)
        self._run("refusing", lambda sftp: self._move(sftp, entry, self.options.error, reason))

    def _move(self, sftp: Any, entry: _Found, folder: str, reason: str | None) -> None:
        base = self.options.path
        target_dir = folder if folder.startswith("/") else posixpath.join(base, folder)
        try:
            sftp.stat(target_dir)
        except FileNotFoundError:
            sftp.mkdir(target_dir)
        target = posixpath.join(target_dir, entry.name)
        try:
            sftp.stat(target)
            stem, dot, suffix = entry.name.rpartition(".")
            unique = f"{stem}.{entry.mtime}.{suffix}" if dot else f"{entry.name}.{entry.mtime}"
            target = posixpath.join(target_dir, f"{unique}.{uuid.uuid4().hex[:6]}")
        except FileNotFoundError:
            pass
        try:
            sftp.rename(posixpath.join(base, entry.name), target)
        except FileNotFoundError:
            return  # moved before a crash
        if reason is not None:
            with sftp.open(target + ".error.txt", "w") as note:
                note.write((reason + "\n").encode())

    def close(self) -> None:
        with self._session.lock:
            self._session.drop()


class SftpSink(Sink[SftpSinkOptions]):
    options_model = SftpSinkOptions
    # The name is fixed per message and sink: a redelivery replaces the same file.
    delivery_semantics = DeliverySemantics.PEER_DEDUPLICATES

    def __init__(
        self, name: str, options: SftpSinkOptions, context: ConnectorContext | None = None
    ) -> None:
        super().__init__(name, options, context)
        self._session = _Session(options, self.context)

    def filename(self, delivery: Delivery) -> str:
        return self.options.filename.format(
            route=escape(delivery.route),
            sink=escape(delivery.sink),
            message_id=escape(delivery.message_id),
            correlation=escape(delivery.correlation_key or NO_KEY),
            extension=escape(delivery.extension),
        )

    def deliver(self, delivery: Delivery) -> Receipt:
        import paramiko

        name = self.filename(delivery)
        folder = self.options.path
        final = posixpath.join(folder, name)
        temporary = posixpath.join(folder, f".{name}.{uuid.uuid4().hex[:8]}.part")
        with self._session.lock:
            try:
                sftp = self._session.sftp()
                with sftp.open(temporary, "wb") as remote:
                    remote.write(delivery.body)
                try:
                    sftp.posix_rename(temporary, final)  # replaces an earlier copy at once
                except OSError:  # a server without the posix-rename extension
                    with contextlib.suppress(FileNotFoundError):
                        sftp.remove(final)
                    sftp.rename(temporary, final)
            except PermissionError:
                self._cleanup(temporary)
                raise FatalDeliveryError(
                    f"{self._session.shown} does not let us write in {folder}",
                    hint="give the user write access to the folder, then replay",
                ) from None
            except FileNotFoundError:
                raise FatalDeliveryError(
                    f"the folder {folder} does not exist on {self._session.shown}",
                    hint="create it on the server (or fix `path`), then replay",
                ) from None
            except (paramiko.SSHException, OSError, EOFError, _HostKeyError) as exc:
                message, hint, _ = self._session.failure(exc)
                raise RetriableDeliveryError(message, hint=hint) from None
        return Receipt(f"uploaded {final} to {self._session.shown}")

    def _cleanup(self, path: str) -> None:
        try:
            if self._session._sftp is not None:
                self._session._sftp.remove(path)
        except (OSError, EOFError):
            pass

    def close(self) -> None:
        with self._session.lock:
            self._session.drop()


def _fingerprint(key: Any) -> str:
    import hashlib

    digest = hashlib.sha256(key.asbytes()).digest()
    return f"{key.get_name()} SHA256:{base64.b64encode(digest).decode().rstrip('=')}"


plugin = ConnectorPlugin(
    name="sftp",
    description="poll a folder on an SFTP server; upload files atomically",
    source=SftpSource,
    sink=SftpSink,
)
