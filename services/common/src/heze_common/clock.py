"""The one source of time for every service, so tests (and auditors' replays) can move it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current instant, always timezone-aware UTC."""
    return _now()


def today() -> date:
    """The current date in China Standard Time: deadlines and ages are counted in local days."""
    return (now() + timedelta(hours=8)).date()


def set_clock(source: Callable[[], datetime]) -> None:
    global _now
    _now = source


@contextmanager
def frozen_at(instant: datetime) -> Iterator[None]:
    """Fix the clock at `instant` for the duration of the block."""
    if instant.tzinfo is None:
        raise ValueError("frozen_at needs a timezone-aware instant")
    previous = _now
    set_clock(lambda: instant.astimezone(UTC))
    try:
        yield
    finally:
        set_clock(previous)
