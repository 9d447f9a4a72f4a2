"""Passwords in URLs are hidden from everything the hub prints or stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config.load import load_config
from hub.errors import ConfigError
from hub.pipeline.build import compile_routes
from hub.redact import redact, redact_url
from hub.yamlsource import parse_yaml


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("http://user:pw@host/x", "http://user:***@host/x"),
        ("https://user:p@ss:w@rd@host:8443/p?q=1", "https://user:***@host:8443/p?q=1"),
        (
            "cannot reach https://token@api.example.com/v1",
            "cannot reach https://***@api.example.com/v1",
        ),
        (
            "postgresql+psycopg://hub:pw@db/hub, then http://a:b@c/",
            "postgresql+psycopg://hub:***@db/hub, then http://a:***@c/",
        ),
        ("http://host/path?mail=a@b.example", "http://host/path?mail=a@b.example"),
        ("write to ops@example.com", "write to ops@example.com"),
        ("http://user:${ERP_PASSWORD}@host", "http://user:${ERP_PASSWORD}@host"),
        ("http://user:${ERP_PASSWORD:-fallback}@host", "http://user:***@host"),
        ("no url at all", "no url at all"),
    ],
)
def test_redact(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_redact_url_is_redact_on_one_url() -> None:
    assert redact_url("https://u:p@h") == "https://u:***@h"


def test_a_value_from_the_environment_is_shown_as_written() -> None:
    doc = parse_yaml(
        "url: https://u:${PW}@h\nport: ${PORT}\nplain: x\n",
        "f.yaml",
        environ={"PW": "s3cr3t", "PORT": "80"},
    )
    assert doc.data["url"] == "https://u:s3cr3t@h"
    assert doc.shown(("url",), doc.data["url"]) == "https://u:${PW}@h"
    assert doc.shown(("plain",), "x") == "x"
    assert doc.hide_env("it was s3cr3t, on port 80") == "it was ${PW}, on port 80"


def test_hub_check_never_echoes_an_environment_value(tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text(
        "version: 1\n"
        "store:\n  url: ${STORE}\n"
        "server:\n  port: ${PW}\n"
        "routes:\n  orders:\n    sinks:\n"
        "      - name: erp\n        type: http\n        options:\n"
        "          url: ftp://user:${PW}@erp.example.com/orders\n",
        encoding="utf-8",
    )
    environ = {"PW": "s3cr3t-Pa55", "STORE": "sqlite:///x.db"}
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ=environ)
    text = str(caught.value)
    assert "s3cr3t-Pa55" not in text
    assert "(got '${PW}')" in text
    # The routes are built after the file is valid: their problems are hidden the same way.
    config.write_text(
        config.read_text(encoding="utf-8").replace("  port: ${PW}\n", "  port: 8080\n"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as built:
        compile_routes(load_config(config, environ=environ))
    text = str(built.value)
    assert "s3cr3t-Pa55" not in text
    assert "(got 'ftp://user:${PW}@erp.example.com/orders')" in text
