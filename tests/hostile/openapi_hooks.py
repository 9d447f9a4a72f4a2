"""Schemathesis hooks for the fuzz run of the API (tests/hostile/test_openapi_fuzz.py).

They teach schemathesis what the OpenAPI document says in words only, never what to expect
of the answers (no check is changed here):

- the grammars the document names with ``format`` on the ingest bodies (``xml``,
  ``edifact``, ``x12``, ``csv``): a valid document of each, drawn at random, so the fuzzer's
  valid requests are valid and reach the pipeline (the negative ones still break the type);
- how such a body goes on the wire: its text as it is (schemathesis would wrap a string in
  an XML element of its own, and knows no EDIFACT or X12 media type);
- ``since`` before ``until`` (a rule across two parameters, which a schema cannot state).
"""

from __future__ import annotations

import json
import string
from typing import Any

import schemathesis
from hypothesis import strategies as st

from hub.api.filters import parse_time

# -- the body grammars ---------------------------------------------------------------------

_NAME = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)
#: XML 1.0 text: no control characters but tab and newline, no lone surrogates.
_XML_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    | st.sampled_from("\t\n"),
    max_size=20,
)


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


@st.composite
def _element(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(_NAME)
    names = draw(st.lists(_NAME, max_size=3, unique=True))
    attributes = "".join(f' {name}="{_escape(draw(_XML_TEXT))}"' for name in names)
    children = draw(st.lists(_element(depth + 1), max_size=3)) if depth < 3 else []
    # text or elements, not both: the hub's XML codec refuses mixed content
    inner = "".join(children) if children else _escape(draw(_XML_TEXT))
    return f"<{tag}{attributes}>{inner}</{tag}>"


def _xml() -> st.SearchStrategy[str]:
    declaration = st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>\n'])
    return st.builds(lambda head, root: head + root, declaration, _element())


#: EDIFACT UNOC (Latin-1) text; the separators are escaped with the release character.
_EDI_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_categories=("Cc",)),
    max_size=12,
)


def _edi(text: str) -> str:
    return "".join("?" + c if c in "+:'?" else c for c in text)


@st.composite
def _edifact(draw: st.DrawFn) -> str:
    reference = draw(
        st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=14)
    )
    sender, recipient = draw(_NAME).upper(), draw(_NAME).upper()
    messages = []
    for number in range(1, draw(st.integers(1, 3)) + 1):
        segments = [
            f"UNH+{number}+ORDERS:D:96A:UN",
            f"BGM+220+{_edi(draw(_EDI_TEXT)) or 'PO-1'}+9",
            *(f"FTX+AAI+++{_edi(text)}" for text in draw(st.lists(_EDI_TEXT, max_size=3))),
        ]
        segments.append(f"UNT+{len(segments) + 1}+{number}")
        messages.extend(segments)
    head = draw(st.sampled_from(["", "UNA:+.? '"]))
    envelope = [
        f"UNB+UNOC:3+{sender}+{recipient}+261130:1200+{reference}",
        *messages,
        f"UNZ+{sum(s.startswith('UNH') for s in messages)}+{reference}",
    ]
    return head + "'".join(envelope) + "'"


schemathesis.openapi.format("xml", _xml())
schemathesis.openapi.format("edifact", _edifact())


# -- how a body of text goes on the wire --------------------------------------------------


def utf8_text(value: Any) -> bytes:
    return _text(value).encode("utf-8")


def latin1_text(value: Any) -> bytes:
    return _text(value).encode("latin-1", errors="replace")


def _text(value: Any) -> str:
    """A string as it is; anything else (a negative case) as its JSON spelling."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else json.dumps(value)


schemathesis.serializer("application/xml", "text/xml")(lambda ctx, value: utf8_text(value))
schemathesis.serializer("application/EDIFACT")(lambda ctx, value: latin1_text(value))


# -- a rule across two parameters ---------------------------------------------------------


@schemathesis.hook
def filter_query(ctx: Any, query: dict[str, Any] | None) -> bool:
    """``since`` must come before ``until`` (a documented 400 otherwise)."""
    if not query or "since" not in query or "until" not in query:
        return True
    try:
        return bool(parse_time(query["since"]) < parse_time(query["until"]))
    except (ValueError, TypeError):
        return True  # a malformed time: the case is about that
