"""A stage in a thread of its own (heze_common.handover): every item arrives in order, either
side's error is raised in the caller, and no thread outlives its block, however it ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from heze_common.handover import consumed_behind


def stage_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("behind-")]


def test_a_consumer_behind_takes_every_item_in_order() -> None:
    taken: list[int] = []

    def keep(items: Iterator[int]) -> None:
        taken.extend(items)

    with consumed_behind(keep) as hand:
        for n in range(1000):
            hand(n)
    assert taken == list(range(1000))  # all of it, by the time the block is left
    assert stage_threads() == []


def test_a_consumers_error_is_raised_in_the_caller() -> None:
    def failing(items: Iterator[int]) -> None:
        for n in items:
            if n == 3:
                raise ValueError("a write failed")

    with pytest.raises(ValueError, match="a write failed"), consumed_behind(failing) as hand:
        for n in range(1000):
            hand(n)
    assert stage_threads() == []


def test_a_failing_caller_stops_the_consumer_and_keeps_its_own_error() -> None:
    taken: list[int] = []

    def keep(items: Iterator[int]) -> None:
        taken.extend(items)

    with pytest.raises(KeyError), consumed_behind(keep) as hand:
        hand(1)
        raise KeyError("the caller's own failure")
    assert taken == [1]
    assert stage_threads() == []
