"""Run the EDIFACT or X12 decoder over a folder of files: one line per file, ok or the error.

    python -m benchmarks.corpus FOLDER [--format edifact|x12] [-o key=value ...]

For a corpus of real-world files that does not ship with the project (so ``make test``
does not run it): every file must either pass or fail with an error that names its
real fault. The format is taken from each file's name (``.x12`` -> x12, else edifact)
unless ``--format`` is given. Exit status 0 always: this is a report, not a test.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from hub.errors import HubError
from hub.formats import make_codec

__all__ = ["check_folder"]


def check_folder(folder: Path, format_name: str | None, options: dict[str, object]) -> list[str]:
    lines = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".md"):
        name = format_name or ("x12" if path.suffix == ".x12" else "edifact")
        codec = make_codec(name, options)
        try:
            tree = codec.decode(path.read_bytes())
        except HubError as exc:
            where = f"{exc.where}: " if exc.where else ""
            lines.append(f"{path.name}: {where}{exc.message}")
            continue
        several = isinstance(tree, dict) and "interchanges" in tree
        note = f" ({len(tree['interchanges'])} interchanges)" if several else ""
        lines.append(f"{path.name}: ok{note}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.corpus", description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--format", choices=["edifact", "x12"])
    parser.add_argument("-o", "--option", action="append", default=[], help="key=value")
    args = parser.parse_args(argv)
    options = {}
    for pair in args.option:
        key, _, value = pair.partition("=")
        options[key] = yaml.safe_load(value)
    lines = check_folder(args.folder, args.format, options)
    for line in lines:
        print(line)
    ok = sum(line.endswith("ok") or ": ok (" in line for line in lines)
    print(f"{ok} of {len(lines)} files pass; {len(lines) - ok} fail with the error shown")
    return 0


if __name__ == "__main__":
    sys.exit(main())
