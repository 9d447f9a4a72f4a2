"""Turn a loaded config into runnable routes, collecting every problem with file:line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hub.config import ConnectorRef, LoadedConfig, RouteConfig, validation_problems
from hub.config.load import config_error
from hub.config.partners import partner_problems
from hub.delivery.retry import RetryPolicy
from hub.errors import ConfigError, HubError, Problem, Severity
from hub.formats import Codec, JsonSchema, codec_class, make_codec
from hub.formats.limits import DecodeLimits
from hub.formats.schema import load_schema
from hub.mapping import FieldCopyMapping, Mapping, load_mapping
from hub.mapping.paths import PathSyntaxError, compile_path
from hub.mapping.schemacheck import SchemaView, check_reads, check_writes
from hub.pipeline.translate import Translator, joined_reader
from hub.plugins import sink_class, source_class
from hub.sdk import ConnectorContext, PollSource, PushSource, Sink
from hub.yamlsource import Loc

__all__ = ["BuiltRoutes", "CompiledRoute", "build_routes", "compile_routes", "mapping_problems"]

T = TypeVar("T")


@dataclass
class CompiledRoute:
    """A route ready to run: its source, translator, sinks and retry policy."""

    name: str
    source_type: str
    source: PushSource[Any] | PollSource[Any]
    translator: Translator
    sinks: dict[str, Sink[Any]]
    retry: RetryPolicy
    config: RouteConfig = field(repr=False)
    #: What the checks of the mapping against the route's schemas found that does not stop it.
    warnings: tuple[Problem, ...] = ()
    #: An EDI inbox's receiver (hub.partners.Inbox), set once the store is open.
    inbox: Any = None

    @property
    def split(self) -> bool:
        return self.config.split

    @property
    def polled(self) -> bool:
        """Fed by the hub's scheduler (a poll source), not by requests to the API."""
        return isinstance(self.source, PollSource)

    def close(self) -> None:
        self.source.close()
        for sink in self.sinks.values():
            sink.close()


@dataclass
class BuiltRoutes:
    """Routes ready to run, and the warnings the checks found (they do not stop a route)."""

    routes: dict[str, CompiledRoute]
    warnings: list[Problem]


def compile_routes(loaded: LoadedConfig, *, strict: bool = False) -> BuiltRoutes:
    """Build every route or raise one ConfigError listing all errors found.

    Warnings (a source path the input schema does not declare, say) are returned with the
    routes; with ``strict`` they are errors too.
    """
    builder = _Builder(loaded)
    routes = {name: builder.route(name, cfg) for name, cfg in loaded.config.routes.items()}
    builder.problems += partner_problems(loaded.config, builder.where)
    builder.partner_sinks()
    if builder.problems or (strict and builder.warnings):
        for route in routes.values():
            if route is not None:
                route.close()
        error = config_error(loaded.path, builder.problems + builder.warnings, loaded.document)
        if builder.warnings:  # listed too, marked "warning:"; counted apart unless strict
            count = len(builder.warnings)
            if strict:
                error.hint = "--strict: warnings count as errors"
            else:
                errors = len(builder.problems)
                error.message = (
                    f"{loaded.path} has {errors} problem{'s' if errors != 1 else ''} "
                    f"and {count} warning{'s' if count != 1 else ''}"
                )
        raise error
    built = {name: route for name, route in routes.items() if route is not None}
    return BuiltRoutes(built, builder.warnings)


def build_routes(loaded: LoadedConfig) -> dict[str, CompiledRoute]:
    """Build every route or raise one ConfigError listing all errors found."""
    return compile_routes(loaded).routes


def mapping_problems(
    mapping: Mapping, input_schema: JsonSchema | None, output_schema: JsonSchema | None
) -> list[Problem]:
    """A mapping checked against a route's schemas: the source paths it reads against the
    input schema, its target keys against the output schema; errors and warnings."""
    outline = mapping.outline if isinstance(mapping, FieldCopyMapping) else None
    if outline is None:
        return []
    problems: list[Problem] = []
    if input_schema is not None:
        view = SchemaView(input_schema.document, input_schema.path.name)
        problems += check_reads(outline, view, f"input schema {input_schema.path.name}")
    if output_schema is not None:
        view = SchemaView(output_schema.document, output_schema.path.name)
        problems += check_writes(outline, view, f"output schema {output_schema.path.name}")
    return problems


