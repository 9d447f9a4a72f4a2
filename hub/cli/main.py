"""The ``hub`` command."""

from __future__ import annotations

import enum
import json
import logging
import signal
from pathlib import Path
from typing import Annotated

import typer

from hub import DISTRIBUTION, __version__
from hub.cli import deadletters, formats, keys, messages, users
from hub.cli.output import handle_errors, write_bytes
from hub.config import load_config
from hub.config.models import anonymous_problem
from hub.errors import ConfigError, HubError
from hub.heap import freeze_startup_objects
from hub.logs import configure_logging
from hub.mapping import MappingLimits
from hub.pipeline.build import compile_routes

__all__ = ["app", "main"]

log = logging.getLogger("hub.cli")

app = typer.Typer(
    name="hub",
    help="Switchboard: receive, translate and deliver business messages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
messages_app = typer.Typer(help="Look at stored messages.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the store's schema.", no_args_is_help=True)
app.add_typer(messages_app, name="messages")
app.add_typer(db_app, name="db")
formats.register(app)
deadletters.register(app)
keys.register(app)
users.register(app)
messages.register(messages_app)

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", help="the hub's YAML config", envvar="HUB_CONFIG"),
]
DEFAULT_CONFIG = Path("config.example.yaml")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"{DISTRIBUTION} {__version__}")
        raise typer.Exit()


class LogLevel(enum.StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class LogFormatName(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")
    ] = False,
    log_level: Annotated[
        LogLevel,
        typer.Option(
            "--log-level",
            envvar="HUB_LOG_LEVEL",
            case_sensitive=False,
            help="log records at this level and above (DEBUG also shows every HTTP request)",
        ),
    ] = LogLevel.INFO,
    log_format: Annotated[
        LogFormatName,
        typer.Option(
            "--log-format",
            envvar="HUB_LOG_FORMAT",
            case_sensitive=False,
            help="text for people, json for a log collector (one object per line)",
        ),
    ] = LogFormatName.TEXT,
) -> None:
    configure_logging(log_level.value, "json" if log_format == LogFormatName.JSON else "text")


@app.command()
@handle_errors
def check(
    config: ConfigOption = DEFAULT_CONFIG,
    strict: Annotated[
        bool, typer.Option("--strict", help="warnings are errors too: exit 1 on any")
    ] = False,
) -> None:
    """Validate a config and everything it names; print every problem as file:line.

    Errors exit 1. Warnings (e.g. a mapping reads a path the input schema does not declare)
    are printed and exit 0, unless --strict.
    """
    from hub.api.server import event_loop, http_parser

    loaded = load_config(config)
    http_parser(loaded.config.server.http)  # the HTTP stack named is installed
    event_loop(loaded.config.server.loop)
    built = compile_routes(loaded, strict=strict)
    for route in built.routes.values():
        route.close()
    for warning in built.warnings:
        typer.echo(str(warning), err=True)
    count = len(built.routes)
    summary = f"{config}: ok ({count} route{'s' if count != 1 else ''})"
    if built.warnings:
        many = len(built.warnings) != 1
        summary += f", {len(built.warnings)} warning{'s' if many else ''} (--strict fails on them)"
    typer.echo(summary)


