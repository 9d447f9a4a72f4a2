"""The ``directory`` poll source against a real folder: the contract kit plus its own checks."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from connectors.directory import DirectoryOptions, DirectorySource
from hub.sdk import ConnectorContext, PollSource, SourceError
from hub.sdk.testing import PollSourceContract, drain


def _age(path: Path, seconds: float = 60.0) -> None:
    """Make a file look settled (written a while ago)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


class TestDirectorySourceContract(PollSourceContract):
    source_class = DirectorySource

    @pytest.fixture
    def options(self, tmp_path: Path) -> dict[str, Any]:
        (tmp_path / "inbox").mkdir()
        return {"path": "inbox", "settle_seconds": 1}

    @pytest.fixture
    def unreachable_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"path": str(tmp_path / "unmounted-share")}

    def put(self, source: PollSource[Any], bodies: list[bytes]) -> None:
        assert isinstance(source, DirectorySource)
        for body in bodies:
            path = source.folder / f"item-{time.time_ns()}.json"
            path.write_bytes(body)
            _age(path)


def _source(tmp_path: Path, **options: Any) -> DirectorySource:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    opts = DirectoryOptions.model_validate({"path": "inbox", **options})
    return DirectorySource("orders", opts, ConnectorContext(tmp_path))


def test_a_file_still_being_written_is_left_alone(tmp_path: Path) -> None:
    source = _source(tmp_path, settle_seconds=30)
    fresh = tmp_path / "inbox" / "order.edi"
    fresh.write_bytes(b"UNA:+.? '")
    assert drain(source)[0] == []
    _age(fresh)
    assert [i.inbound.body for i in drain(source)[0]] == [b"UNA:+.? '"]


def test_temporary_and_hidden_names_and_other_patterns_are_never_taken(tmp_path: Path) -> None:
    source = _source(tmp_path, pattern="*.edi", settle_seconds=0)
    for name in ("a.edi.part", "b.tmp", ".c.edi", "d.csv", "e.edi"):
        (tmp_path / "inbox" / name).write_bytes(b"x")
        _age(tmp_path / "inbox" / name)
    (tmp_path / "inbox" / "sub.edi").mkdir()
    names = [i.inbound.headers["file-name"] for i in drain(source)[0]]
    assert names == ["e.edi"]


def test_confirm_moves_to_done_and_keeps_a_second_file_of_the_same_name(tmp_path: Path) -> None:
    source = _source(tmp_path, settle_seconds=0)
    inbox = tmp_path / "inbox"
    for body in (b"first", b"second"):
        (inbox / "order.json").write_bytes(body)
        _age(inbox / "order.json", 60 if body == b"first" else 30)
        items, _ = drain(source)
        source.confirm(items)
    done = sorted(p.read_bytes() for p in (inbox / "done").iterdir())
    assert done == [b"first", b"second"]
    assert not (inbox / "order.json").exists()


def test_done_null_deletes_the_file(tmp_path: Path) -> None:
    source = _source(tmp_path, settle_seconds=0, done=None)
    path = tmp_path / "inbox" / "order.json"
    path.write_bytes(b"{}")
    _age(path)
    items, _ = drain(source)
    source.confirm(items)
    assert not path.exists()
    assert not (tmp_path / "inbox" / "done").exists()


def test_a_file_bigger_than_max_bytes_goes_to_error_with_the_reason(tmp_path: Path) -> None:
    source = _source(tmp_path, settle_seconds=0, max_bytes=10)
    path = tmp_path / "inbox" / "huge.json"
    path.write_bytes(b"x" * 11)
    _age(path)
    assert drain(source)[0] == []
    moved = tmp_path / "inbox" / "error" / "huge.json"
    assert moved.read_bytes() == b"x" * 11
    reason = (tmp_path / "inbox" / "error" / "huge.json.error.txt").read_text()
    assert "11 bytes is more than max_bytes (10)" in reason


def test_a_path_that_is_not_a_folder_is_an_error_for_a_person(tmp_path: Path) -> None:
    (tmp_path / "orders.txt").write_text("a file, not a folder")
    source = DirectorySource(
        "orders", DirectoryOptions(path=Path("orders.txt")), ConnectorContext(tmp_path)
    )
    with pytest.raises(SourceError, match="cannot list the folder") as caught:
        source.poll(None, 10)
    assert caught.value.hint


def test_the_pattern_may_not_name_another_folder() -> None:
    with pytest.raises(ValueError, match="no path separator"):
        DirectoryOptions.model_validate({"path": "inbox", "pattern": "../*.edi"})
