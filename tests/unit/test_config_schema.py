"""The published config schema accepts ``${VAR}`` where the loader substitutes it, and only
there: a boolean or a number may be a reference, never another text."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from hub.config.schema import config_json_schema


def worker(**keys: Any) -> dict[str, Any]:
    return {"version": 1, "worker": keys}


@pytest.mark.parametrize(
    "config",
    [
        worker(enabled="${HUB_WORKER_ENABLED:-true}"),
        worker(threads="${THREADS}"),
        worker(lease_seconds="${LEASE:-30.5}"),
        worker(enabled=False, threads=4),
    ],
)
def test_numbers_and_booleans_may_be_environment_references(config: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(config_json_schema()).validate(config)


@pytest.mark.parametrize(
    "config",
    [
        worker(enabled="yes"),
        worker(threads="four"),
        worker(threads="${THREADS} and more"),
        worker(threads=100),  # the model's bounds still hold (1-64)
    ],
)
def test_other_texts_and_out_of_range_values_are_still_refused(config: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(config_json_schema()).validate(config)