class _Builder:
    def __init__(self, loaded: LoadedConfig) -> None:
        self.loaded = loaded
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.context = ConnectorContext(base_dir=loaded.base_dir)

    def where(self, loc: Loc) -> str:
        return self.loaded.document.where(loc)

    def attempt(
        self, loc: Loc, make: Callable[[], T], model: type[BaseModel] | None = None
    ) -> T | None:
        """Run ``make``; turn any problem it raises into a located one and return None."""
        try:
            return make()
        except ValidationError as exc:
            self.problems.extend(validation_problems(exc, self.loaded.document, model, loc))
        except ConfigError as exc:
            if exc.problems:  # a file of its own (a mapping): its problems say where
                self.problems.extend(exc.problems)
            else:
                where = exc.where or self.where(loc)
                self.problems.append(Problem(exc.message, where=where, hint=exc.hint))
        except HubError as exc:
            self.problems.append(Problem(exc.message, where=self.where(loc), hint=exc.hint))
        return None

    def route(self, name: str, cfg: RouteConfig) -> CompiledRoute | None:
        loc: Loc = ("routes", name)
        source_obj: PushSource[Any] | PollSource[Any] | None = self.connector(
            (*loc, "source"), source_class, cfg.source, name
        )
        if isinstance(source_obj, PushSource) and cfg.source.schedule is not None:
            self.problems.append(
                Problem(
                    f"source {cfg.source.type!r} is called by its peer; it has no schedule",
                    where=self.where((*loc, "source", "schedule")),
                    hint="remove `schedule`, or use a poll source (directory, sftp, http-pull)",
                )
            )
        hub_limits = self.loaded.config.limits
        in_limits = cfg.input.merged_limits(hub_limits)
        in_codec = self.codec((*loc, "input"), cfg.input.format, cfg.input.options, in_limits)
        out_codec = self.codec((*loc, "output"), cfg.output.format, cfg.output.options, hub_limits)
        in_schema = self.schema((*loc, "input", "schema"), cfg.input.schema_)
        out_schema = self.schema((*loc, "output", "schema"), cfg.output.schema_)
        mapping: Mapping | None = None
        if cfg.mapping is not None:
            path = cfg.mapping
            mapping = self.attempt((*loc, "mapping"), lambda: self.mapping(path))
        correlation = None
        if cfg.correlation is not None:
            correlation = self.correlation((*loc, "correlation"), cfg.correlation)
        ordering = None
        if cfg.ordering is not None:
            ordering = self.correlation((*loc, "ordering"), cfg.ordering)
        idempotency = self.idempotency((*loc, "idempotency", "path"), cfg.idempotency.path)
        sinks: dict[str, Sink[Any]] = {}
        for index, ref in enumerate(cfg.sinks):
            sink_loc: Loc = (*loc, "sinks", index)
            if ref.name in sinks:
                self.problems.append(
                    Problem(f"two sinks are named {ref.name!r}", where=self.where(sink_loc))
                )
            sink: Sink[Any] | None = self.connector(sink_loc, sink_class, ref, ref.name)
            if sink is not None:
                sinks[ref.name] = sink
        if in_codec is not None and cfg.split and not hasattr(in_codec, "split"):
            self.problems.append(
                Problem(
                    f"format {cfg.input.format!r} cannot split a batch into messages",
                    where=self.where((*loc, "split")),
                    hint="remove `split: true`, or use a format that batches (edifact)",
                )
            )
        warnings: list[Problem] = []
        if mapping is not None:
            for problem in mapping_problems(mapping, in_schema, out_schema):
                if problem.severity is Severity.WARNING:
                    warnings.append(problem)
                    found = self.warnings
                else:
                    found = self.problems
                if problem not in found:  # two routes may share a mapping and a schema
                    found.append(problem)
        if cfg.forward_original and (cfg.mapping is not None or "output" in cfg.model_fields_set):
            self.problems.append(
                Problem(
                    "a route with forward_original delivers the received bytes unchanged: "
                    "it has no mapping and no output",
                    where=self.where((*loc, "forward_original")),
                    hint="remove `mapping` and `output`, or set forward_original: false",
                )
            )
        if source_obj is None or in_codec is None or out_codec is None:
            return None
        translator = Translator(
            route=name,
            input_codec=in_codec,
            output_codec=out_codec,
            input_schema=in_schema,
            output_schema=out_schema,
            mapping=mapping,
            correlation=correlation,
            correlation_path=cfg.correlation,
            idempotency=idempotency,
            ordering=ordering,
            forward_original=cfg.forward_original,
        )
        return CompiledRoute(
            name=name,
            source_type=cfg.source.type,
            source=source_obj,
            translator=translator,
            sinks=sinks,
            retry=RetryPolicy.from_config(cfg.retry),
            config=cfg,
            warnings=tuple(warnings),
        )

    def partner_sinks(self) -> None:
        """Check each partner's sink as a route's sinks are checked (built, then closed: the
        running hub builds its own when the store is open, see hub.partners.attach)."""
        for name, profile in self.loaded.config.partners.items():
            if profile.sink is not None:
                loc: Loc = ("partners", name, "sink")
                sink = self.connector(loc, sink_class, profile.sink, profile.sink.name)
                if sink is not None:
                    sink.close()

    def connector(
        self, loc: Loc, find: Callable[[str], type[Any]], ref: ConnectorRef, name: str
    ) -> Any:
        """Look a connector class up by ``ref.type`` and build it with its checked options."""
        cls = self.attempt((*loc, "type"), lambda: find(ref.type))
        if cls is None:
            return None
        return self.attempt(
            (*loc, "options"),
            lambda: cls(name, cls.options_model.model_validate(ref.options), self.context),
            cls.options_model,
        )

    def mapping(self, path: Path) -> Mapping:
        """The route's mapping file, inside the allowed folders, with the run limits."""
        loaded = self.loaded
        return load_mapping(
            loaded.resolve(path, "mapping file"),
            limits=loaded.config.mappings.limits,
            roots=loaded.roots,
        )

    def codec(
        self, loc: Loc, name: str, options: dict[str, Any], limits: DecodeLimits
    ) -> Codec | None:
        cls = self.attempt((*loc, "format"), lambda: codec_class(name))
        if cls is None:
            return None
        return self.attempt(
            (*loc, "options"),
            lambda: make_codec(
                name,
                options,
                base_dir=self.loaded.base_dir,
                limits=limits,
                roots=self.loaded.roots,
            ),
            cls.options_model,
        )

    def schema(self, loc: Loc, path: Path | None) -> JsonSchema | None:
        if path is None:
            return None
        if path.suffix.lower() == ".xsd":
            self.problems.append(
                Problem(
                    "`schema` takes a JSON Schema; an XSD belongs to the xml format",
                    where=self.where(loc),
                    hint=f"write `format: xml` with `options: {{xsd: {path}}}` instead",
                )
            )
            return None
        return self.attempt(loc, lambda: load_schema(self.loaded.resolve(path, "schema file")))

    def idempotency(self, loc: Loc, path: str | list[str] | None) -> Callable[[Any], Any] | None:
        """The reader of a document's idempotency key: one path, or several joined."""
        if path is None:
            return None
        if isinstance(path, str):
            return self.correlation(loc, path)
        readers = [self.correlation((*loc, index), item) for index, item in enumerate(path)]
        if any(reader is None for reader in readers):
            return None
        return joined_reader([reader for reader in readers if reader is not None])

    def correlation(self, loc: Loc, path: str) -> Callable[[Any], Any] | None:
        try:
            return compile_path(path)
        except PathSyntaxError as exc:
            where = self.loaded.document.where_in_value(loc, exc.column - 1)
            self.problems.append(
                Problem(f"bad path {path!r}: {exc.reason}", where=where, hint="write a.b[0].c")
            )
            return None
