"""The shape of ``config.yaml``: validated completely before anything runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from hub.credentials import SENSITIVE, is_loopback, scope_problem
from hub.formats.limits import DecodeLimits
from hub.mapping.limits import MappingLimits

__all__ = [
    "AuthConfig",
    "ConnectorRef",
    "DecodeLimits",
    "EncryptionConfig",
    "FilesConfig",
    "FormatRef",
    "HubConfig",
    "IdempotencyConfig",
    "InputRef",
    "MappingsConfig",
    "RetryConfig",
    "RouteConfig",
    "ScheduleConfig",
    "ServerConfig",
    "SinkRef",
    "SourceRef",
    "StoreConfig",
    "TracingConfig",
    "WorkerConfig",
    "anonymous_problem",
]

ROUTE_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
RouteName = Annotated[str, StringConstraints(pattern=ROUTE_NAME)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Strict):
    """Where the API listens, how large a request may be, and how long a client may take."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1)
    body_timeout_seconds: float = Field(
        30.0, gt=0, description="the whole request body must arrive within this; else 408"
    )
    header_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="close a connection that has sent no complete request head within this",
    )
    max_connections: int | None = Field(
        200,
        ge=1,
        description="with this many connections open, further requests get 503 "
        "(/healthz, /readyz and /metrics excepted); null: no cap",
    )
    max_header_bytes: int = Field(
        16 * 1024, ge=1024, description="the largest request line and headers together; else 400"
    )
    keep_alive_seconds: int = Field(
        5, ge=1, description="close a kept-alive connection idle this long between requests"
    )
    http: Literal["auto", "h11", "httptools"] = Field(
        "auto",
        description="the HTTP/1.1 parser: h11 (pure Python) or httptools (C, the `fast` extra); "
        "auto picks httptools when installed, else h11. Both keep the slow-client guards",
    )
    loop: Literal["auto", "asyncio", "uvloop"] = Field(
        "auto",
        description="the event loop: asyncio or uvloop (the `fast` extra); auto picks uvloop "
        "when installed, else asyncio",
    )


class RetentionConfig(_Strict):
    """Finished messages are purged after a while; dead letters stay until a person acts."""

    finished_days: float = Field(
        30, gt=0, description="purge delivered, split and discarded messages older than this"
    )
    payload_days: float | None = Field(
        None,
        gt=0,
        description="drop the body and output of delivered, split and discarded messages "
        "older than this, keeping their status and history; null: keep them until the purge",
    )
    interval_seconds: float = Field(3600, gt=0, description="how often the purge job runs")
    enabled: bool = True


class EncryptionConfig(_Strict):
    """Bodies and outputs encrypted at rest (docs/security.md#encryption-at-rest)."""

    keys: SecretStr = Field(
        description="Fernet keys separated by commas, newest first: the first encrypts, every "
        "one decrypts (rotation). Give it from the environment: ${HUB_PAYLOAD_KEYS}"
    )

    def key_list(self) -> list[str]:
        return [k.strip() for k in self.keys.get_secret_value().split(",") if k.strip()]

    @field_validator("keys")
    @classmethod
    def _some_key(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().replace(",", "").strip():
            raise ValueError("no key given; make one with `hub db new-payload-key`")
        return value


class StoreConfig(_Strict):
    """Any SQLAlchemy URL; relative SQLite paths are relative to the config file."""

    url: str = "sqlite:///var/hub.db"
    auto_migrate: bool = True
    echo: bool = False
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    encryption: EncryptionConfig | None = Field(
        None, description="encrypt bodies and outputs at rest; null: stored as received"
    )


class WorkerConfig(_Strict):
    """The background worker that translates and delivers stored messages."""

    enabled: bool = True
    threads: int = Field(1, ge=1, le=64)
    processes: int = Field(
        1,
        ge=1,
        le=64,
        description="how many processes deliver: 1 runs the worker threads inside `hub run`; "
        "N > 1 makes `hub run` start N supervised worker processes and serve only the API "
        "itself (`hub run --workers N` overrides it)",
    )
    own_process: bool = Field(
        False,
        description="true: `hub run` delivers in supervised `hub worker` processes even when "
        "processes is 1 (so worker.nice applies to it); false: 1 runs inside `hub run`",
    )
    nice: int = Field(
        0,
        ge=0,
        le=19,
        description="how much lower the scheduling priority of the worker processes "
        "`hub run --workers N` starts is than the API's (added to their nice value and to "
        "their session's autogroup), so the durable 202 of ingest comes first and the "
        "workers use the CPU left over; 0 (the default): the same priority",
    )
    batch_size: int = Field(20, ge=1, le=1000)
    poll_interval_seconds: float = Field(1.0, gt=0, le=60)
    lease_seconds: float = Field(
        60.0,
        gt=0,
        description="a claimed message is another worker's to take once its lease lapses; a "
        "running worker extends the leases of the turns it is working on",
    )
    turn_budget_seconds: float = Field(
        300.0,
        gt=0,
        description="the longest one message's turn (translation and every delivery) may "
        "take; a turn past it is abandoned and counts as an attempt that did not finish",
    )
    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="`hub worker` serves /metrics, /healthz and /readyz on this port of "
        "server.host (`hub run` serves them on server.port); null: no port",
    )


