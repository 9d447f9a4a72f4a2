"""``POST /preview``: run a mapping (by name or as submitted text) on an input, store nothing."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator

from hub.api.auth import GuardedRoute, needs
from hub.api.deps import get_hub
from hub.api.docs import responses
from hub.api.preview_pool import PreviewBusy, PreviewPool, PreviewStopped
from hub.credentials import OPERATE
from hub.errors import (
    ConfigError,
    DecodeError,
    EncodeError,
    HubError,
    MappingError,
    Problem,
    RouteNotFound,
    SchemaValidationError,
)
from hub.formats import Codec, JsonSchema, Tree, make_codec
from hub.mapping import Mapping, parse_mapping
from hub.mapping.limits import Cancel
from hub.pipeline.build import CompiledRoute, mapping_problems
from hub.runtime import Hub

__all__ = ["router"]

router = APIRouter(tags=["mappings"], route_class=GuardedRoute)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_SUBMITTED = "mapping_text"
#: The deepest output a preview answers with (pydantic serializes at most ~255 levels).
_MAX_OUTPUT_DEPTH = 200


#: Which mapping runs: exactly one of ``mapping`` and ``mapping_text``, or neither with
#: ``route`` (the route's own mapping). Each of the three is a string when it is given.
_ONE_MAPPING: dict[str, Any] = {
    "oneOf": [
        {"required": ["mapping"]},
        {"required": ["mapping_text"]},
        {"required": ["route"], "properties": {"mapping": False, "mapping_text": False}},
    ]
}


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_ONE_MAPPING)

    mapping: Annotated[str | None, WithJsonSchema({"type": "string"})] = Field(
        None,
        description="the name of a mapping a route uses, or of mappings/NAME.yaml beside the "
        "config; the file as it is on disk now (what was just saved) is run",
        examples=["woocommerce-order-to-erp"],
    )
    mapping_text: Annotated[str | None, WithJsonSchema({"type": "string"})] = Field(
        None, description="a whole mapping file, not yet saved"
    )
    route: Annotated[str | None, WithJsonSchema({"type": "string"})] = Field(
        None,
        description="apply this route's input and output schemas (and its formats, unless "
        "given); without `mapping` or `mapping_text`, run the route's mapping file",
    )

    @field_validator("mapping", "mapping_text", "route", mode="before")
    @classmethod
    def _given_as_text(cls, value: object) -> object:
        if value is None:
            raise ValueError("give a string, or leave the field out")
        return value

    input: Any = Field(description="the input document: text, or a JSON value for json input")
    input_format: str | None = Field(
        None, description="default: the route's input format, else the mapping's source.format"
    )
    input_options: dict[str, Any] = Field(default_factory=dict)
    output_format: str | None = Field(
        None, description="default: the route's output format, else the mapping's target.format"
    )
    output_options: dict[str, Any] = Field(default_factory=dict)


class MappingRef(BaseModel):
    name: str
    hash: str = Field(description="content hash of the version that was run")
    source: Literal["file", "text"] = Field(
        description="file: the mapping file on disk; text: the submitted mapping_text"
    )
    path: str | None = Field(None, description="the file that was run (source file)")
    serving_hash: str | None = Field(
        None, description="the version routes serve for this mapping now (null: none serves it)"
    )
    same_as_serving: bool | None = Field(
        None,
        description="false: what was run differs from the version the routes serve (an edit "
        "not re-loaded yet, or refused: see GET /mappings)",
    )


class PreviewProblem(BaseModel):
    message: str
    where: str | None = None
    hint: str | None = None
    severity: str = "warning"


class PreviewResponse(BaseModel):
    output: Any
    encoded: str
    mapping: MappingRef
    route: str | None = Field(None, description="the route whose schemas were applied")
    warnings: list[PreviewProblem] = Field(
        default_factory=list,
        description="with `route`: source paths the input schema does not declare, and the like",
    )


@router.post(
    "/preview",
    response_model=PreviewResponse,
    responses=responses(
        400,
        408,
        422,
        503,
        said={
            400: "The body is not UTF-8 JSON.",
            422: "The request is malformed, or the mapping, the input or the options are "
            "wrong, or the run went past one of mappings.limits: located `problems` say what "
            "and where (this is a preview's answer about what was submitted).",
            503: "Every preview slot is busy (mappings.preview_workers) or the hub is stopping "
            "(try again after Retry-After seconds), or server.max_connections connections are "
            "open (a plain-text answer from the server).",
        },
    ),
    operation_id="preview_mapping",
)
@needs(OPERATE)
async def preview(
    request: PreviewRequest, http: Request, hub: Annotated[Hub, Depends(get_hub)]
) -> Any:
    """Decode ``input``, apply the mapping and encode the result, as a route would.

    A mapping named by ``mapping`` is read from its file now, so an edit is previewed before
    (or although) hot reload swaps it in; ``mapping.same_as_serving`` says whether it is the
    version the routes run. With ``route``, the route's input schema checks the input, its
    output schema the output, and the mapping is checked against both (located problems).
    Every problem with what was submitted is a 422 with located ``problems``. The run has
    the limits of ``mappings.limits`` (its time, what it may produce) and runs on a thread of
    its own, next to at most ``mappings.preview_workers - 1`` others.
    """
    pool: PreviewPool = http.app.state.previews
    try:
        return await pool.run(lambda cancel: _preview(request, hub, cancel))
    except PreviewBusy:
        return _unavailable(
            f"{pool.workers} preview(s) are running, the most at once",
            "try again shortly (mappings.preview_workers sets how many may run at once)",
        )
    except PreviewStopped:
        return _unavailable("the hub is stopping", "try again once it is back")
    except RecursionError:  # a document nested too deeply for a check that recurses
        hint = "send a document nested less deeply"
        return _unprocessable(DecodeError("the input nests too deeply", where="input", hint=hint))
    except HubError as exc:
        return _unprocessable(exc)


def _unprocessable(exc: HubError) -> JSONResponse:
    body = exc.to_dict()
    if not exc.problems:
        body["problems"] = [
            {
                k: v
                for k, v in (("message", exc.message), ("where", exc.where), ("hint", exc.hint))
                if v
            }
        ]
    return JSONResponse({"error": body}, status_code=422)


def _unavailable(message: str, hint: str) -> JSONResponse:
    body = {"type": "preview_unavailable", "message": message, "hint": hint}
    return JSONResponse({"error": body}, status_code=503, headers={"Retry-After": "1"})


def _preview(request: PreviewRequest, hub: Hub, cancel: Cancel | None = None) -> PreviewResponse:
    route = _route(request.route, hub) if request.route is not None else None
    mapping, text, ref = _mapping(request, hub, route)
    formats = _formats(text)
    translator = route.translator if route is not None else None
    if translator is not None and request.input_format is None and not request.input_options:
        in_codec = translator.input_codec  # the route's, unless the request names another
    else:
        in_codec = _codec("input", request.input_format, request.input_options, formats[0], hub)
    if translator is not None and request.output_format is None and not request.output_options:
        out_codec = translator.output_codec
    else:
        out_codec = _codec("output", request.output_format, request.output_options, formats[1], hub)
    tree = _decode(in_codec, request.input)
    warnings: list[Problem] = []
    if route is not None:
        warnings = _fits(mapping, route)
        _check("input", route.translator.input_schema, [tree])
    try:
        output = mapping.apply(tree, cancel=cancel)
    except HubError:
        raise
    except Exception as exc:  # a bug the input triggers is still the input's problem here
        raise MappingError(f"mapping {mapping.name} failed: {exc}") from exc
    _shallow_enough(output)
    if route is not None:
        outputs = output if mapping.splits and isinstance(output, list) else [output]
        _check("output", route.translator.output_schema, outputs)
    encoded = out_codec.encode(output)
    return PreviewResponse(
        output=json.loads(json.dumps(output, default=str)),
        encoded=encoded.decode("utf-8", errors="replace"),
        mapping=ref,
        route=route.name if route is not None else None,
        warnings=[PreviewProblem(message=w.message, where=w.where, hint=w.hint) for w in warnings],
    )


def _shallow_enough(tree: Any) -> None:
    """Refuse an output nested deeper than a JSON answer can carry (a located 422, not a 500).

    Walked without recursion; the answer is serialized by recursive code (pydantic, json).
    """
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_OUTPUT_DEPTH:
            raise EncodeError(
                f"the output nests deeper than {_MAX_OUTPUT_DEPTH} levels, more than a preview "
                "can show",
                where="output",
                hint="an input nested that deep, copied by the mapping, does that",
            )
        if isinstance(node, dict):
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)


def _route(name: str, hub: Hub) -> CompiledRoute:
    route = hub.routes.get(name)
    if route is None:
        close = difflib.get_close_matches(name, list(hub.routes), n=3)
        raise RouteNotFound(
            f"no route named {name!r}",
            where="route",
            hint=("did you mean " + ", ".join(close) + "?")
            if close
            else "routes: " + ", ".join(sorted(hub.routes)),
        )
    return route


def _fits(mapping: Mapping, route: CompiledRoute) -> list[Problem]:
    """The mapping checked against the route's schemas: errors raise, warnings are returned."""
    translator = route.translator
    found = mapping_problems(mapping, translator.input_schema, translator.output_schema)
    errors = [p for p in found if not p.is_warning]
    if errors:
        raise ConfigError(
            f"the mapping does not fit the schemas of route {route.name!r}: "
            f"{len(errors)} problem{'s' if len(errors) != 1 else ''}",
            problems=errors,
        )
    return [p for p in found if p.is_warning]


