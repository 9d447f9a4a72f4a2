"""decode -> validate -> map -> validate -> encode, for one route, without side effects."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.errors import HubError, MappingError, MessageError, SchemaValidationError
from hub.formats import Codec, JsonSchema, Tree
from hub.mapping import Mapping
from hub.mapping.paths import MISSING
from hub.message import Event

__all__ = ["Translation", "Translator"]


@dataclass(frozen=True)
class Translation:
    body: bytes
    content_type: str
    extension: str
    mapping_name: str | None
    mapping_hash: str | None
    events: tuple[Event, ...]
    parts: tuple[bytes, ...] | None = None  # a splitting mapping's outputs, one message each


@dataclass(frozen=True)
class Translator:
    """The translation half of a route. Errors are the typed MessageError branch."""

    route: str
    input_codec: Codec
    output_codec: Codec
    input_schema: JsonSchema | None = None
    output_schema: JsonSchema | None = None
    mapping: Mapping | None = None
    correlation: Callable[[Tree], Any] | None = None
    correlation_path: str | None = None
    idempotency: Callable[[Tree], Any] | None = None  # reads the document's idempotency key
    ordering: Callable[[Tree], Any] | None = None  # reads the document's ordering key

    def inspect(self, body: bytes) -> str | None:
        """Check the body parses and read its correlation key; used at ingest."""
        return self.inspect_keys(body)[0]

    def inspect_keys(self, body: bytes) -> tuple[str | None, str | None, str | None]:
        """Check the body parses; read its correlation, idempotency and ordering keys.

        A schema violation found while decoding is not refused here: the message is
        stored and dead-lettered by the worker with every violation, for a person.
        """
        try:
            tree = self.input_codec.decode(body)
        except SchemaValidationError:
            return None, None, None
        return (
            self.correlation_key(tree),
            _scalar(self.idempotency, tree),
            _scalar(self.ordering, tree),
        )

    def split(self, body: bytes) -> list[bytes]:
        """One body per message, for formats that batch (an EDIFACT interchange)."""
        splitter = getattr(self.input_codec, "split", None)
        if splitter is None:
            return [body]
        parts: list[bytes] = splitter(body)
        return parts

    def correlation_key(self, tree: Tree) -> str | None:
        return _scalar(self.correlation, tree)

    def translate(self, body: bytes) -> Translation:
        events: list[Event] = []
        started = time.perf_counter()

        def step(kind: str, detail: str) -> None:
            nonlocal started
            now = time.perf_counter()
            events.append(Event(kind, detail, data={"ms": round((now - started) * 1000, 3)}))
            started = now

        tree = self.input_codec.decode(body)
        step("decoded", f"{self.input_codec.name}, {len(body)} bytes")
        if self.input_schema is not None:
            self.input_schema.check(tree)
            step("validated", f"input matches {self.input_schema.path.name}")
        try:
            return self._map_and_encode(tree, step, events)
        except MessageError as exc:  # the dead letter records the version that failed
            if self.mapping is not None:
                exc.mapping = (self.mapping.name, self.mapping.content_hash)
            raise

    def _map_and_encode(
        self, tree: Tree, step: Callable[[str, str], None], events: list[Event]
    ) -> Translation:
        """map -> validate the output -> encode."""
        trees = [tree]
        splits = self.mapping is not None and self.mapping.splits
        if self.mapping is not None:
            try:
                trees = self.mapping.apply_all(tree) if splits else [self.mapping.apply(tree)]
            except HubError:
                raise
            except (TypeError, ValueError, KeyError, IndexError, ArithmeticError) as exc:
                raise MappingError(
                    f"mapping {self.mapping.name} failed: {exc}",
                    hint="check the mapping against this input with `hub translate`",
                ) from exc
            step("mapped", f"{self.mapping.name} ({self.mapping.content_hash})")
        if self.output_schema is not None:
            for part in trees:
                self.output_schema.check(part)
            step("validated", f"output matches {self.output_schema.path.name}")
        outs = [self.output_codec.encode(part) for part in trees]
        size = sum(len(out) for out in outs)
        parts = f", {len(outs)} parts" if splits else ""
        step("encoded", f"{self.output_codec.name}, {size} bytes{parts}")
        return Translation(
            body=outs[0] if outs else b"",
            parts=tuple(outs) if splits else None,
            content_type=self.output_codec.content_type,
            extension=self.output_codec.extension,
            mapping_name=self.mapping.name if self.mapping else None,
            mapping_hash=self.mapping.content_hash if self.mapping else None,
            events=tuple(events),
        )


def _scalar(reader: Callable[[Tree], Any] | None, tree: Tree) -> str | None:
    """The text of a plain value at a compiled path, or None (absent, null, object, list)."""
    if reader is None:
        return None
    value = reader(tree)
    if value is MISSING or value is None or isinstance(value, dict | list):
        return None
    return str(value)[:255]
