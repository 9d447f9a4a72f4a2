"""``POST /preview``: run a mapping (by name or as submitted text) on an input, store nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from hub.api.deps import get_hub
from hub.errors import ConfigError, DecodeError, HubError, MappingError, Problem
from hub.formats import Codec, Tree, make_codec
from hub.mapping import Mapping, parse_mapping
from hub.runtime import Hub

__all__ = ["router"]

router = APIRouter(tags=["mappings"])

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_SUBMITTED = "mapping_text"


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mapping: str | None = Field(
        None, description="a mapping used by a route, or mappings/NAME.yaml beside the config"
    )
    mapping_text: str | None = Field(None, description="a whole mapping file, not yet saved")
    input: Any = Field(description="the input document: text, or a JSON value for json input")
    input_format: str | None = Field(None, description="default: the mapping's source.format")
    input_options: dict[str, Any] = Field(default_factory=dict)
    output_format: str | None = Field(None, description="default: the mapping's target.format")
    output_options: dict[str, Any] = Field(default_factory=dict)


class MappingRef(BaseModel):
    name: str
    hash: str


class PreviewResponse(BaseModel):
    output: Any
    encoded: str
    mapping: MappingRef


@router.post(
    "/preview",
    response_model=PreviewResponse,
    responses={422: {"description": "the mapping, the input or the options are wrong"}},
)
async def preview(request: PreviewRequest, hub: Annotated[Hub, Depends(get_hub)]) -> Any:
    """Decode ``input``, apply the mapping and encode the result, as a route would.

    Every problem with what was submitted is a 422 with located ``problems``.
    """
    try:
        return await run_in_threadpool(_preview, request, hub)
    except HubError as exc:
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


def _preview(request: PreviewRequest, hub: Hub) -> PreviewResponse:
    mapping, text = _mapping(request, hub)
    formats = _formats(text)
    in_codec = _codec("input", request.input_format or formats[0], request.input_options, hub)
    out_codec = _codec("output", request.output_format or formats[1], request.output_options, hub)
    tree = _decode(in_codec, request.input)
    try:
        output = mapping.apply(tree)
    except HubError:
        raise
    except Exception as exc:  # a bug the input triggers is still the input's problem here
        raise MappingError(f"mapping {mapping.name} failed: {exc}") from exc
    encoded = out_codec.encode(output)
    return PreviewResponse(
        output=json.loads(json.dumps(output, default=str)),
        encoded=encoded.decode("utf-8", errors="replace"),
        mapping=MappingRef(name=mapping.name, hash=mapping.content_hash),
    )


def _mapping(request: PreviewRequest, hub: Hub) -> tuple[Mapping, str]:
    if (request.mapping is None) == (request.mapping_text is None):
        raise ConfigError(
            "give exactly one of `mapping` (a name) and `mapping_text` (a mapping file's text)"
        )
    if request.mapping_text is not None:
        return parse_mapping(request.mapping_text, _SUBMITTED), request.mapping_text
    name = request.mapping or ""
    for route in hub.routes.values():
        used = route.translator.mapping
        if used is None or route.config.mapping is None:
            continue
        path = hub.loaded.resolve(route.config.mapping)
        if name in (used.name, path.stem):
            return used, _read(path)
    if _NAME.match(name) and ".." not in name:
        path = hub.loaded.base_dir / "mappings" / f"{name}.yaml"
        if path.is_file():
            text = _read(path)
            return parse_mapping(text, str(path)), text
    raise ConfigError(
        f"no mapping named {name!r}",
        hint="name a mapping a route uses, or a file mappings/NAME.yaml beside the config",
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read mapping {path}: {exc.strerror or exc}") from None


def _formats(text: str) -> tuple[str, str]:
    """The mapping's declared source and target formats (json when it declares none)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    found = []
    for key in ("source", "target"):
        spec = data.get(key) if isinstance(data, dict) else None
        fmt = spec.get("format") if isinstance(spec, dict) else None
        found.append(fmt if isinstance(fmt, str) else "json")
    return found[0], found[1]


def _codec(side: str, name: str, options: dict[str, Any], hub: Hub) -> Codec:
    try:
        return make_codec(
            name, options, base_dir=hub.loaded.base_dir, limits=hub.loaded.config.limits
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