def _check(side: str, schema: JsonSchema | None, trees: list[Tree]) -> None:
    """Validate against a route's schema; the problems say input#/... or output#/..."""
    if schema is None:
        return
    for tree in trees:
        try:
            schema.check(tree)
        except SchemaValidationError as exc:
            problems = [
                Problem(p.message, where=f"{side}{p.where or ''}", hint=p.hint)
                for p in exc.problems
            ]
            raise SchemaValidationError(
                f"the {side} breaks {schema.path.name}: {len(exc.problems)} error(s)",
                where=problems[0].where if problems else side,
                hint=f"the route's {side} schema",
                problems=problems,
            ) from None


def _mapping(
    request: PreviewRequest, hub: Hub, route: CompiledRoute | None
) -> tuple[Mapping, str, MappingRef]:
    if request.mapping is not None and request.mapping_text is not None:
        raise ConfigError(
            "give exactly one of `mapping` (a name) and `mapping_text` (a mapping file's text)"
        )
    loaded = hub.loaded
    limits, roots = loaded.config.mappings.limits, loaded.roots
    if request.mapping_text is not None:
        # as if saved in mappings/: its target schema and code lists are looked up there
        mapping = parse_mapping(
            request.mapping_text,
            _SUBMITTED,
            limits=limits,
            roots=roots,
            base_dir=loaded.base_dir / "mappings",
        )
        serving = _serving_by_name(mapping.name, hub)
        return mapping, request.mapping_text, _ref(mapping, "text", None, serving)
    if request.mapping is not None:
        path = _find(request.mapping, hub)
    elif route is not None and route.config.mapping is not None:
        path = loaded.resolve(route.config.mapping, "mapping file")
    elif route is not None:
        raise ConfigError(
            f"route {route.name!r} has no mapping",
            hint="give `mapping` (a name) or `mapping_text` to run with its schemas",
        )
    else:
        raise ConfigError(
            "give one of `mapping` (a name), `mapping_text` (a mapping file's text) or `route`"
        )
    text = _read(path)
    serving = _serving_by_path(path, hub)
    try:
        mapping = parse_mapping(text, str(path), limits=limits, roots=roots)
    except ConfigError as exc:
        if serving is not None:
            exc.hint = f"the routes keep serving version {serving} until the file loads"
        raise
    return mapping, text, _ref(mapping, "file", path, serving)


