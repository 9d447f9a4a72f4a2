"""List functions that take an inline function."""

from __future__ import annotations

from hub.mapping.calls import compile_if

FORMS = {"if": compile_if}
