"""The ``sftp`` source and sink against a real SFTP server started by the test (asyncssh)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.sftp import SftpSink, SftpSinkOptions, SftpSource, SftpSourceOptions
from hub.sdk import (
    ConnectorContext,
    Delivery,
    FatalDeliveryError,
    PollSource,
    Receipt,
    RetriableDeliveryError,
    RetriableSourceError,
    Sink,
)
from hub.sdk.testing import PollSourceContract, SinkContract, drain, make_delivery
from tests.peers import free_port
from tests.sftp_server import SftpServer, running_sftp


@pytest.fixture(scope="module")
def sftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SftpServer]:
    with running_sftp(tmp_path_factory.mktemp("sftp")) as server:
        yield server


@pytest.fixture
def folder(sftp: SftpServer) -> str:
    """A remote folder of this test's own."""
    name = f"in-{time.time_ns()}"
    (sftp.root / name).mkdir()
    return f"/{name}"


def _settled(path: Path) -> None:
    then = time.time() - 60
    os.utime(path, (then, then))


class TestSftpSourceContract(PollSourceContract):
    source_class = SftpSource

    @pytest.fixture
    def options(self, sftp: SftpServer, folder: str) -> dict[str, Any]:
        self.root = sftp.root
        return sftp.options(path=folder, settle_seconds=1)

    @pytest.fixture
    def unreachable_options(self, sftp: SftpServer) -> dict[str, Any]:
        return sftp.options(port=free_port(), path="/in")

    def put(self, source: PollSource[Any], bodies: list[bytes]) -> None:
        assert isinstance(source, SftpSource)
        for body in bodies:
            path = self.root / source.options.path.lstrip("/") / f"item-{time.time_ns()}.json"
            path.write_bytes(body)
            _settled(path)


class TestSftpSinkContract(SinkContract):
    sink_class = SftpSink

    @pytest.fixture
    def options(self, sftp: SftpServer, folder: str) -> dict[str, Any]:
        self.root = sftp.root
        return sftp.options(path=folder)

    @pytest.fixture
    def unreachable_options(self, sftp: SftpServer) -> dict[str, Any]:
        return sftp.options(port=free_port(), path="/out")

    @pytest.fixture
    def refusing_options(self, sftp: SftpServer) -> dict[str, Any]:
        return sftp.options(path="/no-such-folder")

    def read_back(self, sink: Sink[Any], delivery: Delivery, receipt: Receipt) -> list[bytes]:
        assert isinstance(sink, SftpSink)
        folder = self.root / sink.options.path.lstrip("/")
        files = sorted(p for p in folder.iterdir() if p.is_file())
        assert not [p for p in files if p.name.endswith(".part")], "a temporary file is left"
        mine = [p for p in files if p.name == sink.filename(delivery)]
        return [p.read_bytes() for p in mine]


def test_key_authentication(sftp: SftpServer, folder: str) -> None:
    options = sftp.options(path=folder, private_key=str(sftp.client_key))
    del options["password"]
    sink = SftpSink("partner", SftpSinkOptions.model_validate(options))
    try:
        receipt = sink.deliver(make_delivery(b"by key"))
    finally:
        sink.close()
    assert "uploaded" in receipt.detail
    assert [p.read_bytes() for p in (sftp.root / folder.lstrip("/")).iterdir()] == [b"by key"]


def test_an_unknown_host_key_is_refused(sftp: SftpServer, folder: str, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    source = SftpSource(
        "partner",
        SftpSourceOptions.model_validate(sftp.options(path=folder, known_hosts=str(empty))),
    )
    try:
        with pytest.raises(RetriableSourceError, match="is not in") as caught:
            source.poll(None, 10)
        assert "ssh-keyscan" in (caught.value.hint or "")
    finally:
        source.close()


def test_a_pinned_host_key_that_differs_is_refused(sftp: SftpServer, folder: str) -> None:
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOtherKeyOtherKeyOtherKeyOtherKeyOth"
    sink = SftpSink(
        "partner", SftpSinkOptions.model_validate(sftp.options(path=folder, host_key=other))
    )
    try:
        with pytest.raises(RetriableDeliveryError, match="not the pinned one"):
            sink.deliver(make_delivery())
    finally:
        sink.close()
    assert list((sftp.root / folder.lstrip("/")).iterdir()) == []


def test_a_pinned_host_key_that_matches_is_enough(sftp: SftpServer, folder: str) -> None:
    options = sftp.options(path=folder, host_key=sftp.host_key_line)
    del options["known_hosts"]
    sink = SftpSink("partner", SftpSinkOptions.model_validate(options))
    try:
        sink.deliver(make_delivery())
    finally:
        sink.close()


def test_wrong_password_says_so_without_the_password(sftp: SftpServer, folder: str) -> None:
    source = SftpSource(
        "partner", SftpSourceOptions.model_validate(sftp.options(path=folder, password="not-it"))
    )
    try:
        with pytest.raises(RetriableSourceError, match="refused the credentials") as caught:
            source.poll(None, 10)
        assert "not-it" not in str(caught.value)
    finally:
        source.close()


def test_a_missing_remote_folder_is_fatal_for_the_sink(sftp: SftpServer) -> None:
    sink = SftpSink("partner", SftpSinkOptions.model_validate(sftp.options(path="/nowhere")))
    try:
        with pytest.raises(FatalDeliveryError, match="does not exist"):
            sink.deliver(make_delivery())
    finally:
        sink.close()


def test_taken_files_move_to_done_on_the_server(sftp: SftpServer, folder: str) -> None:
    local = sftp.root / folder.lstrip("/")
    for name in ("a.edi", "b.edi.part", "c.csv"):
        (local / name).write_bytes(name.encode())
        _settled(local / name)
    source = SftpSource(
        "partner",
        SftpSourceOptions.model_validate(sftp.options(path=folder, pattern="*.edi")),
        ConnectorContext(Path.cwd()),
    )
    try:
        items, _ = drain(source)
        assert [i.inbound.headers["file-name"] for i in items] == ["a.edi"]
        source.confirm(items)
    finally:
        source.close()
    assert (local / "done" / "a.edi").read_bytes() == b"a.edi"
    assert sorted(p.name for p in local.iterdir() if p.is_file()) == ["b.edi.part", "c.csv"]


def test_credentials_are_required() -> None:
    with pytest.raises(ValueError, match="password or a private_key"):
        SftpSinkOptions.model_validate({"host": "h", "username": "u", "path": "/"})
