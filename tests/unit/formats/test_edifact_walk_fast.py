"""The segment table walk's shortcuts (mandatory entries counted by prefix sums) find what
the entry-by-entry scans they replaced found: the same body and the same issues, for any
order of segments (differential, hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.formats.edifact.definitions import GroupDef, SegmentRef, load_definitions
from hub.formats.edifact.structure import _at, _Walker, walk

DEFINITIONS = load_definitions()
TABLES = [DEFINITIONS.message(t, "D", "96A", "UN") for t in ("ORDERS", "DESADV", "INVOIC")]


class _Scanning(_Walker):
    """The walker with the scans it had before the shortcuts."""

    @staticmethod
    def skips_mandatory(children: tuple[Any, ...], pos: int, j: int, counts: list[int]) -> bool:
        return any(
            children[k].mandatory and not counts[k] for k in range(pos + (counts[pos] > 0), j)
        )

    def missing(
        self,
        children: tuple[Any, ...],
        pos: int,
        end: int,
        counts: list[int],
        group: GroupDef | None,
    ) -> None:
        for k in range(pos, end):
            child = children[k]
            if counts[k] or not child.mandatory:
                continue
            if isinstance(child, SegmentRef):
                text = f"{child.tag}: mandatory segment missing"
            else:
                text = f"{child.name} ({child.trigger}): mandatory segment group missing"
            self.issue(self.i, "13", f"{text} in {self.label}{_at(child)}", "missing", group)


def _tags(table: Any) -> list[str]:
    return [*sorted(table.tags), "ZZZ"]


@settings(max_examples=300, deadline=None)
@given(data=st.data(), which=st.integers(0, len(TABLES) - 1))
def test_the_walk_finds_what_the_scans_found(data: st.DataObject, which: int) -> None:
    table = TABLES[which]
    assert table is not None
    tags = data.draw(st.lists(st.sampled_from(_tags(table)), max_size=25))
    segments = [[tag, str(n)] for n, tag in enumerate(["UNH", *tags, "UNT"])]
    mine = walk(table, segments)
    theirs = _Scanning(table, segments).run()
    assert mine.body == theirs.body
    assert mine.issues == theirs.issues
    assert mine.matched == theirs.matched
