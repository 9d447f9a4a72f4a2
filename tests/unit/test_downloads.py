"""Which type a stored payload is served with: the stored one only if no browser runs it."""

from __future__ import annotations

import pytest

from hub.api.downloads import served_type


@pytest.mark.parametrize(
    ("stored", "served"),
    [
        ("application/json", ("application/json", "json")),
        ("Application/JSON; charset=UTF-8", ("application/json; charset=UTF-8", "json")),
        ("text/xml; charset=iso-8859-1", ("application/xml; charset=iso-8859-1", "xml")),
        ("application/EDIFACT", ("application/EDIFACT", "edi")),
        ("text/csv", ("text/csv", "csv")),
        ("text/plain; charset=utf-8", ("text/plain; charset=utf-8", "txt")),
        ("text/html", ("application/octet-stream", "bin")),
        ("text/html; charset=utf-8", ("application/octet-stream", "bin")),
        ("image/svg+xml", ("application/octet-stream", "bin")),
        ("application/xhtml+xml", ("application/octet-stream", "bin")),
        ("application/javascript", ("application/octet-stream", "bin")),
        ("", ("application/octet-stream", "bin")),
        (None, ("application/octet-stream", "bin")),
        ('text/plain; charset="utf-8\\r\\nX-Evil: 1"', ("text/plain; charset=utf-8", "txt")),
    ],
)
def test_served_type(stored: str | None, served: tuple[str, str]) -> None:
    assert served_type(stored) == served
