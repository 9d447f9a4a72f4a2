"""``hub decode``, ``hub encode`` and ``hub validate``: the codecs without a route."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from hub.cli.output import handle_errors, write_bytes
from hub.errors import ConfigError, DecodeError, HubError
from hub.formats import Codec, JsonSchema, make_codec
from hub.formats.detect import guess_format

__all__ = ["register"]

FormatOption = Annotated[
    str | None,
    typer.Option("--format", "-f", help="json, xml, csv, edifact or x12 (default: guessed)"),
]
OptionsOption = Annotated[
    list[str] | None,
    typer.Option("--option", "-o", help="a codec option as key=value (repeatable)"),
]


def _options(pairs: list[str] | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option {pair!r} is not key=value", hint="e.g. -o indent=2")
        try:
            options[key.strip()] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            options[key.strip()] = value  # `-o decimal=,` means the text itself
    return options


def _codec(name: str, pairs: list[str] | None) -> Codec:
    from pydantic import ValidationError

    try:
        return make_codec(name, _options(pairs), base_dir=Path.cwd())
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"bad {name} options: {problems}") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise HubError(f"no such file: {path}") from None


def _message_types(tree: Any) -> set[str]:
    if not isinstance(tree, dict):
        return set()
    if isinstance(tree.get("interchanges"), list):
        return set().union(*(_message_types(t) for t in tree["interchanges"]))
    messages = list(tree.get("messages") or [])
    for group in tree.get("groups") or []:
        messages.extend(group.get("messages") or [])
    return {str(m.get("type")) for m in messages if isinstance(m, dict)}


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def decode(
        input_file: Annotated[Path, typer.Argument(metavar="INPUT")],
        format: FormatOption = None,
        message_type: Annotated[
            str | None,
            typer.Option(
                "--message-type",
                "-t",
                help="EDIFACT or X12: every message (transaction set) must be this type",
            ),
        ] = None,
        option: OptionsOption = None,
    ) -> None:
        """Print INPUT's document tree as JSON."""
        data = _read(input_file)
        name = format or guess_format(input_file, data)
        tree = _codec(name, option).decode(data)
        if message_type is not None:
            found = _message_types(tree)
            if found != {message_type}:
                listed = ", ".join(sorted(found)) or "none"
                raise DecodeError(
                    f"expected only {message_type} messages, found {listed}",
                    where=str(input_file),
                )
        typer.echo(json.dumps(tree, indent=2, ensure_ascii=False))

    @app.command()
    @handle_errors
    def encode(
        input_file: Annotated[Path, typer.Argument(metavar="INPUT.json")],
        format: Annotated[
            str, typer.Option("--format", "-f", help="json, xml, csv, edifact or x12")
        ],
        option: OptionsOption = None,
    ) -> None:
        """Encode a JSON document tree (as `hub decode` prints it) into FORMAT."""
        tree = make_codec("json").decode(_read(input_file))
        write_bytes(_codec(format, option).encode(tree))

    @app.command()
    @handle_errors
    def validate(
        input_file: Annotated[Path, typer.Argument(metavar="INPUT")],
        schema: Annotated[
            Path | None,
            typer.Option(
                "--schema",
                "-s",
                help="a JSON Schema (.json) or XSD (.xsd); without it, the format's own checks",
            ),
        ] = None,
        format: FormatOption = None,
        option: OptionsOption = None,
    ) -> None:
        """Check INPUT: syntax, envelopes and structure, and a schema if given."""
        data = _read(input_file)
        name = format or guess_format(input_file, data)
        pairs = list(option or [])
        if schema is not None and schema.suffix.lower() == ".xsd":
            name = "xml"
            pairs.append(f"xsd={schema}")
        tree = _codec(name, pairs).decode(data)
        if schema is not None and schema.suffix.lower() != ".xsd":
            JsonSchema(schema).check(tree)
        typer.echo(f"{input_file}: valid {name}" + (f" against {schema}" if schema else ""))

    @app.command()
    @handle_errors
    def contrl(
        input_file: Annotated[Path, typer.Argument(metavar="INPUT.edi")],
        reference: Annotated[
            str, typer.Option("--reference", "-r", help="control reference of the CONTRL's UNB")
        ] = "1",
        report_messages: Annotated[
            bool, typer.Option(help="list accepted messages too (UCM with action 7)")
        ] = False,
        option: OptionsOption = None,
    ) -> None:
        """Print the CONTRL report (accepted or rejected, with every error) for an interchange."""
        from hub.formats.edifact import EdifactCodec, build_contrl

        codec = _codec("edifact", option)
        assert isinstance(codec, EdifactCodec)
        reading = codec.read(_read(input_file))
        # one CONTRL per interchange of the file, each answering its own
        for n, one in enumerate(reading.interchanges or [reading], 1):
            report = build_contrl(
                one,
                reference=reference if n == 1 else f"{reference}-{n}",
                extra_faults=codec.check_messages(one.tree),
                report_messages=report_messages,
            )
            write_bytes(codec.encode(report))
