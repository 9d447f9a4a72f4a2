"""Tokens, scopes, credential headers and the loopback rule, on their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_config
from hub.credentials import (
    grants,
    hash_token,
    is_credential_header,
    is_loopback,
    new_token,
    parse_token,
    scope_problem,
)
from hub.errors import ConfigError
from tests.configs import demo_config, write_config


def test_a_token_is_its_id_and_a_secret_and_is_stored_as_a_hash() -> None:
    token = new_token()
    parts = parse_token(token.token)
    assert parts is not None
    assert parts.key_id == token.key_id
    assert token.token.startswith(f"hub_{token.key_id}_")
    assert len(token.token.removeprefix(f"hub_{token.key_id}_")) == 43  # 256 bits
    assert new_token().token != token.token
    assert hash_token(token.token) != token.token
    assert len(hash_token(token.token)) == 64
    for wrong in ("", "hub_", "Bearer x", token.token + "x", token.token.replace("hub_", "hab_")):
        assert parse_token(wrong) is None, wrong


@pytest.mark.parametrize(
    ("held", "needed", "allowed"),
    [
        (["read"], "read", True),
        (["read"], "read:payload", False),
        (["read:payload"], "read", False),
        (["operate"], "read", False),
        (["ingest"], "ingest:shop-orders", True),
        (["ingest:shop-orders"], "ingest:shop-orders", True),
        (["ingest:shop-orders"], "ingest:other", False),
        (["ingest:shop-orders"], "ingest", False),
        (["admin"], "read:payload", True),
        (["admin"], "ingest:any", True),
        ([], "read", False),
    ],
)
def test_what_each_scope_grants(held: list[str], needed: str, allowed: bool) -> None:
    assert grants(held, needed) is allowed


def test_scopes_are_checked_by_name() -> None:
    assert scope_problem("read:payload") is None
    assert scope_problem("ingest:shop-orders") is None
    for wrong in ("reed", "ingest:", "ingest:Bad Route", "read:all", "*"):
        problem = scope_problem(wrong)
        assert problem is not None
        assert "ingest:ROUTE" in problem


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "proxy-authorization",
        "Cookie",
        "X-API-Key",
        "x-api_key",
        "X-WC-Webhook-Signature",
        "Stripe-Signature",
        "X-Hub-Signature-256",
        "X-Shopify-Hmac-Sha256",
        "X-Slack-Signature",
        "X-Auth-Token",
        "X-Session-Id",
    ],
)
def test_credential_headers_are_known_by_name(name: str) -> None:
    assert is_credential_header(name)


def test_ordinary_headers_are_kept_and_the_config_may_add_secrets() -> None:
    for name in ("Content-Type", "User-Agent", "X-Request-Id", "Idempotency-Key"):
        assert not is_credential_header(name)
    assert is_credential_header("x-partner-pin", ["X-Partner-PIN"])


def test_loopback_addresses() -> None:
    for host in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.10", "hub.example.com", ""):
        assert not is_loopback(host), host


def test_anonymous_personal_data_on_a_public_address_refuses_to_load(tmp_path: Path) -> None:
    config = demo_config(tmp_path, server={"host": "0.0.0.0", "port": 8080})
    with pytest.raises(ConfigError) as refused:
        load_config(write_config(tmp_path, config))
    text = str(refused.value)
    for said in ("operate, read:payload", "0.0.0.0", "hub keys create"):
        assert said in text
    # ingest and read only: allowed there
    config["auth"] = {"anonymous": "ingest:shop-orders read metrics"}
    assert load_config(write_config(tmp_path, config)).config.auth.anonymous == [
        "ingest:shop-orders",
        "read",
        "metrics",
    ]


def test_unknown_scopes_and_routes_in_auth_are_config_errors(tmp_path: Path) -> None:
    for anonymous, said in (
        (["reed"], "unknown scope 'reed'"),
        (["ingest:nowhere"], "no route 'nowhere'"),
    ):
        config = demo_config(tmp_path, auth={"anonymous": anonymous})
        with pytest.raises(ConfigError) as refused:
            load_config(write_config(tmp_path, config))
        assert said in str(refused.value)
