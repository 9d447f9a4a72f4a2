"""The parts of the OpenAPI document only the config knows.

FastAPI writes the document from the app's routes. What a route accepts at
``POST /ingest/{route}`` depends on the config, though: its input format (the media type),
its input JSON Schema, the header carrying an idempotency key. So every configured route
gets an operation of its own (``POST /ingest/shop-orders``, made by :mod:`hub.api.ingest`)
whose request body :class:`IngestDocs` describes, with examples taken from the test cases of
the route's mapping (a real document, checked to pass ingest). The input JSON Schemas become
components (``#/components/schemas/WoocommerceOrder``), added by :func:`install_openapi`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from hub.api.docs import own_validation_errors
from hub.api.security_docs import declare_security
from hub.errors import ConfigError, HubError
from hub.formats import JsonSchema
from hub.pipeline.build import CompiledRoute
from hub.pipeline.mapping_tests import cases_for
from hub.runtime import Hub

__all__ = ["IngestDocs", "install_openapi", "message_links"]

_REF_PREFIX = "#/components/schemas/"
#: The largest example document taken into the document (bigger ones make /docs slow).
_MAX_EXAMPLE_BYTES = 16 * 1024
_MAX_EXAMPLES = 2

#: What each operation on a message is called, for links to it.
_MESSAGE_OPERATIONS = (
    "get_message",
    "get_message_body",
    "get_message_output",
    "get_message_audit",
    "replay_message",
    "discard_message",
)


def message_links(pointer: str) -> dict[str, dict[str, Any]]:
    """OpenAPI links from an answer to the operations on the message whose id is at
    ``pointer`` in its body (``/id``, ``/0/id``): how a client, or a fuzzer, follows it."""
    return {
        "".join(part.title() for part in operation.split("_")): {
            "operationId": operation,
            "parameters": {"message_id": f"$response.body#{pointer}"},
        }
        for operation in _MESSAGE_OPERATIONS
    }


class IngestDocs:
    """What each configured route accepts, as OpenAPI: its request body and its headers."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        #: Each input JSON Schema, under its component name.
        self.components: dict[str, dict[str, Any]] = {}
        self._names: dict[Path, str] = {}
        #: Per ingest path: its media type and its examples.
        self._examples: dict[str, tuple[str, dict[str, Any]]] = {}

    def operation(self, route: CompiledRoute) -> dict[str, Any]:
        """The ``openapi_extra`` of the route's ingest operation (its examples and the
        schemas it names are added to the finished document by :meth:`complete`)."""
        codec = route.translator.input_codec
        examples = dict(self._examples_of(route))
        if examples:
            path = getattr(route.source, "path", "ingest")  # an AS2 source: /as2/{route}
            self._examples[f"/{path}/{route.name}"] = (codec.content_type, examples)
        extra: dict[str, Any] = {
            "requestBody": {
                "required": True,
                "description": self._body_text(route),
                "content": {codec.content_type: {"schema": self._body_schema(route)}},
            },
        }
        header = route.config.idempotency.header
        if header is not None:
            extra["parameters"] = [
                {
                    "name": header,
                    "in": "header",
                    "required": False,
                    "description": "the sender's key for this message: sent again with the "
                    "same key, it is answered 200 `duplicate: true` and not stored twice",
                    "schema": {"type": "string", "examples": ["order-727-2026-11-30T10:00:00"]},
                }
            ]
        return extra

    def _body_schema(self, route: CompiledRoute) -> dict[str, Any]:
        codec = route.translator.input_codec
        if codec.name != "json":
            # what the text must be is the codec's grammar, named by `format`
            return {"type": "string", "format": codec.name, "minLength": 1}
        schema = route.translator.input_schema
        if schema is None:
            return {}  # any JSON value
        name = self._component(schema)
        return {"$ref": _REF_PREFIX + name} if name is not None else {}

    @staticmethod
    def _body_text(route: CompiledRoute) -> str:
        codec = route.translator.input_codec
        text = f"The {codec.name.upper()} document ({codec.content_type})"
        if codec.name == "json" and route.translator.input_schema is not None:
            text += (
                f" satisfying {route.translator.input_schema.path.name}. A document that breaks "
                "the schema is accepted all the same (202) and then dead-lettered by the "
                "worker with every violation (`GET /dead-letters`)"
            )
        if route.split:
            text += "; a batch (an interchange of several messages) is stored as one message each"
        return text + "."

    def _component(self, schema: JsonSchema) -> str | None:
        """The component name of an input schema, added on first use (None: it refers to
        documents outside itself, which the document cannot carry)."""
        if schema.path in self._names:
            return self._names[schema.path]
        document = schema.document
        if not isinstance(document, dict):
            return None
        name = _unique(_camel(schema.path.name), set(self.components))
        hoisted = _embed(document, name)
        if hoisted is None:
            return None
        self.components.update(hoisted)
        self._names[schema.path] = name
        return name

    def complete(self, document: dict[str, Any]) -> None:
        """Add the input schemas and the examples to FastAPI's document (after FastAPI has
        written it: it drops every null, and an example must stay the document it is)."""
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        clash = sorted(set(schemas) & set(self.components))
        if clash:
            raise RuntimeError(f"input schema names clash with the API's models: {clash}")
        schemas.update(self.components)
        for path, (media_type, examples) in self._examples.items():
            body = document["paths"][path]["post"]["requestBody"]
            body["content"][media_type]["examples"] = examples

    def _examples_of(self, route: CompiledRoute) -> Iterator[tuple[str, dict[str, Any]]]:
        """Up to two inputs of the route's mapping's test cases that pass ingest's checks."""
        loaded = self._hub.loaded
        if route.config.mapping is None:
            return
        try:
            mapping_path = loaded.resolve(route.config.mapping, "mapping file")
        except ConfigError:
            return
        found = 0
        for case in cases_for(mapping_path):
            if found == _MAX_EXAMPLES:
                return
            body = _readable(case.input_path, loaded.roots.contains)
            if body is None or not _passes_ingest(route, body):
                continue
            found += 1
            text = body.decode("utf-8")
            value = json.loads(text) if route.translator.input_codec.name == "json" else text
            yield case.name, {"summary": f"{case.label} (a mapping test case)", "value": value}