def _ref(
    mapping: Mapping, source: Literal["file", "text"], path: Path | None, serving: str | None
) -> MappingRef:
    return MappingRef(
        name=mapping.name,
        hash=mapping.content_hash,
        source=source,
        path=str(path) if path is not None else None,
        serving_hash=serving,
        same_as_serving=None if serving is None else serving == mapping.content_hash,
    )


def _served(hub: Hub) -> list[tuple[Path, Mapping]]:
    """Every route's mapping file and the version it serves."""
    found = []
    for route in hub.routes.values():
        used = route.translator.mapping
        if used is not None and route.config.mapping is not None:
            try:
                found.append((hub.loaded.resolve(route.config.mapping, "mapping file"), used))
            except ConfigError:  # the file moved, or a link now leads outside: not served here
                continue
    return found


def _serving_by_path(path: Path, hub: Hub) -> str | None:
    for served_path, used in _served(hub):
        if served_path == path:
            return used.content_hash
    return None


def _serving_by_name(name: str, hub: Hub) -> str | None:
    for _path, used in _served(hub):
        if used.name == name:
            return used.content_hash
    return None


def _find(name: str, hub: Hub) -> Path:
    """The file of the mapping called ``name``: a route's, or mappings/NAME.yaml."""
    candidates: list[str] = []
    for path, used in _served(hub):
        if name in (used.name, path.stem):
            return path
        candidates += [used.name, path.stem]
    folder = hub.loaded.base_dir / "mappings"
    if _NAME.match(name) and ".." not in name:
        path = folder / f"{name}.yaml"
        if hub.loaded.roots.contains(path) and path.is_file():
            return path
    if folder.is_dir():
        candidates += [p.stem for p in folder.glob("*.yaml") if hub.loaded.roots.contains(p)]
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=3)
    raise ConfigError(
        f"no mapping named {name!r}",
        where="mapping",
        hint=("did you mean " + ", ".join(close) + "?")
        if close
        else "name a mapping a route uses, or a file mappings/NAME.yaml beside the config",
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read mapping {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"mapping {path} is not UTF-8 (byte {exc.start})") from None


def _formats(text: str) -> tuple[str, str]:
    """The mapping's declared source and target formats (json when it declares none)."""
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):
        data = None
    found = []
    for key in ("source", "target"):
        spec = data.get(key) if isinstance(data, dict) else None
        fmt = spec.get("format") if isinstance(spec, dict) else None
        found.append(fmt if isinstance(fmt, str) else "json")
    return found[0], found[1]


