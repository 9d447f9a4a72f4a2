"""Hot reload: mapping files and their code lists are re-checked and swapped in while running.

A changed mapping goes live only if it loads, passes the checks against the input and
output schemas of every route that uses it, and passes its own test cases
(``mappings/tests/NAME/``). Otherwise the route keeps the version it runs, one log line
says why, and :meth:`MappingWatcher.statuses` (``GET /mappings``) shows the refusal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hub.config import LoadedConfig
from hub.errors import HubError, Problem
from hub.mapping import Mapping, content_hash, parse_mapping
from hub.message import utcnow
from hub.metrics import HubMetrics
from hub.pipeline.build import CompiledRoute, mapping_problems
from hub.pipeline.mapping_tests import cases_for, run_case

__all__ = ["MappingStatus", "MappingWatcher", "Refusal"]

log = logging.getLogger("hub.reload")

#: Why a changed mapping was refused: the label of ``hub_mapping_reloads_total``.
REASONS = ("invalid", "schema", "tests", "error")
_LOGGED_PROBLEMS = 3


@dataclass(frozen=True)
class Refusal:
    """A newer mapping file that was not swapped in, and why."""

    hash: str | None  # None when the file could not be read
    at: datetime
    reason: str  # one of REASONS
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class MappingStatus:
    """The mapping version a route runs, and the last refused newer file, if any."""

    route: str
    name: str
    hash: str
    path: Path
    loaded_at: datetime
    warnings: tuple[Problem, ...] = ()
    refused: Refusal | None = None


_Stamp = tuple[int, int] | None


def _stamp(path: Path) -> _Stamp:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class MappingWatcher:
    """Polls every route's mapping file (and ``codelists/`` beside it) and re-loads changes.

    A new version that loads, fits every route's schemas and passes its test cases replaces
    the translator of each route that uses the file, in one attribute assignment, so a
    message is translated wholly by the old or the new version. Any other is refused with
    its located problems; the previous version keeps serving.
    """

    def __init__(
        self,
        loaded: LoadedConfig,
        routes: dict[str, CompiledRoute],
        metrics: HubMetrics,
        interval: float,
    ) -> None:
        self.loaded = loaded
        self.routes = routes
        self.metrics = metrics
        self.interval = interval
        self.files: dict[Path, list[str]] = {}
        for name, route in routes.items():
            if route.config.mapping is not None and route.translator.mapping is not None:
                path = loaded.resolve(route.config.mapping)
                self.files.setdefault(path, []).append(name)
        self.codelist_dirs = sorted({path.parent / "codelists" for path in self.files})
        started = utcnow()
        self._status: dict[str, MappingStatus] = {}
        for path, names in self.files.items():
            for name in names:
                route = routes[name]
                mapping = route.translator.mapping
                assert mapping is not None
                self._status[name] = MappingStatus(
                    name, mapping.name, mapping.content_hash, path, started, route.warnings
                )
        self._stamps = self._snapshot()
        self._settling: dict[Path, _Stamp] = {}
        self._texts: dict[Path, str] = {}
        for path in self.files:  # unreadable: read again (and refused, located) on a change
            with contextlib.suppress(OSError, UnicodeDecodeError):
                self._texts[path] = path.read_text(encoding="utf-8")
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
                self.check(settle=True)
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

    def check(self, *, settle: bool = False) -> None:
        """One polling turn: re-load every mapping whose file or code lists changed.

        With ``settle`` (the watcher's own turns) a change is acted on once the file has
        stopped changing, the same size and time on two turns in a row, so an editor's
        truncate-then-write is never read half done. A mapping file whose text is what was
        last read (only its time moved) is not re-loaded.
        """
        current = self._snapshot()
        moved = {
            path
            for path in current.keys() | self._stamps.keys()
            if current.get(path) != self._stamps.get(path)
        }
        settled: set[Path] = set()
        for path in moved:
            if not settle or (path in self._settling and self._settling[path] == current.get(path)):
                settled.add(path)
            else:
                self._settling[path] = current.get(path)
        for path in list(self._settling):
            if path not in moved or path in settled:
                del self._settling[path]
        for path in settled:
            if path in current:
                self._stamps[path] = current[path]
            else:
                self._stamps.pop(path, None)
        targets: dict[Path, bool] = {}  # mapping file -> a code list beside it changed
        for path in settled:
            if path in self.files:
                targets.setdefault(path, False)
            else:  # a code list: every mapping beside that codelists/ folder may use it
                for mapping in self.files:
                    if mapping.parent / "codelists" in path.parents:
                        targets[mapping] = True
        for path in sorted(targets):
            self.reload(path, unchanged_text_too=targets[path])

    def statuses(self) -> list[MappingStatus]:
        """Per route with a mapping: the version it runs and the last refusal, by route name."""
        return [self._status[name] for name in sorted(self._status)]

    def reload(self, path: Path, *, unchanged_text_too: bool = True) -> bool:
        """Check the file at ``path`` and swap it in; False (and the old version) if refused.

        With ``unchanged_text_too`` false, a file whose text is what the watcher last read is
        left alone (True, nothing counted): only its time stamp moved.
        """
        names = self.files[path]
        routes = [self.routes[name] for name in names]
        old = routes[0].translator.mapping
        label = old.name if old is not None else path.stem
        loaded = self.loaded
        try:
            text = loaded.resolve(path, "mapping file").read_text(encoding="utf-8")
        except HubError as exc:  # now outside the allowed folders (a link changed)
            problem = Problem(exc.message, str(path), exc.hint)
            return self._refuse(path, label, old, None, "invalid", [problem])
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
            problem = Problem(f"cannot read mapping {path}: {reason or exc}")
            return self._refuse(path, label, old, None, "invalid", [problem])
        if not unchanged_text_too and self._texts.get(path) == text:
            return True
        self._texts[path] = text
        version = content_hash(text)
        try:
            mapping = parse_mapping(
                text, str(path), limits=loaded.config.mappings.limits, roots=loaded.roots
            )
        except HubError as exc:
            problems = exc.problems or [Problem(exc.message, exc.where, exc.hint)]
            return self._refuse(path, label, old, version, "invalid", problems)
        except Exception as exc:  # a bug in the loader must not stop the watcher
            log.exception("mapping %s changed but could not be loaded", path)
            problem = Problem(f"the mapping could not be loaded: {exc!r}")
            return self._refuse(path, label, old, version, "error", [problem], logged=True)
        found: list[Problem] = []
        for route in routes:
            translator = route.translator
            for problem in mapping_problems(
                mapping, translator.input_schema, translator.output_schema
            ):
                if problem not in found:
                    found.append(problem)
        errors = [p for p in found if not p.is_warning]
        if errors:
            return self._refuse(path, label, old, version, "schema", errors)
        failures = self._failed_cases(path, mapping)
        if failures:
            return self._refuse(path, label, old, version, "tests", failures)
        warnings = tuple(p for p in found if p.is_warning)
        for route in routes:
            route.translator = dataclasses.replace(route.translator, mapping=mapping)
        now = utcnow()
        for name in names:
            self._status[name] = MappingStatus(
                name, mapping.name, mapping.content_hash, path, now, warnings
            )
        self.metrics.mapping_reloads.labels(mapping=label, outcome="applied", reason="none").inc()
        log.info(
            "mapping %s re-loaded: version %s -> %s for route(s) %s%s",
            path,
            old.content_hash if old is not None else "-",
            mapping.content_hash,
            ", ".join(names),
            f"; {len(warnings)} warning(s): " + "; ".join(map(str, warnings)) if warnings else "",
        )
        return True

    def _failed_cases(self, path: Path, mapping: Mapping) -> list[Problem]:
        """The mapping's own test cases run on the new version: one problem per failure."""
        failures = []
        for case in cases_for(path):
            result = run_case(case, mapping, roots=self.loaded.roots)
            if not result.passed:
                detail = "; ".join(str(p) for p in result.problems)
                failures.append(
                    Problem(
                        f"test case {case.label} fails: {result.message}"
                        + (f" ({detail})" if detail else ""),
                        where=str(case.input_path),
                        hint="run `hub test-mappings` for the diff",
                    )
                )
        return failures

    def _refuse(
        self,
        path: Path,
        label: str,
        old: Mapping | None,
        version: str | None,
        reason: str,
        problems: list[Problem],
        *,
        logged: bool = False,
    ) -> bool:
        refusal = Refusal(version, utcnow(), reason, tuple(problems))
        for name in self.files[path]:
            self._status[name] = dataclasses.replace(self._status[name], refused=refusal)
        self.metrics.mapping_reloads.labels(mapping=label, outcome="rejected", reason=reason).inc()
        if not logged:
            shown = "; ".join(str(p) for p in problems[:_LOGGED_PROBLEMS])
            more = len(problems) - _LOGGED_PROBLEMS
            log.error(
                "mapping %s changed but was refused (%s), still serving version %s: %s%s",
                path,
                reason,
                old.content_hash if old is not None else "-",
                shown,
                f"; and {more} more (GET /mappings)" if more > 0 else "",
            )
        return False
