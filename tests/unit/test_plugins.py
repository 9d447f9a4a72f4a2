"""Connector plugins, the codec registry, and the import rules that keep the layers apart."""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from hub.errors import PluginError
from hub.formats import available_codecs, codec_class
from hub.formats.json_codec import JsonCodec
from hub.plugins import available_connectors, connector_plugins, sink_class, source_class
from hub.sdk import (
    ConnectorOptions,
    ConnectorPlugin,
    Delivery,
    DeliverySemantics,
    Inbound,
    InboundRequest,
    PushSource,
    Receipt,
    Sink,
)

ROOT = Path(__file__).resolve().parents[2]


class GoodSink(Sink[ConnectorOptions]):
    def deliver(self, delivery: Delivery) -> Receipt:
        return Receipt("ok")


class GoodSource(PushSource[ConnectorOptions]):
    def accept(self, request: InboundRequest) -> Inbound | None:
        return Inbound(body=request.body)


class AbstractSink(Sink[ConnectorOptions]):
    """Forgets to implement deliver."""


class NotASink:
    def deliver(self, delivery: Delivery) -> Receipt:
        return Receipt("ok")


class BadOptionsSink(GoodSink):
    options_model = dict  # type: ignore[assignment]


# --- ConnectorPlugin -------------------------------------------------------------------


def test_a_well_formed_plugin() -> None:
    plugin = ConnectorPlugin(name="good", description="d", source=GoodSource, sink=GoodSink)
    assert plugin.sink is GoodSink
    assert plugin.source is GoodSource


def test_plugin_without_roles_is_rejected() -> None:
    with pytest.raises(PluginError, match="neither a source nor a sink") as caught:
        ConnectorPlugin(name="empty", description="nothing")
    assert "'empty'" in caught.value.message
    assert caught.value.hint


def test_sink_that_does_not_subclass_sink_is_rejected() -> None:
    with pytest.raises(PluginError, match=r"is not a subclass of hub\.sdk\.Sink"):
        ConnectorPlugin(name="bad", description="d", sink=NotASink)  # type: ignore[arg-type]


def test_source_given_as_a_sink_is_rejected() -> None:
    with pytest.raises(PluginError, match=r"hub\.sdk\.PushSource"):
        ConnectorPlugin(name="bad", description="d", source=GoodSink)  # type: ignore[arg-type]


def test_an_instance_instead_of_a_class_is_rejected() -> None:
    sink = GoodSink("x", ConnectorOptions())
    with pytest.raises(PluginError, match="not a subclass"):
        ConnectorPlugin(name="bad", description="d", sink=sink)  # type: ignore[arg-type]


def test_abstract_sink_is_rejected_naming_the_missing_method() -> None:
    with pytest.raises(PluginError, match="AbstractSink does not implement deliver"):
        ConnectorPlugin(name="bad", description="d", sink=AbstractSink)


def test_options_model_must_be_connector_options() -> None:
    with pytest.raises(PluginError, match=r"options_model is not a ConnectorOptions"):
        ConnectorPlugin(name="bad", description="d", sink=BadOptionsSink)


def test_sink_delivery_semantics_must_be_declared_with_the_enum() -> None:
    class StringlySemanticsSink(GoodSink):
        delivery_semantics = "dedupe"  # type: ignore[assignment]

    with pytest.raises(PluginError, match=r"delivery_semantics is 'dedupe', not a hub\.sdk\."):
        ConnectorPlugin(name="bad", description="d", sink=StringlySemanticsSink)
    assert GoodSink.delivery_semantics is DeliverySemantics.PEER_DEDUPLICATES  # the default


def test_all_problems_are_named_at_once() -> None:
    with pytest.raises(PluginError) as caught:
        ConnectorPlugin(name="bad", description="d", source=GoodSink, sink=AbstractSink)  # type: ignore[arg-type]
    assert "source" in caught.value.message
    assert "AbstractSink" in caught.value.message


# --- discovery -----------------------------------------------------------------------


def test_entry_points_register_http_and_file() -> None:
    names = {ep.name for ep in entry_points(group="hub.connectors")}
    assert {"http", "file"} <= names
    assert {"json"} <= {ep.name for ep in entry_points(group="hub.codecs")}