class MappingsConfig(_Strict):
    """How the running hub picks up edited mapping files, and what one run may spend."""

    reload_seconds: float = Field(
        2.0,
        ge=0,
        description="poll mapping and code list files this often and re-load changed ones "
        "(0 turns hot reload off)",
    )
    limits: MappingLimits = Field(
        default_factory=MappingLimits,
        description="what one run of a mapping may produce and how long it may take",
    )
    preview_workers: int = Field(
        2,
        ge=1,
        le=32,
        description="POST /preview runs at most this many mappings at once, in threads of "
        "its own; more get 503 with Retry-After",
    )


SERVICE_NAME = "switchboard"  # the default service.name of the hub's spans


class TracingConfig(_Strict):
    """OpenTelemetry traces of messages (the ``otel`` extra); off unless enabled."""

    enabled: bool = False
    service_name: str = Field(
        SERVICE_NAME, min_length=1, description="the service.name resource of every span"
    )
    otlp_endpoint: str | None = Field(
        None,
        pattern=r"^https?://",
        description="OTLP/HTTP base URL of the collector (spans go to ENDPOINT/v1/traces); "
        "null: OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318",
    )


class FilesConfig(_Strict):
    """Which folders the files a config, a mapping or a preview names may lie in."""

    allowed_roots: list[Path] = Field(
        default_factory=list,
        description="folders besides the config's own folder and the project's schemas/ "
        "from which schemas, XSDs, mappings and code lists may be read (relative to the "
        "config file)",
    )


class RetryConfig(_Strict):
    """How often and how patiently a transient delivery failure is retried."""

    max_attempts: int = Field(8, ge=1)
    initial_delay_seconds: float = Field(1.0, ge=0)
    max_delay_seconds: float = Field(300.0, ge=0)
    multiplier: float = Field(2.0, ge=1)
    jitter: float = Field(0.2, ge=0, le=1)
    max_age_seconds: float = Field(
        3 * 86400, gt=0, description="give up on a message this long after it was received"
    )
    attempt_timeout_seconds: float | None = Field(
        None, gt=0, description="at most this long per delivery attempt (sinks that wait honour it)"
    )


class ConnectorRef(_Strict):
    """A connector by its plugin name; ``options`` are checked by the connector itself."""

    type: str
    options: dict[str, Any] = Field(default_factory=dict)


