"""The ``xml`` codec: XML documents <-> trees, hardened, with optional XSD validation."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar

from lxml import etree

from hub.errors import ConfigError, DecodeError, LimitExceeded
from hub.formats.base import CodecOptions, Tree
from hub.formats.limits import DecodeLimits
from hub.formats.xml.charset import check_charset
from hub.formats.xml.convert import Converter, PathRules
from hub.formats.xml.options import XmlOptions, declared_encoding
from hub.formats.xml.parse import document_events, hardened_parser
from hub.formats.xml.schematron import Schematron
from hub.formats.xml.stream import stream_records
from hub.formats.xml.write import XmlWriter
from hub.formats.xml.xsd import XsdSchema

__all__ = ["XmlCodec", "iter_records"]

_UNICODE = {"utf-8", "utf-16"}


class XmlCodec:
    name: ClassVar[str] = "xml"
    content_type: ClassVar[str] = "application/xml"
    extension: ClassVar[str] = "xml"
    options_model: ClassVar[type[CodecOptions]] = XmlOptions

    def __init__(
        self, options: XmlOptions | None = None, *, limits: DecodeLimits | None = None
    ) -> None:
        self.options = options = options or XmlOptions()
        self.limits = limits = limits or DecodeLimits()
        #: The compiled XSD, or None; a missing or broken file is a ConfigError here.
        self.schema = XsdSchema(options.xsd) if options.xsd is not None else None
        #: The compiled business rules, or None; a broken file is a ConfigError here.
        self.rules = Schematron(options.schematron) if options.schematron is not None else None
        self._converter = Converter(
            PathRules(options.lists),
            limits,
            namespaces=options.namespaces,
            keep_order=options.order == "keep",
        )
        self._encoding = codecs.lookup(options.encoding).name
        self._declaration = (
            f'<?xml version="1.0" encoding="{declared_encoding(options.encoding)}"?>\n'
            if options.xml_declaration
            else ""
        ) + (options.doctype.markup() if options.doctype is not None else "")

    def decode(self, data: bytes) -> Tree:
        limit = self.options.max_bytes
        if len(data) > limit:
            raise LimitExceeded(
                "max_bytes",
                found=len(data),
                maximum=limit,
                what=f"the document is {len(data)} bytes",
                hint="raise the xml option max_bytes, or read huge files record by record "
                "with iter_records",
            )
        if not data.strip(b" \t\r\n").removeprefix(b"\xef\xbb\xbf"):
            raise DecodeError("the body is empty", hint="send one XML document")
        check_charset(data, policy=self.options.charset_mismatch, whole=True)
        events = document_events(data, max_depth=self.limits.max_depth)
        shapes = self.schema.shapes if self.schema is not None else None
        keep_tree = self.schema is not None or self.rules is not None
        tree, root = self._converter.document(events, shapes, keep_tree=keep_tree)
        if self.schema is not None:
            self.schema.check(root)
        if self.rules is not None:
            self.rules.check(root)
        return tree

    def encode(self, tree: Tree) -> bytes:
        writer = XmlWriter(
            pretty=self.options.pretty,
            max_depth=self.limits.max_depth,
            check_name=self._can_write,
            namespaces=self.options.namespaces,
        )
        text = self._declaration + writer.document(tree) + ("\n" if self.options.pretty else "")
        data = text.encode(self._encoding, errors="xmlcharrefreplace")
        if self.schema is not None or self.rules is not None:
            root = etree.fromstring(data, hardened_parser())
            if self.schema is not None:
                self.schema.check(root)
            if self.rules is not None:
                self.rules.check(root)
        return data

    def iter_records(self, source: BinaryIO | Path, record_tag: str) -> Iterator[Tree]:
        """Each ``record_tag`` element of a huge document as its own tree, in bounded memory.

        ``record_tag`` is a name or a path as in the ``lists`` option. Each record is a tree
        like a decoded document whose root is the record, declaring the namespaces in scope.
        Records inside records stay part of the outer one. With an XSD the whole stream is
        checked before the first record (a second pass; ``source`` must be a path or a
        seekable stream); every violation is located if the file is within ``max_bytes``.
        """
        if self.rules is not None:
            raise ConfigError(
                "Schematron rules check whole documents, not a stream of records",
                hint="decode the document, or stream it without the schematron option",
            )
        return stream_records(
            source,
            record_tag,
            converter=self._converter,
            schema=self.schema,
            max_bytes=self.options.max_bytes,
            charset_mismatch=self.options.charset_mismatch,
        )

    def _can_write(self, name: str) -> bool:
        if self._encoding in _UNICODE:
            return True
        try:
            name.encode(self._encoding)
        except UnicodeEncodeError:
            return False
        return True


def iter_records(
    source: BinaryIO | Path,
    record_tag: str,
    *,
    options: XmlOptions | None = None,
    limits: DecodeLimits | None = None,
) -> Iterator[Tree]:
    """:meth:`XmlCodec.iter_records` without keeping a codec (compiles the XSD per call)."""
    return XmlCodec(options, limits=limits).iter_records(source, record_tag)
