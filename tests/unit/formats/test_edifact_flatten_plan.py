"""Flattening a ``body`` by cached plans gives what the table walk it replaced gave: the
same segments, or the same error at the same place (differential, hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.formats.edifact.definitions import GroupDef, load_definitions
from hub.formats.edifact.structure import FlattenError, flatten

ORDERS = load_definitions().message("ORDERS", "D", "96A", "UN")
assert ORDERS is not None


def reference(children: tuple[Any, ...], body: Any, where: str, out: list[Any], label: str) -> None:
    """The straightforward walk of the table, as the codec did it before plans."""
    if not isinstance(body, dict):
        raise FlattenError(where, "a body level is an object keyed by segment tag and group")
    known = {child.key for child in children}
    extra = [key for key in body if key not in known]
    if extra:
        raise FlattenError(f"{where}/{extra[0]}", f"not a segment or group here in {label}")
    for child in children:
        value = body.get(child.key)
        if value is None:
            continue
        path = f"{where}/{child.key}"
        if isinstance(child, GroupDef):
            instances = value if isinstance(value, list) else [value]
            for n, instance in enumerate(instances):
                reference(child.children, instance, f"{path}/{n}", out, label)
        elif isinstance(value, list) and value and isinstance(value[0], str):
            out.append(_checked(value, child.tag, path))
        elif isinstance(value, list):
            out.extend(_checked(s, child.tag, f"{path}/{n}") for n, s in enumerate(value))
        else:
            raise FlattenError(path, "a segment is a list starting with its tag")


def _checked(segment: Any, tag: str, where: str) -> Any:
    if not (isinstance(segment, list) and segment and segment[0] == tag):
        raise FlattenError(where, f"expected a {tag} segment, a list starting with {tag!r}")
    return segment


def _bodies(children: tuple[Any, ...], depth: int = 0) -> st.SearchStrategy[Any]:
    """Bodies for a table level: some of its keys in any order, now and then a key it lacks,
    a segment of another tag or a value of the wrong shape."""
    entries: dict[str, st.SearchStrategy[Any]] = {}
    for child in children[:8]:
        tag = child.trigger
        if isinstance(child, GroupDef):
            if depth >= 2:
                continue
            instance = _bodies(child.children, depth + 1)
            entries[child.key] = st.one_of(
                st.lists(instance, max_size=2), instance, st.none(), st.just("x")
            )
        else:
            segment = st.sampled_from([[tag, "1"], [tag], ["BAD", "1"], [], "x", None])
            entries[child.key] = st.one_of(
                st.sampled_from([[tag, "1", ["a", "b"]], None, "x", 5]),
                st.lists(segment, max_size=3),
            )
    keys = st.lists(st.sampled_from([*entries, "ZZZ"]), unique=True, max_size=5)
    return keys.flatmap(
        lambda chosen: st.fixed_dictionaries(
            {key: entries.get(key, st.just(["ZZZ"])) for key in chosen}
        )
    )


def _outcome(run: Any) -> Any:
    try:
        return "segments", run()
    except FlattenError as exc:
        return "error", exc.where, exc.reason


@settings(max_examples=500, deadline=None)
@given(body=st.one_of(_bodies(ORDERS.children), st.sampled_from([None, [], "x"])))
def test_flatten_by_plans_matches_the_table_walk(body: Any) -> None:
    def theirs() -> list[Any]:
        out: list[Any] = []
        reference(ORDERS.children, body, "body", out, ORDERS.label)
        return out

    mine = _outcome(lambda: flatten(ORDERS, body))
    assert mine == _outcome(theirs)
    assert _outcome(lambda: flatten(ORDERS, body)) == mine  # the cached plan, the second time
