"""Stages of work in threads of their own, joined by bounded queues, so that one stage's waits
on the database overlap another's work: `produced_ahead` runs a producer beside the caller,
`consumed_behind` a consumer. Either side's error is raised in the caller, and neither thread
outlives the block."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

_POLL_SECONDS = 0.1
"""How often a stage blocked on a full queue looks whether the other side has stopped."""


class _End:
    """Put after the last item."""


@dataclass(frozen=True)
class _Failed:
    error: BaseException


@contextmanager
def produced_ahead(produce: Callable[[], Iterable[T]], ahead: int = 1) -> Iterator[Iterator[T]]:
    """Iterate what `produce` yields, made in a thread of its own up to `ahead` items early."""
    items: queue.Queue[T | _End | _Failed] = queue.Queue(maxsize=ahead)
    stopped = threading.Event()

    def hand(item: T | _End | _Failed) -> bool:
        while not stopped.is_set():
            with contextlib.suppress(queue.Full):
                items.put(item, timeout=_POLL_SECONDS)
                return True
        return False

    def run() -> None:
        try:
            for item in produce():
                if not hand(item):
                    return
            hand(_End())
        except BaseException as error:  # raised again in the caller
            hand(_Failed(error))

    def taken() -> Iterator[T]:
        while not isinstance(item := items.get(), _End):
            if isinstance(item, _Failed):
                raise item.error
            yield item

    thread = threading.Thread(target=run, name=f"ahead-{produce.__name__}", daemon=True)
    thread.start()
    try:
        yield taken()
    finally:
        stopped.set()
        thread.join()


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
