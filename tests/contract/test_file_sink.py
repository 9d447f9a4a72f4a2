"""The ``file`` sink against a real directory: the contract kit plus file-specific checks."""

from __future__ import annotations

import os
import stat
import string
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from pydantic import ValidationError

from connectors.file import FileSink, FileSinkOptions, escape
from hub.sdk import Delivery, FatalDeliveryError, HubError, Receipt, RetriableDeliveryError, Sink
from hub.sdk.testing import SinkContract, make_delivery


def files_in(directory: Path) -> list[Path]:
    """Every regular file in ``directory``, hidden and temporary ones included."""
    return sorted(p for p in directory.iterdir() if p.is_file())


class TestFileSinkContract(SinkContract):
    sink_class = FileSink

    @pytest.fixture
    def options(self, tmp_path: Path) -> dict[str, Any]:
        return {"directory": str(tmp_path / "outbox")}

    @pytest.fixture
    def unreachable_options(self, tmp_path: Path) -> dict[str, Any]:
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("a regular file", encoding="utf-8")
        return {"directory": str(blocker / "outbox")}

    @pytest.fixture
    def refusing_options(self, tmp_path: Path) -> dict[str, Any]:
        # a name longer than the file system holds: no retry can help
        return {"directory": str(tmp_path / "outbox"), "filename": "x" * 300 + ".{extension}"}

    def read_back(self, sink: Sink[Any], delivery: Delivery, receipt: Receipt) -> list[bytes]:
        assert isinstance(sink, FileSink)
        directory = sink.options.directory
        # This delivery's files, plus any file that belongs to no message at all
        # (a temporary or partial file would show up as an extra copy).
        return [
            path.read_bytes()
            for path in files_in(directory)
            if delivery.message_id in path.name or path.name.startswith(".")
        ]


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


def file_sink(directory: Path, **options: Any) -> FileSink:
    return FileSink("erp", FileSinkOptions(directory=directory, **options))


def test_default_name_and_receipt(outbox: Path) -> None:
    sink = file_sink(outbox)
    receipt = sink.deliver(make_delivery(b"{}"))
    expected = outbox / "1001-0b7e6f1e-4a8e-4df4-9d5e-3c1f7d2a9b10.json"
    assert files_in(outbox) == [expected]
    assert expected.read_bytes() == b"{}"
    assert str(expected) in receipt.detail
    assert "2 bytes" in receipt.detail


def test_no_partial_or_temporary_files_are_left(outbox: Path) -> None:
    sink = file_sink(outbox)
    for n in range(5):
        sink.deliver(
            make_delivery(f"body {n}".encode(), message_id=f"m{n}", idempotency_key=f"m{n}:erp")
        )
    sink.deliver(make_delivery(b"again", message_id="m0", idempotency_key="m0:erp", attempt=2))
    names = [p.name for p in outbox.iterdir()]
    assert len(names) == 5
    assert not [n for n in names if n.startswith(".") or "partial" in n]


def test_two_sinks_writing_one_directory_at_once_each_write_every_file(outbox: Path) -> None:
    """Worker threads share a directory (its entries are made under one lock per
    directory): every batch lands whole, with nothing temporary left, and a sink on
    another directory is not held up by it."""
    sinks = [file_sink(outbox), file_sink(outbox), file_sink(outbox.parent / "other")]

    def batch(n: int) -> list[Receipt | HubError]:
        return sinks[n % 3].deliver_many(
            [make_delivery(f"{n}/{i}".encode(), message_id=f"m{n}-{i}") for i in range(20)]
        )

    with ThreadPoolExecutor(6) as pool:
        outcomes = [o for found in pool.map(batch, range(12)) for o in found]
    assert all(isinstance(o, Receipt) for o in outcomes)
    written = {p.read_bytes() for d in (outbox, outbox.parent / "other") for p in files_in(d)}
    assert written == {f"{n}/{i}".encode() for n in range(12) for i in range(20)}


