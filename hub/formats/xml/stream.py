"""Huge documents of repeated records, read one record at a time in bounded memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from hub.errors import ConfigError, DecodeError, LimitExceeded, Problem
from hub.formats.base import Tree
from hub.formats.limits import DecodeLimits, shorten
from hub.formats.xml.convert import Converter, PathRules, release
from hub.formats.xml.locate import locate_violations
from hub.formats.xml.names import qname
from hub.formats.xml.parse import (
    parse_document,
    source_line,
    stream_context,
    stream_events,
    syntax_error,
)
from hub.formats.xml.xsd import XsdSchema, readable_message

__all__ = ["stream_records"]

#: Up to this size an invalid stream is loaded whole to place its violations.
_LOAD_WHOLE = 4 * 1024 * 1024
_MAX_REPORTED = 50


def stream_records(
    source: BinaryIO | Path,
    record_tag: str,
    *,
    converter: Converter,
    schema: XsdSchema | None,
    max_bytes: int,
    charset_mismatch: str = "refuse",
) -> Iterator[Tree]:
    """Each element named ``record_tag`` (a name or path, as in ``lists``) as its own tree.

    With a schema the whole stream is checked first, in a memory-bounded pass of its
    own, so that no record of an invalid document is ever yielded. The decoding limits
    apply to each record (``max_nodes`` counts the elements of one record) and, for
    depth, attributes and namespaces, to every element of the stream.
    """
    steps = record_tag.removeprefix("/").split("/")
    if not all(step.strip() == step and step for step in steps):
        raise ConfigError(f"record tag {record_tag!r} is not an element name or path")
    rule = PathRules([record_tag])
    if isinstance(source, Path):
        if schema is not None:
            with source.open("rb") as handle:
                _validate(handle, schema, max_bytes=max_bytes, limits=converter.limits)
        with source.open("rb") as handle:
            yield from _records(handle, rule, converter, schema, charset_mismatch)
        return
    if schema is not None:
        if not source.seekable():
            raise ConfigError(
                "checking a stream against an XSD needs a file or a seekable stream",
                hint="pass the file's path, or read it without the xsd option",
            )
        start = source.tell()
        _validate(source, schema, max_bytes=max_bytes, limits=converter.limits)
        source.seek(start)
    yield from _records(source, rule, converter, schema, charset_mismatch)


def _validate(handle: BinaryIO, schema: XsdSchema, *, max_bytes: int, limits: DecodeLimits) -> None:
    """Check the whole stream against ``schema``; raise SchemaValidationError if it fails.

    An element with more attributes than ``max_attributes`` ends the check at once, as
    the records pass would (libxml2 reports each attribute the schema does not allow).
    """
    start = handle.tell()
    max_depth = limits.max_depth
    context, _ = stream_context(handle, schema=schema.schema)
    root: etree._Element | None = None
    declared = 0
    try:
        for event, element in context:
            if event == "start-ns":
                declared += 1
            elif event == "start":
                if root is None:
                    root = element
                if len(element.attrib) + declared > limits.max_attributes:
                    raise _too_many_attributes(element, declared, limits.max_attributes)
                declared = 0
            else:
                release(element)
    except etree.XMLSyntaxError as exc:
        entries: list[Any] = list(context.error_log)
        violations = [e for e in entries if e.domain_name == "SCHEMASV"]
        if not violations or any(
            e.domain_name != "SCHEMASV" and e.level_name in ("ERROR", "FATAL") for e in entries
        ):
            raise syntax_error(exc, max_depth=max_depth) from None
        # libxml2 does not say where a streamed violation is. A small document is
        # loaded and checked again (every violation placed, and what an unexpected
        # element hides checked too); a bigger one is read again in slices.
        handle.seek(start)
        data = handle.read(min(max_bytes, _LOAD_WHOLE) + 1)
        if len(data) <= min(max_bytes, _LOAD_WHOLE):
            problems = schema.problems(parse_document(data, max_depth=max_depth))
        else:
            handle.seek(start)
            problems = locate_violations(handle, schema, limit=_MAX_REPORTED)
        if not problems:
            problems = [Problem(readable_message(str(e.message), root)) for e in violations]
        raise schema.error(problems, total=max(len(problems), len(violations))) from None
    except (etree.LxmlError, ValueError, LookupError, UnicodeError) as exc:
        raise DecodeError(f"invalid XML: {exc}") from None


def _too_many_attributes(element: etree._Element, declared: int, maximum: int) -> LimitExceeded:
    count = len(element.attrib) + declared
    line = source_line(element)
    return LimitExceeded(
        "max_attributes",
        found=count,
        maximum=maximum,
        what=f"<{shorten(qname(element))}> has {count} attributes and namespace declarations",
        where=f"line {line}" if line else None,
    )


def _records(
    handle: BinaryIO,
    rule: PathRules,
    converter: Converter,
    schema: XsdSchema | None,
    charset_mismatch: str,
) -> Iterator[Tree]:
    events = stream_events(handle, max_depth=converter.max_depth, charset_mismatch=charset_mismatch)
    shapes = schema.shapes if schema is not None else None
    yield from converter.records(events, rule, shapes)
