"""A bounded fuzz run of every decoder: random bytes and mutations of valid samples.

Each decoder may only refuse input with the errors of its contract (DecodeError, and
SchemaValidationError for definition or schema violations), within a time bound per
example. The budget is fixed (``FUZZ_EXAMPLES`` examples per test, a generous deadline
for a loaded machine), so the run takes the same few seconds in CI every time; set
``HUB_FUZZ_EXAMPLES`` for a longer local run. A watchdog turns a hang into a failure
instead of a stuck CI job.
"""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.errors import DecodeError, SchemaValidationError
from hub.formats.csv_codec import CsvCodec, CsvOptions
from hub.formats.edifact import EdifactCodec, EdifactOptions, build_contrl
from hub.formats.json_codec import JsonCodec
from hub.formats.limits import DecodeLimits
from hub.formats.x12 import X12Codec, X12Options
from hub.formats.xml_codec import XmlCodec, iter_records

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data"

FUZZ_EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "150"))
#: Per example: far above the milliseconds an example takes, below a real hang.
DEADLINE = timedelta(seconds=10)
WATCHDOG_SECONDS = 60

fuzz = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples in every run: a CI failure can be reproduced
)

#: Small limits, so that mutations reach them too.
SMALL = DecodeLimits(
    max_depth=8,
    max_nodes=200,
    max_attributes=6,
    max_namespaces=4,
    max_string_length=64,
    max_segments=40,
    max_segment_elements=12,
    max_rows=20,
    max_columns=8,
)


@contextmanager
def watchdog(seconds: int = WATCHDOG_SECONDS) -> Iterator[None]:
    """Raise in the main thread if the body runs longer than ``seconds`` (a hang)."""

    def hung(signum: int, frame: Any) -> None:
        raise TimeoutError(f"a decoder ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def survives(decode: Callable[[bytes], Any], data: bytes) -> None:
    """``decode`` returns or raises one of the codec errors; nothing else, no hang."""
    with watchdog(), suppress(DecodeError, SchemaValidationError):
        decode(data)


def _samples(folder: str, pattern: str) -> list[bytes]:
    return [path.read_bytes() for path in sorted((DATA / folder).rglob(pattern))]


SAMPLES = {
    "json": [
        (ROOT / "examples" / "woocommerce-order.json").read_bytes(),
        b'{"a": [1, 2.5, -3e2, true, null, "x\\u00e9\\"y"], "b": {"c": {}}}',
    ],
    "xml": [
        *_samples("xml", "*.xml"),
        b'<r xmlns="urn:d" xmlns:p="urn:p"><p:a p:k="1" k="2">t</p:a><b/><b>x</b></r>',
        b"<?xml version='1.0' encoding='ISO-8859-1'?><r><a>\xe9</a></r>",
    ],
    "csv": [*_samples("csv", "*.csv"), b'a,b\r\n"x,y","1\r\n2"\r\n3,4\r\n'],
    "edifact": _samples("edifact", "*.edi"),
    "x12": _samples("x12", "*.x12"),
}


@st.composite
def mutated(draw: st.DrawFn, samples: list[bytes]) -> bytes:
    """A sample with a few edits: cut, insert, duplicate, repeat, replace, truncate."""
    data = bytearray(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            data += draw(st.binary(min_size=1, max_size=8))
            continue
        at = draw(st.integers(0, len(data) - 1))
        end = draw(st.integers(at, min(len(data), at + 64)))
        kind = draw(st.sampled_from(["cut", "insert", "duplicate", "repeat", "byte", "truncate"]))
        if kind == "cut":
            del data[at:end]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "duplicate":
            data[at:at] = data[at:end]
        elif kind == "repeat":  # a piece many times: reaches counts and depths
            data[at:at] = bytes(data[at:end]) * draw(st.integers(2, 300))
        elif kind == "byte":
            data[at] = draw(st.integers(0, 255))
        else:
            del data[at:]
    return bytes(data)


def inputs(format_name: str) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=512), mutated(SAMPLES[format_name]))


# --- the decoders ----------------------------------------------------------------------

DECODERS: dict[str, list[tuple[str, Callable[[bytes], Any]]]] = {
    "json": [("default", JsonCodec().decode), ("small", JsonCodec(limits=SMALL).decode)],
    "xml": [
        ("default", XmlCodec().decode),
        ("small", XmlCodec(limits=SMALL).decode),
        ("stream", lambda data: list(iter_records(io.BytesIO(data), "a"))),
        ("stream-small", lambda data: list(iter_records(io.BytesIO(data), "b", limits=SMALL))),
    ],
    "csv": [
        ("default", CsvCodec().decode),
        ("small", CsvCodec(limits=SMALL).decode),
        ("semicolon", CsvCodec(CsvOptions(delimiter=";", decimal=",")).decode),
    ],
    "edifact": [
        ("default", EdifactCodec().decode),
        ("small", EdifactCodec(limits=SMALL).decode),
        ("envelope", EdifactCodec(EdifactOptions(structure=False, validate=False)).decode),
    ],
    "x12": [
        ("default", X12Codec().decode),
        ("small", X12Codec(limits=SMALL).decode),
        ("envelope", X12Codec(X12Options(structure=False, validate=False)).decode),
        ("split", X12Codec().split),
        ("check", X12Codec().check),
    ],
}


def _contrl(data: bytes) -> None:
    """The CONTRL answer to whatever the envelope reader accepts, written back out."""
    codec = EdifactCodec(EdifactOptions(validate=False, structure=False))
    reading = codec.read(data)
    codec.encode(build_contrl(reading, reference="F1"))


CASES = [(fmt, label, decode) for fmt, entries in DECODERS.items() for label, decode in entries]


@pytest.mark.parametrize(
    ("format_name", "label", "decode"), CASES, ids=[f"{f}-{label}" for f, label, _ in CASES]
)
def test_a_decoder_only_refuses_with_its_errors(
    format_name: str, label: str, decode: Callable[[bytes], Any]
) -> None:
    @fuzz
    @given(data=inputs(format_name))
    def run(data: bytes) -> None:
        survives(decode, data)

    run()


@fuzz
@given(data=inputs("edifact"))
def test_the_contrl_answer_to_any_readable_interchange_can_be_written(data: bytes) -> None:
    survives(_contrl, data)


def _spin() -> None:
    while True:
        pass


def test_the_watchdog_stops_a_hang() -> None:
    with watchdog(1), pytest.raises(TimeoutError):
        _spin()