@app.command()
@handle_errors
def run(
    config: ConfigOption = DEFAULT_CONFIG,
    host: Annotated[str | None, typer.Option(help="overrides server.host")] = None,
    port: Annotated[int | None, typer.Option(help="overrides server.port")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="processes that deliver (overrides worker.processes): 1 runs the worker in "
            "this process; N > 1 starts N supervised worker processes",
        ),
    ] = None,
) -> None:
    """Serve the API and run the delivery worker (in this process, or in --workers N)."""
    from dataclasses import replace

    from hub.api import create_app
    from hub.api.server import event_loop, http_parser, serve
    from hub.runtime import Hub
    from hub.supervisor import WorkerProcesses

    loaded = load_config(config)
    problem = anonymous_problem(loaded.config.auth, host or loaded.config.server.host)
    if problem is not None:  # --host may move the demo off loopback
        raise ConfigError(problem, where="--host" if host else "server.host")
    http_parser(loaded.config.server.http)  # a stack that is not installed stops us here
    event_loop(loaded.config.server.loop)
    worker_cfg = loaded.config.worker
    processes = workers if workers is not None else worker_cfg.processes
    supervised = worker_cfg.enabled and (processes > 1 or worker_cfg.own_process)
    if supervised:  # this process only serves the API; the children deliver
        api_only = worker_cfg.model_copy(update={"enabled": False})
        loaded = replace(loaded, config=loaded.config.model_copy(update={"worker": api_only}))
    hub = Hub(loaded)
    server = hub.config.server
    app_ = create_app(hub)
    children = (
        WorkerProcesses(config, processes, hub.metrics, nice=worker_cfg.nice)
        if supervised
        else None
    )
    log.info(
        "switchboard %s: %d route(s), store %s",
        __version__,
        len(hub.routes),
        hub.store.engine.url.render_as_string(),
    )
    previews = app_.state.previews
    freeze_startup_objects()  # built once, alive until the end: out of the GC's walks
    terminated: list[int] = []
    if children is not None:
        hub.ingestor.on_stored = children.wake
        # uvicorn raises a SIGTERM again once it has stopped; by default that ends this
        # process before the children are stopped and waited for: it is raised after that
        signal.signal(signal.SIGTERM, lambda signum, _: terminated.append(signum))
        children.start()
    try:
        # uvicorn's records go through the hub's handler (--log-format json too); the server
        # section's limits guard against slow and too many clients (hub/api/server.py)
        started = serve(
            app_, server, host=host or server.host, port=port or server.port, on_exit=previews.stop
        )
    finally:
        if children is not None:
            children.stop()
            children.close()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if terminated:
        signal.raise_signal(signal.SIGTERM)
    if not started:
        raise typer.Exit(3)  # as uvicorn.run: the server did not start


@app.command()
@handle_errors
def worker(
    config: ConfigOption = DEFAULT_CONFIG,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65535,
            help="serve /metrics, /healthz and /readyz on this port of server.host "
            "(overrides worker.metrics_port)",
        ),
    ] = None,
    wake_fd: Annotated[int | None, typer.Option(hidden=True)] = None,
    metrics_snapshot: Annotated[Path | None, typer.Option(hidden=True)] = None,
    nice: Annotated[int, typer.Option(hidden=True, min=0, max=19)] = 0,
) -> None:
    """Run the delivery worker without the API; on PostgreSQL, run as many as you need."""
    import threading

    from hub.api.ops import OpsServer
    from hub.metrics_merge import remove_snapshot, write_snapshot
    from hub.runtime import Hub
    from hub.supervisor import SNAPSHOT_SECONDS, follow_parent, lower_priority

    # --wake-fd, --metrics-snapshot, --nice: started by `hub run --workers N` (hub/supervisor.py)
    lower_priority(nice)  # before any thread starts: they inherit it
    hub = Hub.from_file(config)
    freeze_startup_objects()  # built once, alive until the end: out of the GC's walks
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    supervised = wake_fd is not None
    port = None if supervised else metrics_port or hub.config.worker.metrics_port
    ops = OpsServer(hub, hub.config.server.host, port) if port else None
    if metrics_snapshot is not None:  # the parent serves the store's gauges itself
        hub.metrics.registry.unregister(hub.store_gauges)
    orphaned = threading.Event()  # the parent died: nobody reads the snapshot any more

    def parent_gone() -> None:
        orphaned.set()
        stop.set()

    try:
        hub.start()
        if wake_fd is not None:
            follow_parent(wake_fd, hub.worker.wake, parent_gone)
        if ops is not None:
            ops.start()
        log.info("worker %s: %d route(s); Ctrl-C stops", hub.worker.identity, len(hub.routes))
        while not stop.wait(SNAPSHOT_SECONDS if metrics_snapshot else 1.0):
            if metrics_snapshot is not None:
                write_snapshot(metrics_snapshot, hub.metrics.registry)
    finally:
        if ops is not None:
            ops.stop()
        hub.close()
        if metrics_snapshot is not None and orphaned.is_set():
            remove_snapshot(metrics_snapshot)  # and the folder, once the last one has gone
        elif metrics_snapshot is not None:  # the last counts, for the parent to keep
            write_snapshot(metrics_snapshot, hub.metrics.registry)
    log.info("worker stopped")