def test_connector_plugins_are_loaded_by_name() -> None:
    plugins = connector_plugins()
    assert plugins["file"].sink is not None
    assert plugins["file"].source is None
    assert plugins["http"].sink is not None
    assert plugins["http"].source is not None
    assert available_connectors("sink") == ["amqp", "as2", "file", "http", "sftp"]
    assert available_connectors("source") == [
        "amqp",
        "as2",
        "directory",
        "http",
        "http-pull",
        "sftp",
    ]


def test_role_classes() -> None:
    from connectors.file import FileSink
    from connectors.http import HttpInbound, HttpSink

    assert sink_class("file") is FileSink
    assert sink_class("http") is HttpSink
    assert source_class("http") is HttpInbound


def test_unknown_sink_lists_the_installed_ones() -> None:
    with pytest.raises(PluginError) as caught:
        sink_class("nope")
    assert caught.value.message == "no sink connector named 'nope'"
    assert caught.value.hint == "sink connectors installed: amqp, as2, file, http, sftp"
    assert "file" in str(caught.value)
    assert "http" in str(caught.value)


def test_a_connector_without_the_role_is_unknown_in_that_role() -> None:
    with pytest.raises(PluginError, match="no source connector named 'file'") as caught:
        source_class("file")
    assert caught.value.hint == (
        "source connectors installed: amqp, as2, directory, http, http-pull, sftp"
    )


def test_codec_registry() -> None:
    assert "json" in available_codecs()
    assert codec_class("json") is JsonCodec


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(PluginError) as caught:
        codec_class("fixedwidth")
    assert caught.value.message == "unknown format 'fixedwidth'"
    assert caught.value.hint is not None
    assert "json" in caught.value.hint


# --- import rules ----------------------------------------------------------------------


def hub_imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute import in ``path`` as (line, dotted name).

    ``from a.b import c`` is recorded as ``a.b.c``: ``c`` may be a submodule, and the
    name is under ``a.b`` either way.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def python_files(*parts: str) -> list[Path]:
    files = sorted((ROOT.joinpath(*parts)).rglob("*.py"))
    assert files, f"no Python files under {'/'.join(parts)}"
    return files


def is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_hub_imports_helper_sees_both_import_forms(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import hub.store\nfrom hub import api\nfrom hub.sdk import Sink\nfrom . import x\n",
        encoding="utf-8",
    )
    assert hub_imports(sample) == [(1, "hub.store"), (2, "hub.api"), (3, "hub.sdk.Sink")]


def test_connectors_import_nothing_from_hub_but_the_sdk() -> None:
    offending: list[str] = []
    for path in python_files("connectors"):
        for line, module in hub_imports(path):
            if is_under(module, "hub") and not is_under(module, "hub.sdk"):
                offending.append(f"{path.relative_to(ROOT)}:{line}: {module}")
    assert offending == []


FORBIDDEN_FOR_CORE = (
    "hub.store",
    "hub.api",
    "hub.cli",
    "hub.pipeline",
    "hub.delivery",
    "hub.plugins",
    "hub.sdk",
    "connectors",
)


@pytest.mark.parametrize("package", ["formats", "mapping"])
def test_formats_and_mapping_do_not_import_the_outer_layers(package: str) -> None:
    offending: list[str] = []
    for path in python_files("hub", package):
        for line, module in hub_imports(path):
            if any(is_under(module, forbidden) for forbidden in FORBIDDEN_FOR_CORE):
                offending.append(f"{path.relative_to(ROOT)}:{line}: {module}")
    assert offending == []


def test_the_sdk_exports_what_connectors_need() -> None:
    import hub.sdk

    exported: set[Any] = set(hub.sdk.__all__)
    assert {
        "ConnectorOptions",
        "ConnectorPlugin",
        "Capability",
        "Delivery",
        "DeliverySemantics",
        "FatalDeliveryError",
        "InboundRejected",
        "PushSource",
        "Receipt",
        "RetriableDeliveryError",
        "Sink",
    } <= exported


def test_a_sink_whose_init_lacks_the_context_argument_is_refused() -> None:
    from hub.sdk import ConnectorOptions, Receipt, Sink

    class OldSink(Sink[ConnectorOptions]):
        def __init__(self, name: str, options: ConnectorOptions) -> None:
            super().__init__(name, options)

        def deliver(self, delivery: Delivery) -> Receipt:
            return Receipt("ok")

    with pytest.raises(PluginError, match=r"must accept \(name, options, context=None\)"):
        ConnectorPlugin(name="old", description="", sink=OldSink)
