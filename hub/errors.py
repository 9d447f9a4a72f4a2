"""One exception tree for the whole hub.

The delivery engine decides what to do with a message by the branch an error
belongs to, and the API and CLI turn any of them into a clear message::

    HubError                        root: every error a user may see
    ├── ConfigError                 config or mapping files are wrong (load time)
    ├── PluginError                 a connector or codec is unknown or malformed
    ├── RouteNotFound               a request names a route the config lacks
    ├── StateConflict               the message is not in a state that allows this
    ├── PayloadDropped              retention dropped the message's body and output
    ├── QueryError                  a search names a filter that cannot work (limit, times)
    ├── InboundRejected             a source refused a request (bad signature, body)
    ├── MessageError                one message cannot be translated: permanent
    │   ├── DecodeError             bytes are not valid in the input format
    │   │   └── LimitExceeded       the document is bigger or deeper than a decoding limit
    │   ├── SchemaValidationError   the document breaks its schema
    │   ├── MappingError            the mapping cannot produce the target
    │   ├── EncodeError             the target tree cannot be written
    │   └── OverBudget              translating it took longer than a turn may
    ├── DeliveryError               a sink could not deliver (hub.sdk re-exports these)
    │   ├── RetriableDeliveryError  try again later (timeouts, 5xx, 429)
    │   └── FatalDeliveryError      retrying cannot help (4xx, refused content)
    ├── SourceError                 a poll source cannot read its peer: a person must look
    │   └── RetriableSourceError    the peer is down or busy: polled again with backoff
    └── StoreError                  the store failed
        ├── StoreUnavailable        cannot reach the database: retry later
        └── MessageNotFound         no message with that id
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ConfigError",
    "DecodeError",
    "DeliveryError",
    "EncodeError",
    "FatalDeliveryError",
    "HubError",
    "InboundRejected",
    "LimitExceeded",
    "MappingError",
    "MessageError",
    "MessageNotFound",
    "OverBudget",
    "PayloadDropped",
    "PluginError",
    "Problem",
    "QueryError",
    "RetriableDeliveryError",
    "RetriableSourceError",
    "RouteNotFound",
    "SchemaValidationError",
    "Severity",
    "SourceError",
    "StateConflict",
    "StoreError",
    "StoreUnavailable",
    "problem_dict",
]


class Severity(StrEnum):
    """How bad a problem found by a check is: an error stops a load, a warning is reported."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One located problem: what is wrong, where, and how to fix it."""

    message: str
    where: str | None = None
    hint: str | None = None
    severity: Severity = Severity.ERROR

    @property
    def is_warning(self) -> bool:
        return self.severity is Severity.WARNING

    def __str__(self) -> str:
        message = f"warning: {self.message}" if self.is_warning else self.message
        text = f"{self.where}: {message}" if self.where else message
        return f"{text} ({self.hint})" if self.hint else text


class HubError(Exception):
    """Root of every error the hub reports to a person."""

    #: Short machine-readable name used in API responses and the event history.
    code = "hub_error"

    def __init__(
        self,
        message: str,
        *,
        where: str | None = None,
        hint: str | None = None,
        problems: list[Problem] | None = None,
    ) -> None:
        self.message = message
        self.where = where
        self.hint = hint
        self.problems: list[Problem] = problems or []
        super().__init__(str(self))

    def __str__(self) -> str:
        head = str(Problem(self.message, self.where, self.hint))
        if not self.problems:
            return head
        return head + "\n" + "\n".join(f"  {p}" for p in self.problems)

    def to_dict(self) -> dict[str, object]:
        """The JSON shape the API returns and the store keeps."""
        body: dict[str, object] = {"type": self.code, "message": self.message}
        if self.where:
            body["where"] = self.where
        if self.hint:
            body["hint"] = self.hint
        if self.problems:
            body["problems"] = [problem_dict(p) for p in self.problems]
        return body


def problem_dict(problem: Problem) -> dict[str, str]:
    """A problem as JSON: the fields it has; ``severity`` only for a warning."""
    body = {
        k: v
        for k, v in (("message", problem.message), ("where", problem.where), ("hint", problem.hint))
        if v
    }
    if problem.is_warning:
        body["severity"] = problem.severity.value
    return body