def _codec(side: str, name: str | None, options: dict[str, Any], default: str, hub: Hub) -> Codec:
    name = name or default
    try:
        return make_codec(
            name,
            options,
            base_dir=hub.loaded.base_dir,
            limits=hub.loaded.config.limits,
            roots=hub.loaded.roots,
        )
    except ValidationError as exc:
        problems = [
            Problem(
                str(err.get("msg", "")),
                where=f"{side}_options." + ".".join(str(p) for p in err.get("loc", ())),
            )
            for err in exc.errors()
        ]
        raise ConfigError(f"bad {side} options for format {name!r}", problems=problems) from None
    except ConfigError:
        raise
    except HubError as exc:  # an unknown format
        raise ConfigError(exc.message, where=f"{side}_format", hint=exc.hint) from None
    except Exception as exc:  # an option naming a file that cannot be read, say
        raise ConfigError(f"cannot build the {side} codec {name!r}: {exc}") from None


def _decode(codec: Codec, value: Any) -> Tree:
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif codec.name == "json":
        data = json.dumps(value).encode("utf-8")
    else:
        raise DecodeError(
            f"`input` must be the document's text for format {codec.name!r}",
            where="input",
            hint="send the document as a JSON string",
        )
    tree: Tree = codec.decode(data)
    return tree
