"""The translator's deadline (the worker's turn budget): checked between stages, and handed
to a mapping that can stop itself."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hub.errors import MappingError, OverBudget
from hub.formats import JsonCodec, Tree
from hub.pipeline.translate import PastDeadline, Translator


class Stoppable:
    """A mapping that copies its input after ``work`` seconds of busy work; it takes a
    ``cancel`` flag and stops (a MappingError, as a run's budget check raises) once set."""

    name = "copy"
    content_hash = "0" * 16
    splits = False

    def __init__(self, work: float = 0.0) -> None:
        self.work = work
        self.given: list[Any] = []

    def apply(self, tree: Tree, *, cancel: Any = None) -> Tree:
        self.given.append(cancel)
        ends = time.monotonic() + self.work
        while time.monotonic() < ends:
            if cancel is not None and cancel.is_set():
                raise MappingError("the run was cancelled")
        return tree

    def apply_all(self, tree: Tree, *, cancel: Any = None) -> list[Tree]:
        return [self.apply(tree, cancel=cancel)]


class Plain:
    """A mapping that knows nothing of deadlines."""

    name = "plain"
    content_hash = "1" * 16
    splits = False

    def apply(self, tree: Tree) -> Tree:
        return tree

    def apply_all(self, tree: Tree) -> list[Tree]:
        return [tree]


def translator(mapping: Any = None) -> Translator:
    return Translator("r", JsonCodec(), JsonCodec(), mapping=mapping)


def test_without_a_deadline_nothing_changes() -> None:
    assert translator().translate(b'{"a": 1}').body == b'{"a": 1}'


def test_a_spent_deadline_stops_the_translation_after_the_stage_it_was_in() -> None:
    with pytest.raises(OverBudget, match="ran out of the turn's time after decoded") as caught:
        translator().translate(b'{"a": 1}', deadline=time.monotonic() - 1)
    assert (caught.value.stage, caught.value.code) == ("process", "over_budget")
    assert "worker.turn_budget_seconds" in (caught.value.hint or "")


def test_a_mapping_that_takes_cancel_is_told_the_deadline_and_stops_at_it() -> None:
    mapping = Stoppable(work=30)
    started = time.monotonic()
    with pytest.raises(OverBudget, match="mapping copy ran out of the turn's time") as caught:
        translator(mapping).translate(b'{"a": 1}', deadline=time.monotonic() + 0.2)
    assert time.monotonic() - started < 10  # stopped by the deadline, not after 30 s
    assert isinstance(mapping.given[0], PastDeadline)
    assert caught.value.mapping == ("copy", "0" * 16)  # the dead letter names the version


def test_a_mapping_within_the_deadline_runs_as_always() -> None:
    mapping = Stoppable()
    out = translator(mapping).translate(b'{"a": 1}', deadline=time.monotonic() + 60)
    assert out.body == b'{"a": 1}'
    assert isinstance(mapping.given[0], PastDeadline)


def test_a_mapping_without_cancel_is_called_as_before() -> None:
    out = translator(Plain()).translate(b'{"a": 1}', deadline=time.monotonic() + 60)
    assert out.mapping_name == "plain"


def test_past_deadline_is_set_once_the_time_has_come() -> None:
    assert PastDeadline(time.monotonic() - 1).is_set()
    assert not PastDeadline(time.monotonic() + 60).is_set()
