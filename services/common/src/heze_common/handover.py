"""A stage of work in a thread of its own, joined to the caller by a bounded queue, so that its
waits on the database overlap the caller's work: `consumed_behind` runs a consumer behind the
caller. The consumer's error is raised in the caller, and its thread does not outlive the
block."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_POLL_SECONDS = 0.1
"""How often a stage blocked on a full queue looks whether the other side has stopped."""


class _End:
    """Put after the last item."""


@contextmanager
def consumed_behind(
    consume: Callable[[Iterator[T]], None], ahead: int = 1
) -> Iterator[Callable[[T], None]]:
    """A function handing items to `consume`, which takes them in a thread of its own, at most
    `ahead` behind. Leaving the block waits until everything handed over is consumed; the
    consumer's error is raised in the caller."""
    items: queue.Queue[T | _End] = queue.Queue(maxsize=ahead)
    failures: list[BaseException] = []

    def hand(item: T | _End) -> None:
        while not failures and thread.is_alive():
            with contextlib.suppress(queue.Full):
                items.put(item, timeout=_POLL_SECONDS)
                return
        raise failures[0] if failures else RuntimeError(f"{consume.__name__} stopped early")

    def taken() -> Iterator[T]:
        while not isinstance(item := items.get(), _End):
            yield item

    def run() -> None:
        try:
            consume(taken())
        except BaseException as error:  # raised again in the caller
            failures.append(error)

    thread = threading.Thread(target=run, name=f"behind-{consume.__name__}", daemon=True)
    thread.start()
    try:
        yield hand
        hand(_End())
    finally:
        if thread.is_alive() and not failures:  # the block failed: the consumer stops too
            with contextlib.suppress(BaseException):
                hand(_End())
        thread.join()
    if failures:
        raise failures[0]
