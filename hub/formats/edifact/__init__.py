"""UN/EDIFACT: a fast tokenizer, envelope checks, exact re-encoding and CONTRL reports."""

from hub.formats.edifact.codec import EdifactCodec, EdifactOptions
from hub.formats.edifact.contrl import build_contrl
from hub.formats.edifact.faults import Fault
from hub.formats.edifact.interchange import Reading, read_interchange
from hub.formats.edifact.syntax import CHARSETS, Separators
from hub.formats.edifact.writer import write_interchange

__all__ = [
    "CHARSETS",
    "EdifactCodec",
    "EdifactOptions",
    "Fault",
    "Reading",
    "Separators",
    "build_contrl",
    "read_interchange",
    "write_interchange",
]
