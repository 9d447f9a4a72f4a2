"""ANSI ASC X12: ISA's separators, envelope checks, definitions, exact re-encoding."""

from hub.formats.x12.codec import X12Codec, X12Options
from hub.formats.x12.envelope import Separators, X12Envelope, wrap
from hub.formats.x12.faults import CODE_NAMES, Fault
from hub.formats.x12.interchange import Reading, read_interchanges
from hub.formats.x12.writer import write_tree

__all__ = [
    "CODE_NAMES",
    "Fault",
    "Reading",
    "Separators",
    "X12Codec",
    "X12Envelope",
    "X12Options",
    "read_interchanges",
    "wrap",
    "write_tree",
]
