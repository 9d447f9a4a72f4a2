"""The running hub: config, routes, store, metrics, worker and mapping watcher, wired once."""

from __future__ import annotations

import logging
from collections import ChainMap
from collections.abc import Mapping
from pathlib import Path

from hub.config import LoadedConfig, load_config
from hub.delivery.retention import RetentionJob
from hub.delivery.worker import Worker
from hub.errors import Problem
from hub.gauges import StoreGauges
from hub.metrics import HubMetrics
from hub.partners.attach import attach_partners
from hub.partners.gauges import AckGauges
from hub.pipeline import CompiledRoute, Ingestor
from hub.pipeline.build import compile_routes, warm_routes
from hub.pipeline.poll import Poller
from hub.pipeline.reload import MappingWatcher
from hub.pipeline.schedule import PollScheduler
from hub.store import DeadLetters, Store
from hub.store.apikeys import ApiKeys
from hub.store.sealing import Sealer
from hub.store.sources import SourceStates
from hub.store.users import ConsoleUsers
from hub.tracing import Tracing, tracing_for

__all__ = ["Hub", "open_store"]

log = logging.getLogger("hub")


class Hub:
    """Everything a process needs to ingest and deliver; the API and CLI sit on top."""

    def __init__(self, loaded: LoadedConfig) -> None:
        self.loaded = loaded
        self.config = loaded.config
        self.metrics = HubMetrics()
        # first: a missing OpenTelemetry fails before anything is opened
        self.tracing: Tracing = tracing_for(
            self.config.tracing, where=loaded.document.where(("tracing", "enabled"))
        )
        built = compile_routes(loaded)
        self.routes: dict[str, CompiledRoute] = built.routes
        warm_routes(self.routes)  # definitions now, not on the first message
        #: What the checks found that does not stop the hub (e.g. a source path the input
        #: schema does not declare); logged here, shown by `hub check` and GET /mappings.
        self.warnings: list[Problem] = built.warnings
        for warning in self.warnings:
            log.warning("%s", warning)
        self.metrics.config_loaded.set(len(self.routes))
        store_cfg = self.config.store
        self.store = open_store(loaded)
        try:
            if store_cfg.auto_migrate:
                self.store.migrate()
            else:
                self.store.check_schema()
        except Exception:
            self.close_routes()
            self.store.close()
            self.tracing.close()
            raise
        self.store_gauges = StoreGauges(self.store, self.routes)
        self.metrics.registry.register(self.store_gauges)
        #: The hub's own routes (acknowledgements to partners): the worker's, not the API's.
        self.partner_routes = attach_partners(loaded, self.routes, self.store)
        if self.config.partners:
            self.metrics.registry.register(AckGauges(self.store, self.config.partners))
        worker_routes = ChainMap(self.routes, self.partner_routes)
        self.worker = Worker(
            self.store, worker_routes, self.metrics, self.config.worker, tracing=self.tracing
        )
        self.ingestor = Ingestor(
            self.store,
            self.routes,
            self.metrics,
            on_stored=self.worker.wake,
            tracing=self.tracing,
            secret_headers=self.config.auth.secret_headers,
        )
        self.keys = ApiKeys(self.store)
        self.users = ConsoleUsers(self.store)  # who signs in to /ui by name and password
        self.sources = SourceStates(self.store)
        self.polling = PollScheduler(
            Poller(route, self.ingestor, self.sources, self.metrics, self.worker.identity)
            for route in self.routes.values()
            if route.polled
        )
        self.dead_letters = DeadLetters(self.store)
        self.retention = RetentionJob(self.store, self.config.store.retention, self.metrics)
        self.watcher = MappingWatcher(
            loaded, self.routes, self.metrics, self.config.mappings.reload_seconds
        )
        self._started = False

    @classmethod
    def from_file(cls, path: Path, *, environ: Mapping[str, str] | None = None) -> Hub:
        return cls(load_config(path, environ=environ))

    def start(self) -> None:
        self.watcher.start()
        if self.config.worker.enabled and not self._started:
            self.retention.start()
            self.worker.start()
            self.polling.start()
            self._started = True
            log.info(
                "worker %s started with %d thread(s)",
                self.worker.identity,
                self.config.worker.threads,
            )

    def close(self) -> None:
        self.watcher.stop()
        self.retention.stop()
        if self._started:
            self.polling.stop()
            self.worker.stop()
            self._started = False
        self.close_routes()
        self.store.close()
        self.tracing.close()

    def close_routes(self) -> None:
        for route in [*self.routes.values(), *getattr(self, "partner_routes", {}).values()]:
            route.close()


def open_store(loaded: LoadedConfig) -> Store:
    """The config's store, with its payload keys (``store.encryption``)."""
    cfg = loaded.config.store
    sealer = Sealer(cfg.encryption.key_list() if cfg.encryption is not None else ())
    return Store(cfg.url, base_dir=loaded.base_dir, echo=cfg.echo, sealer=sealer)
