"""The ``xml`` codec's options."""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.formats.base import CodecOptions

__all__ = ["DoctypeOption", "XmlOptions", "declared_encoding"]

_NCNAME = re.compile(r"[A-Za-z_][\w.\-]*")
_PUBID = re.compile(r"[ \r\na-zA-Z0-9\-'()+,./:=?;!*#@$_%]*")

#: Encodings a parser recognises without the XML declaration.
_SELF_EVIDENT = {"utf-8", "utf-16"}
_PROBE = '<?xml version="1.0"?>'


def declared_encoding(name: str) -> str:
    """The name to write in the XML declaration: the IANA spelling libxml2 and others know."""
    python_name = codecs.lookup(name).name
    if python_name.startswith("iso8859-"):
        return "ISO-8859-" + python_name.removeprefix("iso8859-")
    if python_name.startswith("cp125"):
        return "windows-" + python_name.removeprefix("cp")
    if python_name == "ascii":
        return "US-ASCII"
    return python_name.upper().replace("_", "-")


class DoctypeOption(BaseModel):
    """The DOCTYPE encoding writes: ``<!DOCTYPE name SYSTEM "system">`` (or PUBLIC)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="the root element's name, e.g. cXML")
    system: str = Field(description="the DTD's URI, e.g. http://xml.cxml.org/.../cXML.dtd")
    public: str | None = Field(None, description="a public identifier, written as PUBLIC")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"(?:[A-Za-z_][\w.\-]*:)?[A-Za-z_][\w.\-]*", value):
            raise ValueError(f"{value!r} is not an XML element name")
        return value

    @field_validator("system")
    @classmethod
    def _system(cls, value: str) -> str:
        if '"' in value or not value.isprintable():
            raise ValueError("the system identifier may not hold '\"' or control characters")
        return value

    @field_validator("public")
    @classmethod
    def _public(cls, value: str | None) -> str | None:
        if value is not None and not _PUBID.fullmatch(value):
            raise ValueError(f"{value!r} holds characters a public identifier cannot")
        return value

    def markup(self) -> str:
        if self.public is not None:
            return f'<!DOCTYPE {self.name} PUBLIC "{self.public}" "{self.system}">\n'
        return f'<!DOCTYPE {self.name} SYSTEM "{self.system}">\n'


class XmlOptions(CodecOptions):
    namespaces: dict[str, str] = Field(
        default_factory=dict,
        description="prefix -> namespace URI: elements and attributes in these namespaces "
        "are named with these prefixes in trees, whatever prefix the document uses; "
        "`lists`, record tags and mappings then match by namespace",
    )
    order: Literal["keep", "refuse"] = Field(
        "keep",
        description="a parent whose children interleave (<a/><b/><a/>) or sit beside text "
        "(mixed content): 'keep' decodes it in document order as a '#content' list, "
        "'refuse' fails with the place",
    )
    charset_mismatch: Literal["refuse", "warn", "ignore"] = Field(
        "refuse",
        description="a document declaring a Latin charset (ISO-8859-1, windows-1252) whose "
        "bytes are UTF-8 would decode to mojibake: refuse it, or log a warning and decode it "
        "as declared",
    )
    doctype: DoctypeOption | None = Field(
        None, description="a DOCTYPE to write after the XML declaration when encoding (cXML)"
    )
    xsd: Path | None = Field(
        None,
        description="XML Schema (XSD) checked on decode and on encode; "
        "its repeating elements (maxOccurs > 1) always decode to lists",
    )
    schematron: Path | None = Field(
        None,
        description="ISO Schematron business rules (XSLT 2/3 query binding, run by Saxon) "
        "checked on decode and on encode, after the XSD",
    )
    lists: list[str] = Field(
        default_factory=list,
        description="elements that always decode to lists: a name ('Item') anywhere, "
        "a path ending ('Order/Line') or a path from the root ('/Order/Line')",
    )
    max_bytes: int = Field(50 * 1024 * 1024, ge=1, description="largest document decode accepts")
    encoding: str = Field("utf-8", description="character encoding of encoded documents")
    xml_declaration: bool = Field(True, description="start encoded documents with <?xml ...?>")
    pretty: bool = Field(False, description="indent encoded documents by two spaces a level")

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "max_depth" in data:
            raise ValueError(
                "max_depth is no longer an xml option: it is the decoding limit "
                "`limits.max_depth` (hub-wide) or `input.limits.max_depth` (one route)"
            )
        return data

    @field_validator("lists")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        for entry in value:
            steps = entry.removeprefix("/").split("/")
            if not all(step.strip() == step and step for step in steps):
                raise ValueError(f"{entry!r} is not an element name or path like 'Order/Line'")
        return value

    @field_validator("namespaces")
    @classmethod
    def _namespaces(cls, value: dict[str, str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for prefix, uri in value.items():
            if not _NCNAME.fullmatch(prefix) or prefix.lower().startswith("xml"):
                raise ValueError(
                    f"{prefix!r} is not a namespace prefix (a name without ':', not xml...)"
                )
            if not uri or uri.strip() != uri:
                raise ValueError(f"the prefix {prefix!r} needs a namespace URI, not {uri!r}")
            if uri in seen:
                raise ValueError(f"{seen[uri]!r} and {prefix!r} name the same namespace {uri}")
            seen[uri] = prefix
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            info = codecs.lookup(value)
            probe = _PROBE.encode(info.name)
        except (LookupError, UnicodeError):
            raise ValueError(f"unknown text encoding {value!r}") from None
        if probe != _PROBE.encode("ascii") and info.name != "utf-16":
            raise ValueError(f"{value!r} is not ASCII-compatible; use utf-8, utf-16 or latin-1")
        return value

    @model_validator(mode="after")
    def _declaration(self) -> XmlOptions:
        if not self.xml_declaration and codecs.lookup(self.encoding).name not in _SELF_EVIDENT:
            raise ValueError(
                f"without the XML declaration a reader cannot tell the encoding {self.encoding!r};"
                " keep xml_declaration or use utf-8"
            )
        return self