class ConfigError(HubError):
    code = "config_error"


class PluginError(HubError):
    code = "plugin_error"


class RouteNotFound(HubError):
    code = "route_not_found"


class StateConflict(HubError):
    """E.g. replaying a message that is not a dead letter."""

    code = "state_conflict"


class PayloadDropped(HubError):
    """The message's body and output were dropped by retention; its history stays."""

    code = "payload_dropped"


class QueryError(HubError):
    """A list or search was asked with a filter that cannot work; ``where`` names it."""

    code = "bad_query"


class InboundRejected(HubError):
    """A request was refused; ``status`` is the HTTP status, ``reason`` the metric label."""

    code = "inbound_rejected"

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        reason: str = "refused",
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        super().__init__(message, where=where, hint=hint)


class MessageError(HubError):
    """The message itself is wrong: retrying cannot help, it goes to the dead letters."""

    code = "message_error"
    stage = "translate"
    #: ``(name, content hash)`` of the mapping that had been applied when this was raised
    #: (set by the translator), so a dead letter records the version it failed with.
    mapping: tuple[str, str] | None = None


class DecodeError(MessageError):
    code = "decode_error"
    stage = "decode"


class LimitExceeded(DecodeError):
    """A document goes beyond one of the decoding limits (``limits:`` in the config).

    ``limit`` is the config key (``max_attributes``), ``found`` what the document has
    (at least), ``maximum`` the limit in force. ``size`` tells a limit on the amount of
    content (answered 413 at ingest) from one on its shape (400).
    """

    code = "limit_exceeded"

    #: Limits on how much content there is; the others bound its shape.
    SIZE_LIMITS = frozenset(
        {"max_bytes", "max_nodes", "max_string_length", "max_segments", "max_rows"}
    )

    def __init__(
        self,
        limit: str,
        *,
        found: int,
        maximum: int,
        what: str,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.limit = limit
        self.found = found
        self.maximum = maximum
        super().__init__(
            f"{what}, more than {limit} allows ({maximum})",
            where=where,
            hint=hint
            or f"if such documents are expected, raise `limits.{limit}` (hub-wide) "
            f"or `input.limits.{limit}` (this route)",
        )

    @property
    def size(self) -> bool:
        return self.limit in self.SIZE_LIMITS

    @property
    def status(self) -> int:
        """The HTTP status an ingest answers with: 413 for a size limit, else 400."""
        return 413 if self.size else 400

    def to_dict(self) -> dict[str, object]:
        body = super().to_dict()
        body["limit"] = {"name": self.limit, "found": self.found, "maximum": self.maximum}
        return body


class SchemaValidationError(MessageError):
    code = "validation_error"
    stage = "validate"


class MappingError(MessageError):
    code = "mapping_error"
    stage = "map"


class EncodeError(MessageError):
    code = "encode_error"
    stage = "encode"


class OverBudget(MessageError):
    """Translation did not end within the worker's turn budget (``worker.turn_budget_seconds``).

    Permanent: the same document takes as long on the next turn."""

    code = "over_budget"
    stage = "process"


class _RetryAfter(HubError):
    """A peer's "try again later", with ``retry_after`` (seconds), the peer's own hint."""

    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, where=where, hint=hint)


class DeliveryError(HubError):
    code = "delivery_error"


class RetriableDeliveryError(_RetryAfter, DeliveryError):
    """The peer may accept later; ``retry_after`` (seconds) is the peer's own hint."""

    code = "delivery_retriable"


class FatalDeliveryError(DeliveryError):
    code = "delivery_fatal"


class SourceError(HubError):
    """A poll source failed to read its peer (bad credentials, a folder that is missing)."""

    code = "source_error"


class RetriableSourceError(_RetryAfter, SourceError):
    """The peer may answer later; ``retry_after`` (seconds) is the peer's own hint."""

    code = "source_retriable"


class StoreError(HubError):
    code = "store_error"


class StoreUnavailable(StoreError):
    code = "store_unavailable"


class MessageNotFound(StoreError):
    code = "message_not_found"