class ScheduleConfig(_Strict):
    """When the hub polls a route's poll source (a folder, SFTP, a REST API, a queue).

    Give ``interval_seconds`` or ``cron`` (five fields, UTC), not both; neither means every
    60 seconds. One process at a time polls a route: it holds a lease in the store for
    ``lease_seconds`` and renews it while it polls, so another process takes over when it dies.
    """

    interval_seconds: float | None = Field(None, gt=0, description="poll this often")
    cron: str | None = Field(None, description='a crontab line in UTC, e.g. "*/5 * * * *"')
    batch: int = Field(100, ge=1, le=10_000, description="items asked for in one poll call")
    lease_seconds: float = Field(
        60.0, ge=1, description="how long a dead poller keeps others from taking the route over"
    )
    max_backoff_seconds: float = Field(
        300.0, gt=0, description="the longest wait between tries after failed polls"
    )

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduleConfig:
        if self.interval_seconds is not None and self.cron is not None:
            raise ValueError("give interval_seconds or cron, not both")
        if self.cron is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(self.cron, timezone="UTC")
            except ValueError as exc:
                raise ValueError(f"cron {self.cron!r} is not a crontab line: {exc}") from None
        return self

    @property
    def every(self) -> float:
        """The interval, when no cron line is given."""
        return self.interval_seconds if self.interval_seconds is not None else 60.0


class SourceRef(ConnectorRef):
    """The route's source; ``schedule`` only for a poll source (the hub asks it for news)."""

    schedule: ScheduleConfig | None = None


class SinkRef(ConnectorRef):
    name: str = Field(pattern=ROUTE_NAME)


class FormatRef(_Strict):
    """A codec by name, its options, and an optional schema the document must satisfy."""

    format: str = "json"
    options: dict[str, Any] = Field(default_factory=dict)
    schema_: Path | None = Field(None, alias="schema")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class InputRef(FormatRef):
    """The input format; ``limits`` overrides some of the hub-wide decoding limits."""

    limits: DecodeLimits | None = Field(
        None,
        description="decoding limits for this route: the keys given replace the hub-wide "
        "`limits`, the others keep them",
    )

    def merged_limits(self, hub: DecodeLimits) -> DecodeLimits:
        """The hub-wide limits with the keys this route sets replaced."""
        if self.limits is None:
            return hub
        given = {key: getattr(self.limits, key) for key in self.limits.model_fields_set}
        return hub.model_copy(update=given)


class IdempotencyConfig(_Strict):
    """How a repeated submission is recognised: the same key on the same route is one message."""

    header: str | None = Field(
        "Idempotency-Key", description="request header carrying the sender's key; null: ignore"
    )
    path: str | Annotated[list[str], Field(min_length=1)] | None = Field(
        None,
        description="path in the input document used when the header is absent, e.g. id; "
        "or a list of paths whose values together are the key, e.g. [id, date_modified_gmt]",
    )


class RouteConfig(_Strict):
    """source -> decode -> validate -> map -> validate -> encode -> sinks."""

    description: str = ""
    source: SourceRef = Field(default_factory=lambda: SourceRef(type="http"))
    input: InputRef = Field(default_factory=InputRef)
    split: bool = Field(
        False, description="store one message per message in a batch (an EDIFACT interchange)"
    )
    correlation: str | None = Field(
        None, description="path in the input document of a business key, e.g. an order number"
    )
    idempotency: IdempotencyConfig = Field(default_factory=IdempotencyConfig)
    ordering: str | None = Field(
        None, description="path of a key (an order number): same key, delivered in ingest order"
    )
    mapping: Path | None = None
    output: FormatRef = Field(default_factory=FormatRef)
    forward_original: bool = Field(
        False,
        description="deliver the received bytes unchanged (a signed XML document keeps its "
        "signature): decoded and validated, not mapped or re-encoded; no mapping or output",
    )
    sinks: list[SinkRef] = Field(min_length=1)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    inbox: bool = Field(
        False,
        description="an EDI inbox: interchanges from any partner arrive here and each "
        "message goes on to the route its partner profile names for its type; the "
        "interchange itself is delivered to this route's sinks (an archive)",
    )
    partner: str | None = Field(
        None,
        pattern=ROUTE_NAME,
        description="send to this trading partner: the mapping makes the message, the hub "
        "wraps it in the partner's envelope (UNB or ISA/GS) with its control numbers",
    )