def _readable(path: Path, allowed: Callable[[Path], bool]) -> bytes | None:
    try:
        if not allowed(path) or path.stat().st_size > _MAX_EXAMPLE_BYTES:
            return None
        body = path.read_bytes()
        body.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return body


def _passes_ingest(route: CompiledRoute, body: bytes) -> bool:
    """Whether ingest's own checks take ``body`` (it decodes, its keys can be stored)."""
    try:
        for part in route.translator.split(body):
            route.translator.inspect_keys(part)
    except (HubError, ValueError, RecursionError):
        return False
    return True


def _camel(filename: str) -> str:
    stem = filename.split(".", 1)[0]
    words = [w for w in re.split(r"[^A-Za-z0-9]+", stem) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Input"
    return name if name[0].isalpha() else f"Input{name}"


def _safe(key: str) -> str:
    """A ``$defs`` key as a component name may spell it."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", key)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    return candidate


def _embed(document: dict[str, Any], name: str) -> dict[str, dict[str, Any]] | None:
    """A JSON Schema file as components: itself under ``name``, its ``$defs`` beside it as
    ``name.def``, every reference inside it rewritten to point there. None if it refers to
    anything outside itself."""
    own_id = document.get("$id")
    defs_key = "$defs" if "$defs" in document else "definitions"
    defs = document.get(defs_key) if isinstance(document.get(defs_key), dict) else {}
    assert isinstance(defs, dict)

    def target(pointer: str) -> str:
        prefix = f"/{defs_key}/"
        if pointer.startswith(prefix):
            head, _, rest = pointer[len(prefix) :].partition("/")
            key = head.replace("~1", "/").replace("~0", "~")
            return f"{_REF_PREFIX}{name}.{_safe(key)}" + (f"/{rest}" if rest else "")
        return f"{_REF_PREFIX}{name}{pointer}"

    local = True

    def rewrite(node: Any) -> Any:
        nonlocal local
        if isinstance(node, dict):
            out = {k: rewrite(v) for k, v in node.items() if k not in ("$id", "$schema")}
            ref = node.get("$ref")
            if isinstance(ref, str):
                if own_id and ref.startswith(own_id):
                    ref = ref[len(own_id) :]
                if ref.startswith("#"):
                    out["$ref"] = target(ref[1:])
                else:
                    local = False
            return out
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    main = rewrite({k: v for k, v in document.items() if k != defs_key})
    hoisted = {f"{name}.{_safe(key)}": rewrite(value) for key, value in defs.items()}
    if not local:
        return None
    return {name: main, **hoisted}


def install_openapi(app: FastAPI, docs: IngestDocs, hub: Hub) -> None:
    """Have ``app.openapi()`` add what :class:`IngestDocs` collected, and name the config's
    routes wherever a parameter takes one."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        docs.complete(document)
        own_validation_errors(document)
        declare_security(document, hub.config.auth.anonymous)
        if hub.routes:
            _name_routes(document, sorted(hub.routes))
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _name_routes(document: dict[str, Any], routes: list[str]) -> None:
    """A ``route`` query parameter takes one of the config's routes (another is a 404)."""
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query" or parameter.get("name") != "route":
                    continue
                for branch in parameter["schema"].get("anyOf", [parameter["schema"]]):
                    if branch.get("type") == "string":
                        branch["enum"] = routes
