"""Hot reload: mapping files and their code lists are re-checked and swapped in while running."""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path

from hub.config import LoadedConfig
from hub.errors import HubError
from hub.mapping import load_mapping
from hub.metrics import HubMetrics
from hub.pipeline.build import CompiledRoute

__all__ = ["MappingWatcher"]

log = logging.getLogger("hub.reload")


_Stamp = tuple[int, int] | None


def _stamp(path: Path) -> _Stamp:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class MappingWatcher:
    """Polls every route's mapping file (and ``codelists/`` beside it) and re-loads changes.

    A valid new version replaces the translator of each route that uses the file, in one
    attribute assignment, so a message is translated wholly by the old or the new version.
    An invalid one is rejected with its located problems; the previous version keeps serving.
    """

    def __init__(
        self,
        loaded: LoadedConfig,
        routes: dict[str, CompiledRoute],
        metrics: HubMetrics,
        interval: float,
    ) -> None:
        self.routes = routes
        self.metrics = metrics
        self.interval = interval
        self.files: dict[Path, list[str]] = {}
        for name, route in routes.items():
            if route.config.mapping is not None and route.translator.mapping is not None:
                path = loaded.resolve(route.config.mapping)
                self.files.setdefault(path, []).append(name)
        self.codelist_dirs = sorted({path.parent / "codelists" for path in self.files})
        self._stamps = self._snapshot()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval <= 0 or not self.files or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hub-mapping-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:
                log.exception("mapping watcher turn failed")

    def _snapshot(self) -> dict[Path, _Stamp]:
        stamps = {path: _stamp(path) for path in self.files}
        for folder in self.codelist_dirs:
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    if path.is_file():
                        stamps[path] = _stamp(path)
        return stamps

    def check(self) -> None:
        """One polling turn: re-load every mapping whose file or code lists changed."""
        current = self._snapshot()
        changed = {
            path
            for path in current.keys() | self._stamps.keys()
            if current.get(path) != self._stamps.get(path)
        }
        self._stamps = current
        targets: set[Path] = set()
        for path in changed:
            if path in self.files:
                targets.add(path)
            else:  # a code list: every mapping beside that codelists/ folder may use it
                targets.update(m for m in self.files if m.parent / "codelists" in path.parents)
        for path in sorted(targets):
            self.reload(path)

    def reload(self, path: Path) -> bool:
        routes = [self.routes[name] for name in self.files[path]]
        old = routes[0].translator.mapping
        label = old.name if old is not None else path.stem
        try:
            mapping = load_mapping(path)
        except HubError as exc:
            self.metrics.mapping_reloads.labels(mapping=label, outcome="rejected").inc()
            log.error(
                "mapping %s changed but was rejected; still using version %s: %s",
                path,
                old.content_hash if old is not None else "-",
                exc,
            )
            return False
        except Exception:
            self.metrics.mapping_reloads.labels(mapping=label, outcome="rejected").inc()
            log.exception("mapping %s changed but could not be loaded", path)
            return False
        for route in routes:
            route.translator = dataclasses.replace(route.translator, mapping=mapping)
        self.metrics.mapping_reloads.labels(mapping=label, outcome="applied").inc()
        log.info(
            "mapping %s re-loaded: version %s -> %s for route(s) %s",
            path,
            old.content_hash if old is not None else "-",
            mapping.content_hash,
            ", ".join(self.files[path]),
        )
        return True
