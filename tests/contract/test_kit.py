"""The contract kit itself: it passes a sound sink of each delivery semantics, fails a broken
one, and its failures say what differed (pytest rewrites its asserts)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hub.sdk import Delivery, DeliverySemantics, Receipt, Sink
from hub.sdk.testing import SinkContract, make_delivery

from .keyed_outbox import KeyedOutboxOptions, KeyedOutboxSink, read_copies

pytest_plugins = ["pytester"]

KEYED_OUTBOX = Path(__file__).with_name("keyed_outbox.py")


class TestKeyedOutboxContract(SinkContract):
    """A queue-like peer that keeps every copy, each with its key, passes the kit."""

    sink_class = KeyedOutboxSink

    @pytest.fixture
    def options(self, tmp_path: Path) -> dict[str, Any]:
        return {"directory": str(tmp_path / "queue")}

    @pytest.fixture
    def unreachable_options(self, tmp_path: Path) -> dict[str, Any]:
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("a regular file", encoding="utf-8")
        return {"directory": str(blocker / "queue")}

    @pytest.fixture
    def refusing_options(self, tmp_path: Path) -> dict[str, Any]:
        return {"directory": str(tmp_path / "queue"), "refuse_over": 1}

    def read_back_keyed(
        self, sink: Sink[Any], delivery: Delivery, receipt: Receipt
    ) -> list[tuple[str, bytes]]:
        assert isinstance(sink, KeyedOutboxSink)
        return read_copies(sink.context.resolve(sink.options.directory), delivery.message_id)


def test_the_keyed_peer_really_keeps_both_copies(tmp_path: Path) -> None:
    """So the kit's redelivery check above accepted two copies, not one."""
    sink = KeyedOutboxSink("queue", KeyedOutboxOptions(directory=tmp_path))
    delivery = make_delivery()
    sink.deliver(delivery)
    sink.deliver(make_delivery(attempt=2))
    assert (
        read_copies(tmp_path, delivery.message_id)
        == [(delivery.idempotency_key, delivery.body)] * 2
    )


def test_the_built_in_sinks_declare_that_their_peer_deduplicates() -> None:
    from connectors.file import FileSink
    from connectors.http import HttpSink

    assert FileSink.delivery_semantics is DeliverySemantics.PEER_DEDUPLICATES
    assert HttpSink.delivery_semantics is DeliverySemantics.PEER_DEDUPLICATES


# A scratch project pytest runs in a subprocess, as a connector author's would: the hub is
# found as installed, its pytest11 plugin loads, and warnings are errors.
SCRATCH_TESTS = """
from pathlib import Path

import pytest

from hub.sdk import DeliverySemantics
from hub.sdk.testing import SinkContract
from keyed_outbox import KeyedOutboxSink, KeylessOutboxSink, read_copies


class Queue:
    @pytest.fixture
    def options(self, tmp_path):
        return {"directory": str(tmp_path / "queue")}

    @pytest.fixture
    def unreachable_options(self, tmp_path):
        (tmp_path / "file").write_text("x")
        return {"directory": str(tmp_path / "file" / "queue")}

    @pytest.fixture
    def refusing_options(self, tmp_path):
        return {"directory": str(tmp_path / "queue"), "refuse_over": 1}

    def read_back_keyed(self, sink, delivery, receipt):
        return read_copies(Path(sink.options.directory), delivery.message_id)

    def read_back(self, sink, delivery, receipt):
        return [body for _key, body in self.read_back_keyed(sink, delivery, receipt)]


class TestKeyless(Queue, SinkContract):
    sink_class = KeylessOutboxSink


class QueueClaimingToDeduplicate(KeyedOutboxSink):
    delivery_semantics = DeliverySemantics.PEER_DEDUPLICATES


class TestClaimsToDeduplicate(Queue, SinkContract):
    sink_class = QueueClaimingToDeduplicate
"""

KEYLESS = "test_scratch.py::TestKeyless"
CLAIMS = "test_scratch.py::TestClaimsToDeduplicate"


@pytest.fixture
def scratch(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(keyed_outbox=KEYED_OUTBOX.read_text(encoding="utf-8"))
    pytester.makepyfile(test_scratch=SCRATCH_TESTS)
    return pytester


def test_the_kit_fails_a_keyed_sink_that_drops_the_key(scratch: pytest.Pytester) -> None:
    result = scratch.runpytest_subprocess("-p", "no:cacheprovider", KEYLESS)
    tests = [
        f"test_peer_receives_the_exact_bytes[{p}]" for p in ("binary", "empty", "json", "unicode")
    ]
    tests += ["test_redelivery_with_the_same_key_is_safe", "test_distinct_messages_stay_distinct"]
    result.stdout.re_match_lines_random(
        [re.escape(f"FAILED {KEYLESS}::{test}") + "( |$)" for test in tests]
    )
    result.assert_outcomes(passed=6, failed=6)


def test_a_failing_kit_assertion_shows_the_difference(scratch: pytest.Pytester) -> None:
    """The pytest11 plugin makes pytest rewrite hub.sdk.testing: a diff, not a bare error."""
    result = scratch.runpytest_subprocess(
        "-p", "no:cacheprovider", "-vv", f"{CLAIMS}::test_redelivery_with_the_same_key_is_safe"
    )
    result.assert_outcomes(failed=1)
    copy = repr(b'{"order": "1001", "total": "12.50"}')
    result.stdout.re_match_lines(
        [
            r"E .* declare delivery_semantics = DeliverySemantics\.AT_LEAST_ONCE_KEYED ",
            re.escape(f"E           assert [{copy}, {copy}] == [{copy}]"),
            r"E +Left contains one more item",
        ]
    )
    result.stdout.no_fnmatch_line("*PytestAssertRewriteWarning*")
