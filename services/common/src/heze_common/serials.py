"""Serial numbers for certificates: each series (one certificate prefix in one year, e.g. HZSZ
2026) counts 1, 2, 3, ... and never hands out a number twice, at a cost that does not grow with
how many it has handed out.

On PostgreSQL each series is a database sequence, created the first time it is drawn from. A
sequence is not transactional: a number drawn by a command whose save then fails (a concurrent
write to the same aggregate, a lost connection, a crash) is skipped, never reused. So serials can
have gaps, never repeats; a command checks its rules before it draws, so a refusal costs none.
When the store is in memory (the fast tier), so are the counters.
"""

from __future__ import annotations

import hashlib
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder
from eventsourcing.popo import POPORecorder
from eventsourcing.postgres import PostgresDatastore, PostgresRecorder
from psycopg import sql

PREFIX_PATTERN = re.compile(r"^[A-Z]{2,8}$")


@dataclass(frozen=True)
class Series:
    """One run of serials: the certificates of one prefix issued in one year."""

    prefix: str
    year: int

    def __post_init__(self) -> None:
        if not PREFIX_PATTERN.match(self.prefix):
            raise ValueError(f"a series prefix is 2 to 8 capital letters, got {self.prefix!r}")
        if not 1000 <= self.year <= 9999:
            raise ValueError(f"a series year has four digits, got {self.year}")

    @property
    def sequence_name(self) -> str:
        return f"serial_{self.prefix.lower()}_{self.year}"


def nothing_before() -> int:
    return 0


class SerialNumbers(ABC):
    """Where an application draws the serials of its certificate numbers."""

    @abstractmethod
    def draw(self, series: Series, *, issued_before: Callable[[], int] = nothing_before) -> int:
        """The next serial of `series`, never drawn before. `issued_before` says how many serials
        of the series were handed out before it was kept here (by a retired yearly register); it
        is asked once per process, when the series is first drawn from."""


class PostgresSerialNumbers(SerialNumbers):
    """A sequence per series (`serial_hzsz_2026`) in the event store's own database, reached
    through the event store's connection pool."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore
        self._opened: set[Series] = set()  # opening twice is harmless, so no lock

    def draw(self, series: Series, *, issued_before: Callable[[], int] = nothing_before) -> int:
        if series not in self._opened:
            self._open(series, issued_before())
            self._opened.add(series)
        with self._datastore.transaction(commit=True) as cursor:
            sequence = self._sequence(series).as_string(cursor)
            cursor.execute("SELECT nextval(%s::regclass) AS serial", [sequence])
            row = cursor.fetchone()
        assert row is not None
        return int(row["serial"])

    def _open(self, series: Series, issued_before: int) -> None:
        sequence = self._sequence(series)
        with self._datastore.transaction(commit=True) as cursor:
            # Two concurrent CREATE SEQUENCE IF NOT EXISTS of one name can both miss the other's
            # and one then fails on the catalogue's unique index: the openers of a series queue.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(series)])
            cursor.execute(
                sql.SQL(
                    "CREATE SEQUENCE IF NOT EXISTS {} AS bigint MINVALUE 1 START WITH {}"
                ).format(sequence, sql.Literal(issued_before + 1))
            )

    def _sequence(self, series: Series) -> sql.Identifier:
        return sql.Identifier(self._datastore.schema, series.sequence_name)


class MemorySerialNumbers(SerialNumbers):
    """Counters in memory, for an application whose event store is in memory: they live and die
    with it."""

    def __init__(self) -> None:
        self._last: dict[Series, int] = {}
        self._lock = threading.Lock()

    def draw(self, series: Series, *, issued_before: Callable[[], int] = nothing_before) -> int:
        with self._lock:
            last = self._last[series] if series in self._last else issued_before()
            self._last[series] = last + 1
            return last + 1


def serial_numbers_for(recorder: object) -> SerialNumbers:
    """The serials beside an application's event store: in its PostgreSQL database, or in memory
    when the store is in memory."""
    if isinstance(recorder, PostgresRecorder):
        return PostgresSerialNumbers(recorder.datastore)
    if isinstance(recorder, POPORecorder):
        return MemorySerialNumbers()
    raise TypeError(f"no serial numbers beside an event store kept by {type(recorder).__name__}")


def issued_by_retired_register(recorder: AggregateRecorder, register_id: UUID) -> int:
    """How many numbers a retired yearly register handed out: it was an aggregate with one event
    that opened it and one per number, so its last version says (no need to load it)."""
    last = recorder.select_events(register_id, desc=True, limit=1)
    return last[0].originator_version - 1 if last else 0


def _lock_key(series: Series) -> int:
    """A signed 64-bit advisory lock key of the series, stable across processes."""
    digest = hashlib.sha256(f"heze serial {series.sequence_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