def test_a_failed_write_leaves_no_temporary_file(
    outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = file_sink(outbox)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(RetriableDeliveryError, match="No space left on device"):
        sink.deliver(make_delivery())
    assert files_in(outbox) == []


def test_redelivery_overwrites_with_the_latest_bytes(outbox: Path) -> None:
    sink = file_sink(outbox)
    sink.deliver(make_delivery(b"first attempt"))
    sink.deliver(make_delivery(b"second attempt", attempt=2))
    [only] = files_in(outbox)
    assert only.read_bytes() == b"second attempt"


def test_filename_template_placeholders(outbox: Path) -> None:
    sink = file_sink(outbox, filename="{route}_{sink}_{correlation}_{message_id}.{extension}")
    delivery = make_delivery(
        route="shop-orders",
        sink="erp",
        message_id="abc",
        correlation_key="1001",
        extension="xml",
    )
    sink.deliver(delivery)
    assert [p.name for p in files_in(outbox)] == ["shop-orders_erp_1001_abc.xml"]


def test_placeholder_values_are_made_safe_for_file_names(outbox: Path) -> None:
    sink = file_sink(outbox, filename="order-{correlation}.{extension}")
    assert sink.target(make_delivery(correlation_key="../../etc/passwd")).name == (
        "order-%2E.%2F..%2Fetc%2Fpasswd.json"
    )
    assert sink.target(make_delivery(correlation_key="A/B 7\u00e4")).name == (
        "order-A%2FB%207%C3%A4.json"
    )
    assert sink.target(make_delivery(correlation_key=None)).name == "order-none.json"
    assert sink.target(make_delivery(correlation_key="...")).name == "order-%2E...json"
    for key in ("../x", "a/../../b", "..", "/abs", ".", "\\x"):
        assert sink.target(make_delivery(correlation_key=key)).parent == outbox


@pytest.mark.parametrize(
    "key",
    ["a/b", "a_b", "a%2Fb", "a b", "a+b", "%", "", ".hidden", "Zo\u00eb", "\U0001f950", "a\\b"],
)
def test_escaping_is_reversible(key: str) -> None:
    assert unquote(escape(key)) == key
    assert set(escape(key)) <= set(string.ascii_letters + string.digits + "._-%")
    assert not escape(key).startswith(".")


@pytest.mark.parametrize(
    "key", ["ORDER-1000", "a.b.c", "_x", "-", "a.", "x\n", ".a", "a..b", "a\u0660", "\u00b2"]
)
def test_plain_names_are_kept_as_the_byte_by_byte_escape_keeps_them(key: str) -> None:
    slow = "".join(
        chr(b) if chr(b) in string.ascii_letters + string.digits + "._-" else f"%{b:02X}"
        for b in key.encode("utf-8")
    )
    assert escape(key) == ("%2E" + slow[1:] if slow.startswith(".") else slow)


def test_keys_that_differ_only_in_unsafe_characters_write_two_files(outbox: Path) -> None:
    sink = file_sink(outbox, filename="{correlation}.{extension}")
    keys = ["a/b", "a_b", "a b", "a%2Fb", "a\\b", "a?b", "none", None]
    for number, key in enumerate(keys):
        sink.deliver(
            make_delivery(f"order {number}".encode(), message_id=f"m{number}", correlation_key=key)
        )
    written = {p.name: p.read_bytes() for p in files_in(outbox)}
    assert len(written) == len(keys), sorted(written)
    assert written["a%2Fb.json"] == b"order 0"
    assert written["a_b.json"] == b"order 1"
    assert written["none.json"] == b"order 7"  # no key
    assert written["%6Eone.json"] == b"order 6"  # the text "none"


def test_a_name_the_file_system_cannot_hold_is_fatal_and_explained(outbox: Path) -> None:
    sink = file_sink(outbox, filename="{correlation}.{extension}")
    with pytest.raises(FatalDeliveryError) as caught:
        sink.deliver(make_delivery(b"x", correlation_key="7" * 300))
    error = caught.value
    assert "the file system cannot hold the file name" in error.message
    assert "(305 bytes)" in error.message
    assert error.hint is not None
    assert "{message_id}" in error.hint
    assert "filename template" in error.hint
    assert files_in(outbox) == []  # no temporary file left behind


@pytest.mark.parametrize(
    "template",
    ["{order}.json", "{message_id}-{date}.json", "{}.json", "{0}.json", "{route.__class__}"],
)
def test_unknown_placeholder_is_rejected(tmp_path: Path, template: str) -> None:
    with pytest.raises(ValidationError, match="unknown placeholder"):
        FileSinkOptions(directory=tmp_path, filename=template)


@pytest.mark.parametrize("template", ["sub/{message_id}.json", "..\\{message_id}.json"])
def test_path_separators_in_the_template_are_rejected(tmp_path: Path, template: str) -> None:
    with pytest.raises(ValidationError, match="path separator"):
        FileSinkOptions(directory=tmp_path, filename=template)


def test_directory_is_created_on_demand(tmp_path: Path) -> None:
    directory = tmp_path / "a" / "b" / "c"
    file_sink(directory).deliver(make_delivery(b"x"))
    assert len(files_in(directory)) == 1


def test_missing_directory_without_create_is_retriable(tmp_path: Path) -> None:
    sink = file_sink(tmp_path / "absent", create_directory=False)
    with pytest.raises(RetriableDeliveryError, match="does not exist") as caught:
        sink.deliver(make_delivery())
    assert caught.value.hint is not None
    assert "create_directory" in caught.value.hint


def test_without_fsync(outbox: Path) -> None:
    file_sink(outbox, fsync=False).deliver(make_delivery(b"fast"))
    assert [p.read_bytes() for p in files_in(outbox)] == [b"fast"]


def test_written_files_are_readable_like_any_other_new_file(outbox: Path) -> None:
    # Another program (the ERP) picks the files up: they get the usual permissions
    # (0666 minus the umask), not the owner-only 0600 of a private temporary file.
    umask = os.umask(0)
    os.umask(umask)
    file_sink(outbox).deliver(make_delivery(b"x"))
    [written] = files_in(outbox)
    assert stat.S_IMODE(written.stat().st_mode) == 0o666 & ~umask


def test_a_relative_directory_starts_at_the_config_folder(tmp_path: Path) -> None:
    from hub.sdk import ConnectorContext
    from hub.sdk.testing import make_delivery

    sink = FileSink(
        "erp",
        FileSinkOptions(directory=Path("var/outbox")),
        ConnectorContext(base_dir=tmp_path),
    )
    receipt = sink.deliver(make_delivery(b"x"))
    assert str(tmp_path / "var" / "outbox") in receipt.detail
    assert [p.read_bytes() for p in (tmp_path / "var" / "outbox").iterdir()] == [b"x"]