@app.command()
@handle_errors
def translate(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT", help="the input document")],
    route: Annotated[str, typer.Option("--route", "-r", help="the route whose pipeline to use")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Decode, validate, map and encode INPUT as ROUTE would, without delivering it.

    A splitting mapping's outputs are all printed, one after the other (the count on stderr).
    """
    loaded = load_config(config)
    built = compile_routes(loaded)
    routes = built.routes
    for warning in built.warnings:
        typer.echo(str(warning), err=True)
    try:
        if route not in routes:
            raise HubError(
                f"no route named {route!r}",
                hint="routes in this config: " + ", ".join(sorted(routes)),
            )
        data = input_file.read_bytes()
        translation = routes[route].translator.translate(data)
    finally:
        for compiled in routes.values():
            compiled.close()
    if translation.parts is None:
        write_bytes(translation.body)
        return
    typer.echo(f"{len(translation.parts)} outputs (the mapping splits)", err=True)
    for part in translation.parts:
        write_bytes(part)


@app.command("test-mappings")
@handle_errors
def run_mapping_tests(
    config: ConfigOption = DEFAULT_CONFIG,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="the mappings folder (default: mappings/ beside the config)"),
    ] = None,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="write the actual output of each failing case as its expected file, after "
            "showing the diff",
        ),
    ] = False,
) -> None:
    """Run the cases in mappings/tests/NAME/ against mappings/NAME.yaml; exit 1 on a failure.

    Each run has the config's mappings.limits (the defaults when there is no config).
    """
    from hub.pipeline.mapping_tests import run_all, update_expected

    folder = directory if directory is not None else config.parent / "mappings"
    if not folder.is_dir():
        raise HubError(f"no mappings folder {folder}", hint="pass --dir")
    passed = failed = updated = 0
    for result in run_all(folder, limits=_mapping_limits(config)):
        if result.passed:
            passed += 1
            typer.echo(f"PASS {result.case.label}")
            continue
        failed += 1
        typer.echo(f"FAIL {result.case.label}: {result.message}")
        for problem in result.problems:
            typer.echo(f"  {problem}")
        if result.diff:
            typer.echo(result.diff.rstrip("\n"))
        if update:
            written = update_expected(result)
            if written is None:
                typer.echo(f"  not updated: {result.case.label} made no output")
            else:
                updated += 1
                typer.echo(f"UPDATED {written}")
    summary = f"{passed} passed, {failed} failed"
    if update:
        summary += f", {updated} updated"
    typer.echo(summary)
    if failed > updated:
        raise typer.Exit(1)


def _mapping_limits(config: Path) -> MappingLimits | None:
    """The config's ``mappings.limits``; None (the defaults) without a config that loads."""
    if not config.is_file():
        return None
    try:
        return load_config(config).config.mappings.limits
    except HubError as exc:  # a secret not set here, say: the cases do not need the config
        typer.echo(f"note: {config} not loaded ({exc.message}); default mapping limits", err=True)
        return None


@messages_app.command("show")
@handle_errors
def messages_show(
    message_id: Annotated[str, typer.Argument(metavar="ID")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Print a message's status and history as JSON."""
    from hub.runtime import open_store
    from hub.views import message_view

    loaded = load_config(config)
    store = open_store(loaded)
    try:
        record = store.get(message_id)
    finally:
        store.close()
    typer.echo(
        json.dumps(message_view(record).model_dump(mode="json"), indent=2, ensure_ascii=False)
    )


@app.command("config-schema")
@handle_errors
def config_schema() -> None:
    """Print the JSON Schema of the config file, for editors (yaml-language-server)."""
    from hub.config.schema import config_json_schema

    typer.echo(json.dumps(config_json_schema(), indent=2, sort_keys=True))


@db_app.command("upgrade")
@handle_errors
def db_upgrade(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Apply the store's migrations up to the latest."""
    from hub.runtime import open_store
    from hub.store.migrate import current_revision

    loaded = load_config(config)
    store = open_store(loaded)
    try:
        store.migrate()
        typer.echo(f"store at revision {current_revision(store.engine)}")
    finally:
        store.close()


@db_app.command("new-payload-key")
@handle_errors
def db_new_payload_key() -> None:
    """Print a fresh key for store.encryption.keys (put it first in the list to rotate)."""
    from hub.store.sealing import new_key

    typer.echo(new_key())


@db_app.command("reseal")
@handle_errors
def db_reseal(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Re-encrypt every stored payload with the newest key of store.encryption.keys
    (and encrypt those stored without one); safe while the hub runs."""
    from hub.runtime import open_store
    from hub.store.payloads import reseal

    loaded = load_config(config)
    if loaded.config.store.encryption is None:
        raise HubError(
            "store.encryption is not set in the config",
            where="store.encryption",
            hint="set store.encryption.keys (from the environment) first",
        )
    store = open_store(loaded)
    try:
        store.check_schema()
        count = reseal(store)
    finally:
        store.close()
    typer.echo(f"{count} message(s) re-encrypted with the newest key")


def main() -> None:
    app()