# after SinkRef and ROUTE_NAME, which the partner profiles build on
from hub.config.partners import PartnerConfig, PartnerName  # noqa: E402


def _list_or_spaced(schema: dict[str, Any]) -> None:
    """A list of strings, or one string of words (what the validator splits)."""
    items = schema.pop("items")
    del schema["type"]
    schema["anyOf"] = [{"type": "array", "items": items}, {"type": "string"}]


class AuthConfig(_Strict):
    """Who may do what without an API key; which request headers are secrets.

    With no ``auth`` section an anonymous caller may do nothing but /healthz and /readyz.
    """

    anonymous: list[str] = Field(
        default_factory=list,
        description="scopes granted to a request without a key: ingest, ingest:ROUTE, read, "
        "metrics; read:payload, operate and admin only when server.host is loopback. A list, "
        "or one string of scopes separated by spaces (so ${HUB_ANONYMOUS_SCOPES} can set it)",
        json_schema_extra=_list_or_spaced,
    )
    secret_headers: list[str] = Field(
        default_factory=list,
        description="more request headers that carry credentials (never stored, logged or "
        "shown); Authorization, Cookie, X-API-Key and *-Signature headers always are",
    )

    @field_validator("anonymous", mode="before")
    @classmethod
    def _spaced(cls, value: object) -> object:
        return value.split() if isinstance(value, str) else value

    @field_validator("anonymous")
    @classmethod
    def _known_scopes(cls, scopes: list[str]) -> list[str]:
        problems = [p for p in (scope_problem(s) for s in scopes) if p is not None]
        if problems:
            raise ValueError("; ".join(problems))
        return scopes


def anonymous_problem(auth: AuthConfig, host: str) -> str | None:
    """Why ``auth`` must not be served on ``host`` (None: it may)."""
    exposed = sorted(SENSITIVE & set(auth.anonymous))
    if not exposed or is_loopback(host):
        return None
    return (
        f"auth.anonymous grants {', '.join(exposed)} to anyone, and the server listens on "
        f"{host}, which is not loopback: give callers API keys (`hub keys create`) instead, "
        "or listen on 127.0.0.1"
    )


class HubConfig(_Strict):
    """The whole hub: server, store, worker, mapping reload, decoding limits, tracing and
    routes."""

    version: Literal[1] = 1
    server: ServerConfig = Field(default_factory=ServerConfig)
    limits: DecodeLimits = Field(
        default_factory=DecodeLimits,
        description="how big and deep an input document may be; a route's input.limits "
        "overrides single keys",
    )
    store: StoreConfig = Field(default_factory=StoreConfig)
    worker: WorkerConfig = Field(default_factory=WorkerConfig)
    mappings: MappingsConfig = Field(default_factory=MappingsConfig)
    files: FilesConfig = Field(default_factory=FilesConfig)
    tracing: TracingConfig = Field(default_factory=TracingConfig)
    auth: AuthConfig = Field(
        default_factory=AuthConfig,
        description="anonymous scopes and secret headers; API keys come from `hub keys`",
    )
    routes: dict[RouteName, RouteConfig] = Field(default_factory=dict)
    partners: dict[PartnerName, PartnerConfig] = Field(
        default_factory=dict,
        description="trading partners: envelope identifiers, control numbers, duplicate "
        "and acknowledgement policies, the channel that reaches them",
    )

    @model_validator(mode="after")
    def _anonymous_only_on_loopback(self) -> HubConfig:
        problem = anonymous_problem(self.auth, self.server.host)
        if problem is not None:
            raise ValueError(problem)
        for scope in self.auth.anonymous:
            route = scope.partition(":")[2] if scope.startswith("ingest:") else None
            if route is not None and route not in self.routes:
                raise ValueError(
                    f"auth.anonymous names {scope}, but there is no route {route!r}: "
                    f"routes are {', '.join(sorted(self.routes)) or '(none)'}"
                )
        return self
