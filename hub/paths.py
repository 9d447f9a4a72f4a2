"""Files a config, a mapping or a preview names stay inside the folders the hub may read.

A config names schemas, XSDs, mapping files and definition folders; a mapping names its
target schema and code lists; ``POST /preview`` may name all of them in submitted text.
:func:`confine` resolves such a path (relative ones against the file that names it),
follows symbolic links, and accepts it only inside one of the allowed roots: the config's
folder, the project's ``schemas/`` folder and the folders listed in ``files.allowed_roots``.

A path outside is refused with the same message as a missing file, so an error never tells
whether a file outside exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from hub.errors import ConfigError

__all__ = ["FileRoots", "confine", "project_schemas"]


def project_schemas() -> Path:
    """The ``schemas/`` folder shipped beside the ``hub`` package (JSON Schemas, XSDs, EDIFACT)."""
    import hub

    return Path(hub.__file__).resolve().parents[1] / "schemas"


class FileRoots:
    """The folders files may be read from, resolved once (symbolic links followed)."""

    def __init__(self, roots: Iterable[Path]) -> None:
        resolved: list[Path] = []
        for root in roots:
            path = root.resolve()
            if path not in resolved:
                resolved.append(path)
        self.roots: tuple[Path, ...] = tuple(resolved)

    def __repr__(self) -> str:
        return f"FileRoots({', '.join(str(r) for r in self.roots)})"

    def contains(self, path: Path) -> bool:
        """Whether ``path`` (absolute), its links followed, lies inside a root."""
        try:
            real = path.resolve()
        except (OSError, RuntimeError):  # a link loop
            return False
        return any(real.is_relative_to(root) for root in self.roots)

    def describe(self) -> str:
        return ", ".join(str(root) for root in self.roots) or "none"


def confine(
    path: Path | str,
    roots: FileRoots | Sequence[Path],
    *,
    base: Path,
    what: str = "file",
    kind: str = "file",
) -> Path:
    """``path`` (relative to ``base``) if it lies inside ``roots`` and is a ``kind``.

    ``kind`` is ``"file"`` (an existing regular file), ``"dir"`` (an existing folder),
    ``"exists"`` (either) or ``"any"`` (need not exist yet). The result is ``base / path``
    as written (not the resolved target), so messages show the path the user wrote. A path
    outside the roots, a missing one and one of the wrong kind all raise the same
    :class:`ConfigError`.
    """
    allowed = roots if isinstance(roots, FileRoots) else FileRoots(roots)
    given = Path(path)
    joined = given if given.is_absolute() else base / given
    inside = allowed.contains(joined)
    ok = inside and (
        kind == "any"
        or (kind in ("file", "exists") and joined.is_file())
        or (kind in ("dir", "exists") and joined.is_dir())
    )
    if not ok:
        raise ConfigError(
            f"{what} not found: {given}",
            hint="a path is relative to the file that names it and must lie inside the "
            f"folders the hub may read ({allowed.describe()}); list more under "
            "`files.allowed_roots` in the config",
        )
    return joined
