"""The config file's JSON Schema, for editors: the models' schema, plus ``${VAR}`` anywhere.

The loader substitutes ``${VAR}`` and ``${VAR:-default}`` in any value before validating
(:mod:`hub.yamlsource`), so ``enabled: ${HUB_WORKER_ENABLED:-true}`` is a valid boolean once
loaded. The schema says so: wherever a boolean or a number is expected, such a reference is
accepted too (strings accept it already).
"""

from __future__ import annotations

from typing import Any

from hub.config.models import HubConfig

__all__ = ["ENV_REFERENCE", "config_json_schema"]

#: One whole-value environment reference, as the loader reads it.
ENV_REFERENCE = r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$"
_REF = {"$ref": "#/$defs/EnvReference"}
_SCALARS = {"boolean", "integer", "number"}


def config_json_schema() -> dict[str, Any]:
    schema: dict[str, Any] = HubConfig.model_json_schema(by_alias=True)
    schema = _with_references(schema)
    schema.setdefault("$defs", {})["EnvReference"] = {
        "type": "string",
        "pattern": ENV_REFERENCE,
        "description": "an environment variable, substituted when the config is loaded",
    }
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Switchboard hub config"
    return schema


def _with_references(node: Any) -> Any:
    """Every schema of a boolean or number becomes "that, or an environment reference"."""
    if isinstance(node, list):
        return [_with_references(item) for item in node]
    if not isinstance(node, dict):
        return node
    walked = {key: _with_references(value) for key, value in node.items()}
    kind = walked.get("type")  # under "properties", "type" may be a field's name
    if isinstance(kind, str) and kind in _SCALARS:
        keep = {k: v for k, v in walked.items() if k in ("title", "description", "default")}
        rule = {k: v for k, v in walked.items() if k not in keep}
        return {**keep, "anyOf": [rule, _REF]}
    return walked
