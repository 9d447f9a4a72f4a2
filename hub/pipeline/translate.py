"""decode -> validate -> map -> validate -> encode, for one route, without side effects."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from hub.errors import (
    HubError,
    MappingError,
    MessageError,
    OverBudget,
    SchemaValidationError,
)
from hub.formats import Codec, JsonSchema, Tree
from hub.mapping import Mapping
from hub.mapping.paths import MISSING
from hub.message import Event

__all__ = ["Envelope", "PastDeadline", "Translation", "Translator", "joined_reader"]


class Envelope(Protocol):
    """A trading partner's envelope around a mapping's output (``hub.partners``)."""

    @property
    def ack_within(self) -> timedelta | None:
        """How long the partner has to acknowledge once delivered (None: it owes none)."""
        ...

    def preview(self, tree: Tree) -> tuple[Tree, str]:
        """The envelope with placeholder numbers (a preview takes none)."""
        ...

    def numbered(self, session: Session, tree: Tree, message_id: str) -> tuple[Tree, str]:
        """The envelope with the partner's next numbers, taken in ``session``'s transaction
        (the one that stores the message's output): the interchange and its history line."""
        ...


@dataclass(frozen=True)
class Translation:
    body: bytes
    content_type: str
    extension: str
    mapping_name: str | None
    mapping_hash: str | None
    events: tuple[Event, ...]
    parts: tuple[bytes, ...] | None = None  # a splitting mapping's outputs, one message each
    #: A partner's envelope still to be numbered: run in the transaction that stores the
    #: output (``Store.store_output``), it returns the whole translation. Until then
    #: ``body`` is empty. Numbers and output commit together, so a crash can neither
    #: skip a number (none is taken without the output) nor reuse one (a later turn
    #: sends the stored output).
    seal: Callable[[Session], Translation] | None = None


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
    #: Wraps the mapping's output in a trading partner's envelope (hub.partners).
    envelope: Envelope | None = None
    #: Deliver the received bytes unchanged (a signed document keeps its signature); the
    #: input is still decoded and validated, so a broken document is still a dead letter.
    forward_original: bool = False

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

    def translate(
        self, body: bytes, *, deadline: float | None = None, message_id: str | None = None
    ) -> Translation:
        """Translate one message. With ``deadline`` (a ``time.monotonic()`` value: the
        worker's turn budget) it stops between stages once the time is spent, with
        :class:`OverBudget`, and hands the deadline on to a mapping that can stop itself.
        With ``message_id``, a partner envelope is left to :attr:`Translation.seal`."""
        events: list[Event] = []
        started = time.perf_counter()
        begun = time.monotonic()

        def step(kind: str, detail: str) -> None:
            nonlocal started
            now = time.perf_counter()
            events.append(Event(kind, detail, data={"ms": round((now - started) * 1000, 3)}))
            started = now
            if kind != "encoded" and deadline is not None and time.monotonic() > deadline:
                raise OverBudget(
                    f"the translation ran out of the turn's time after {kind} "
                    f"({time.monotonic() - begun:.1f} s)",
                    hint="raise worker.turn_budget_seconds if such documents are legitimate, "
                    "then replay the message",
                )

        tree = self.input_codec.decode(body)
        step("decoded", f"{self.input_codec.name}, {len(body)} bytes")
        if self.input_schema is not None:
            self.input_schema.check(tree)
            step("validated", f"input matches {self.input_schema.path.name}")
        if self.forward_original:
            step("forwarded", f"the received {len(body)} bytes, unchanged")
            return Translation(
                body=body,
                content_type=self.input_codec.content_type,
                extension=self.input_codec.extension,
                mapping_name=None,
                mapping_hash=None,
                events=tuple(events),
            )
        try:
            return self._map_and_encode(tree, step, events, deadline, message_id)
        except MessageError as exc:  # the dead letter records the version that failed
            if self.mapping is not None:
                exc.mapping = (self.mapping.name, self.mapping.content_hash)
            raise

    def _map_and_encode(
        self,
        tree: Tree,
        step: Callable[[str, str], None],
        events: list[Event],
        deadline: float | None = None,
        message_id: str | None = None,
    ) -> Translation:
        """map -> validate the output -> envelope (a partner's) -> encode."""
        trees = [tree]
        splits = self.mapping is not None and self.mapping.splits
        if self.mapping is not None:
            try:
                trees = _run_mapping(self.mapping, tree, splits, deadline)
            except HubError:
                if deadline is not None and time.monotonic() > deadline:
                    raise OverBudget(  # a mapping that stopped itself at the deadline
                        f"the mapping {self.mapping.name} ran out of the turn's time",
                        hint="raise worker.turn_budget_seconds if such documents are "
                        "legitimate, then replay the message",
                    ) from None
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
        if self.envelope is not None:  # a splitting mapping's messages: one interchange
            content = {"messages": trees} if splits else trees[0]
            if message_id is not None:
                return self._unsealed(content, message_id, events)
            wrapped, detail = self.envelope.preview(content)
            trees, splits = [wrapped], False
            step("enveloped", detail)
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

    def _unsealed(self, content: Tree, message_id: str, events: list[Event]) -> Translation:
        """The translation so far, and how to finish it once the store numbers it."""
        envelope = self.envelope
        assert envelope is not None
        done = tuple(events)

        def seal(session: Session) -> Translation:
            started = time.perf_counter()
            wrapped, detail = envelope.numbered(session, content, message_id)
            enveloped = time.perf_counter()
            out = self.output_codec.encode(wrapped)
            encoded = time.perf_counter()
            return replace(
                unsealed,
                body=out,
                seal=None,
                events=(
                    *done,
                    Event("enveloped", detail, data={"ms": _ms(enveloped - started)}),
                    Event(
                        "encoded",
                        f"{self.output_codec.name}, {len(out)} bytes",
                        data={"ms": _ms(encoded - enveloped)},
                    ),
                ),
            )

        unsealed = Translation(
            body=b"",
            content_type=self.output_codec.content_type,
            extension=self.output_codec.extension,
            mapping_name=self.mapping.name if self.mapping else None,
            mapping_hash=self.mapping.content_hash if self.mapping else None,
            events=done,
            seal=seal,
        )
        return unsealed


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


class PastDeadline:
    """A cancel flag that is set once ``deadline`` (``time.monotonic()``) has passed: what
    a mapping that checks a ``cancel`` object while it runs (``is_set()``) is handed."""

    __slots__ = ("deadline",)

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def is_set(self) -> bool:
        return time.monotonic() > self.deadline


def _run_mapping(mapping: Mapping, tree: Tree, splits: bool, deadline: float | None) -> list[Tree]:
    """Apply ``mapping``; a mapping whose ``apply`` takes ``cancel`` is told the deadline."""
    apply: Callable[..., Any] = mapping.apply_all if splits else mapping.apply
    kwargs: dict[str, Any] = {}
    if deadline is not None and _takes_cancel(apply):
        kwargs["cancel"] = PastDeadline(deadline)
    result = apply(tree, **kwargs)
    return list(result) if splits else [result]


def _takes_cancel(function: Callable[..., Any]) -> bool:
    """Asked once per mapping class, not per message (``inspect.signature`` costs about
    0.1 ms): a bound method is looked up by its function."""
    return _signature_has_cancel(getattr(function, "__func__", function))


@functools.lru_cache(maxsize=256)
def _signature_has_cancel(function: Callable[..., Any]) -> bool:
    try:
        return "cancel" in inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False


def _scalar(reader: Callable[[Tree], Any] | None, tree: Tree) -> str | None:
    """The text of a plain value at a compiled path, or None (absent, null, empty, object, list).

    The whole text, never cut: the ingestor refuses what cannot be stored and fits long keys
    (:mod:`hub.keys`). An empty text is no key: it would make every such message one.
    """
    if reader is None:
        return None
    value = reader(tree)
    if value is MISSING or value is None or isinstance(value, dict | list):
        return None
    return str(value) or None


def joined_reader(readers: Sequence[Callable[[Tree], Any]]) -> Callable[[Tree], Any]:
    """One key from the values at several paths (an order's id and its modification time).

    The values are joined with ``/``; ``%`` and ``/`` inside a value are written ``%25`` and
    ``%2F``, so different values never join to the same key. If any value is absent (or not a
    plain value) there is no key: the message is stored without one rather than merged with
    another.
    """

    def read(tree: Tree) -> Any:
        texts: list[str] = []
        for reader in readers:
            text = _scalar(reader, tree)
            if text is None:
                return MISSING
            texts.append(text.replace("%", "%25").replace("/", "%2F"))
        return "/".join(texts)

    return read
