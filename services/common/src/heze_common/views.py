"""Persistent read models: tables in the service's own database, kept up to date from its
notification log, read with asyncpg.

The `eventsourcing` library's model, with batches: an updater reads the notifications its views
follow after the position recorded in `tracking`, and applies a batch (up to `BATCH` events)
to the view tables and the new position in one transaction, so a view never holds an event
twice or misses one, whatever crashes. The transaction first takes an advisory lock, so several
replicas of a service can run updaters on one database: one applies a batch, the others then
find the position moved and skip what it did.

The views of a service live in one PostgreSQL schema, `views`, with its `tracking` row. A
rebuild makes them anew in `views_rebuilt` from the whole log while the live ones keep serving
and being updated; then, under the lock, it brings both to the same position, compares them
table by table, and switches by renaming the schemas in one transaction: a reader sees the old
views or the new, never half. Queries name their tables unqualified, through the `search_path`
of the query pool, so after a switch they read the new schema.
"""

from __future__ import annotations

import asyncio
import json
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, ClassVar, NamedTuple
from urllib.parse import quote
from uuid import UUID

import asyncpg
import structlog
from eventsourcing.persistence import Notification
from fastapi import Depends, Request
from psycopg import ClientCursor, Cursor, sql
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from heze_common.cancellation import stop_if_cancelled
from heze_common.errors import InvalidInput
from heze_common.eventstore import ServiceApplication
from heze_common.handover import consumed_behind
from heze_common.rebuild_workers import Folded, Recipe, folded_in_workers, ranges
from heze_common.settings import ServiceSettings
from heze_common.wakeups import new_events

log = structlog.get_logger(__name__)

LIVE = "views"
REBUILT = "views_rebuilt"
RETIRED = "views_retired"
INCOMPLETE = "incomplete_tables"
"""The live schema's list of tables created after the views had followed part of the log."""
BATCH = 2000
ANALYZE_AFTER = 50_000
"""Events applied in one catch-up after which the tables' statistics are gathered again."""
MAX_RETRY_SECONDS = 30.0


Change = tuple[str, Any]
"""("=", value) sets a column, ("+", amount) adds to it."""

RowKey = tuple[tuple[str, ...], tuple[Any, ...]]
"""(key columns, key values): one row of a view's table."""


@dataclass
class _Upsert:
    values: dict[str, Any]
    """Written whether the row is new or not."""
    on_insert: dict[str, Any]
    """Written only into a new row."""


@dataclass
class _Table:
    """A table's writes held: plain inserts by their columns, and each row's folded write."""

    inserts: dict[tuple[str, ...], list[tuple[Any, ...]]] = field(default_factory=dict)
    rows: dict[RowKey, _Upsert | dict[str, Change]] = field(default_factory=dict)
    key_columns: set[tuple[str, ...]] = field(default_factory=set)


class Rows:
    """What a view's handler writes through: the transaction's cursor, with `{schema}` in each
    statement standing for the schema being written (the live views or the rebuilt ones), and
    the position in the log of the event being applied (a unique key in log order).

    Writes are held and sent at `flush` (the end of a batch) as one multi-statement query, in
    log order. Rows inserted (`insert`, `upsert`) and changes to rows by key (`set`, `add`) are
    folded in memory: a batch's inserts into one table become one `INSERT … SELECT FROM
    unnest(…)`, and its writes to one row (a trainee's enrolment, sessions, exam and completion)
    one write, sent with the others of its shape in one statement. Any other statement
    (`execute`) is a barrier for the tables it names (all, unless it names them): what was
    folded for them before it is written before it, so it sees them as the log left them at its
    event. Values are bound client-side (psycopg's `ClientCursor.mogrify`, which quotes each
    value as a literal)."""

    def __init__(self, cursor: Cursor[DictRow], schema: str, types: ColumnTypes) -> None:
        self.cursor = cursor
        self.schema = schema
        self.position = 0
        self._types = types
        self._binder = ClientCursor(cursor.connection)
        self._held: list[str] = []
        self._tables: dict[str, _Table] = {}

    def execute(
        self, statement: str, params: Sequence[Any] = (), *, tables: Sequence[str] | None = None
    ) -> None:
        """Hold `statement`, after the folded writes of `tables` (of every table when None):
        name every table the statement reads or writes."""
        self._write_folded(tables)
        self._hold(statement, params)

    def insert(self, table: str, values: Mapping[str, Any]) -> None:
        """`INSERT INTO table (columns) VALUES (values)`, with the batch's other inserts."""
        held = self._table(table)
        for key_columns in held.key_columns:
            if all(column in values for column in key_columns):
                key = (key_columns, tuple(values[column] for column in key_columns))
                if key in held.rows:
                    self._write_folded([table])  # a write held for the row must not pass it
                    held = self._table(table)
                    break
        held.inserts.setdefault(tuple(values), []).append(tuple(values.values()))

    def upsert(
        self,
        table: str,
        key: Mapping[str, Any],
        values: Mapping[str, Any],
        on_insert: Mapping[str, Any] | None = None,
    ) -> None:
        """`INSERT … ON CONFLICT (key) DO UPDATE SET values`: the row with `values`, and with
        `on_insert` too when it is new."""
        row = (tuple(key), tuple(key.values()))
        held = self._table(table).rows.get(row)
        if isinstance(held, dict):
            self._write_folded([table])  # changes held for the row go first
            held = None
        if held is None:
            self._hold_row(table, row, _Upsert(dict(values), dict(on_insert or {})))
        else:
            held.values.update(values)  # a new row keeps what it was inserted with
            for column, value in (on_insert or {}).items():
                held.on_insert.setdefault(column, value)

    def set(self, table: str, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        """`UPDATE table SET column = value, … WHERE key`, folded with the row's other writes."""
        held = self._changes(table, key)
        for column, value in values.items():
            if isinstance(held, _Upsert):
                held.values[column] = value
                held.on_insert.pop(column, None)
            else:
                held[column] = ("=", value)

    def add(self, table: str, key: Mapping[str, Any], amounts: Mapping[str, Any]) -> None:
        """`UPDATE table SET column = column + amount, … WHERE key`, folded likewise."""
        held = self._changes(table, key)
        if isinstance(held, _Upsert) and not set(amounts) <= set(held.values):
            self._write_folded([table])  # the row's value is in the table, not here
            held = self._changes(table, key)
        for column, amount in amounts.items():
            if isinstance(held, _Upsert):
                held.values[column] += amount
            else:
                operation, value = held.get(column, ("+", 0))
                held[column] = (operation, value + amount)

    def flush(self) -> None:
        """Send everything held, in order, in one query."""
        if query := self.take():
            self.cursor.execute(query)

    def take(self) -> bytes:
        """Everything held, in order, as one query (empty when nothing is), no longer held."""
        self._write_folded(None)
        query = ";\n".join(self._held).encode()
        self._held = []
        return query

    def _table(self, table: str) -> _Table:
        held = self._tables.get(table)
        if held is None:
            held = self._tables[table] = _Table()
        return held

    def _hold_row(self, table: str, row: RowKey, write: _Upsert | dict[str, Change]) -> None:
        held = self._table(table)
        held.rows[row] = write
        held.key_columns.add(row[0])

    def _changes(self, table: str, key: Mapping[str, Any]) -> _Upsert | dict[str, Change]:
        row = (tuple(key), tuple(key.values()))
        held = self._table(table).rows.get(row)
        if held is None:
            held = {}
            self._hold_row(table, row, held)
        return held

    def _hold(self, statement: str, params: Sequence[Any]) -> None:
        named = statement.replace("{schema}", f'"{self.schema}"')
        self._held.append(self._binder.mogrify(named, params) if params else named)

    def _write_folded(self, tables: Sequence[str] | None) -> None:
        """Hold the folded writes of `tables` (every table when None) as statements."""
        names = list(self._tables) if tables is None else [t for t in tables if t in self._tables]
        for name in names:
            self._write_table(name, self._tables.pop(name))

    def _write_table(self, table: str, held: _Table) -> None:
        """Inserts, then upserts, then changes: a row has either an upsert or changes held, and
        an insert of a row with a write held comes after it, so this is the log's order for
        every row."""
        for columns, rows in held.inserts.items():
            self._hold_unnest(
                f"INSERT INTO {{schema}}.{table} ({', '.join(columns)}) SELECT * FROM {{rows}}",
                table,
                columns,
                rows,
            )
        upserts: dict[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], list] = {}
        changes: dict[tuple[tuple[str, ...], tuple[Change, ...]], list] = {}
        for (key_columns, key_values), write in held.rows.items():
            if isinstance(write, _Upsert):
                values, inserted = sorted(write.values.items()), sorted(write.on_insert.items())
                shape = (key_columns, *(tuple(c for c, _ in v) for v in (values, inserted)))
                row = (*key_values, *(v for _, v in values), *(v for _, v in inserted))
                upserts.setdefault(shape, []).append(row)  # type: ignore[arg-type]
            else:
                ordered = sorted(write.items())
                shape = (key_columns, tuple((c, operation) for c, (operation, _) in ordered))
                changes.setdefault(shape, []).append((*key_values, *(v for _, (_, v) in ordered)))
        for (key_columns, updated, inserted), rows in upserts.items():
            assignments = ", ".join(f"{column} = EXCLUDED.{column}" for column in updated)
            columns = (*key_columns, *updated, *inserted)
            self._hold_unnest(
                f"INSERT INTO {{schema}}.{table} ({', '.join(columns)}) SELECT * FROM {{rows}}"
                f" ON CONFLICT ({', '.join(key_columns)}) DO "
                + (f"UPDATE SET {assignments}" if assignments else "NOTHING"),
                table,
                columns,
                rows,
            )
        for (key_columns, shape), rows in changes.items():
            assignments = ", ".join(
                f"{column} = u.{column}"
                if operation == "="
                else f"{column} = t.{column} + u.{column}"
                for column, operation in shape
            )
            matches = " AND ".join(f"t.{column} = u.{column}" for column in key_columns)
            self._hold_unnest(
                f"UPDATE {{schema}}.{table} AS t SET {assignments} FROM {{rows}} WHERE {matches}",
                table,
                (*key_columns, *(column for column, _ in shape)),
                rows,
            )

    def _hold_unnest(
        self, statement: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Hold `statement` with `{rows}` standing for the rows as `unnest(…) AS u(columns)`."""
        types = self._types.of(self.cursor, self.schema, table)
        arrays = ", ".join(f"%s::{types[column]}[]" for column in columns)
        self._hold(
            statement.replace("{rows}", f"unnest({arrays}) AS u({', '.join(columns)})"),
            [array_literal(column) for column in zip(*rows, strict=True)],
        )


def array_literal(values: Sequence[Any]) -> str:
    """The text of a PostgreSQL array of `values` (cast to the column's array type where it is
    used): text double-quoted with its backslashes and quotes escaped, None as NULL. Much
    cheaper than adapting every element: a batch's folded writes hold thousands."""
    return "{" + ",".join(map(_array_element, values)) + "}"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_ELEMENT_TEXT: dict[type, Callable[[Any], str]] = {
    str: _quoted,
    UUID: str,  # these print no quote, comma, brace or space
    int: str,
    Decimal: str,
    bool: lambda value: "t" if value else "f",
    date: date.isoformat,
    datetime: datetime.isoformat,  # with its time zone
    type(None): lambda _: "NULL",
    Jsonb: lambda value: _quoted(json.dumps(value.obj, ensure_ascii=False)),
}


def _array_element(value: Any) -> str:
    text = _ELEMENT_TEXT.get(type(value))
    if text is not None:
        return text(value)
    if isinstance(value, Enum):
        return _quoted(str(value.value))
    raise TypeError(f"a folded view write holds {type(value).__name__}, which has no text form")


class ColumnTypes:
    """The SQL type of each column of the views' tables, read once from the catalogue (the live
    and the rebuilt schemas have the same tables)."""

    def __init__(self) -> None:
        self.known: dict[str, dict[str, str]] = {}

    def of(self, cursor: Cursor[DictRow], schema: str, table: str) -> dict[str, str]:
        if table not in self.known:
            cursor.execute(
                "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (f'"{schema}"."{table}"',),
            )
            self.known[table] = {row["attname"]: row["type"] for row in cursor.fetchall()}
        return self.known[table]


Handler = Callable[[Rows, Any], None]


class View:
    """A read model as tables: its `tables` (CREATE TABLE and CREATE INDEX statements, with
    `{schema}` for the schema) and, per domain event class it follows, a handler that writes the
    event's effect through `Rows`."""

    tables: ClassVar[Sequence[str]] = ()
    table_names: ClassVar[Sequence[str]] = ()

    def handlers(self) -> Mapping[type, Handler]:
        raise NotImplementedError


class Step(NamedTuple):
    """One batch of an updater: notifications read, events applied, the position reached."""

    read: int
    applied: int
    position: int


@dataclass(frozen=True)
class RebuildReport:
    events_replayed: int
    position: int
    differences: list[str]
    """Tables whose rebuilt rows differ from the live ones (then no switch happened)."""
    completed: list[str] = field(default_factory=list)
    """Tables created after their history, which the switch filled from the whole log."""


class RebuildRunning(Exception):
    """Another rebuild of these views runs (another request, or another replica)."""


class ViewUpdater:
    """Keeps a service's views up to date from its notification log."""

    def __init__(
        self,
        app: ServiceApplication,
        views: Sequence[View],
        *,
        create_tables: bool = True,
        analyze_after: int = ANALYZE_AFTER,
    ) -> None:
        self.app = app
        self.views = list(views)
        self.routes: dict[str, list[Handler]] = {}
        for view in self.views:
            for event_class, handler in view.handlers().items():
                self.routes.setdefault(event_class.TOPIC, []).append(handler)
        self.position = 0
        """The live views' position as this process last saw it."""
        self.column_types = ColumnTypes()
        self.analyze_after = analyze_after
        self._lock = threading.Lock()
        self._lock_key = zlib.crc32(f"views:{app.name}".encode())
        self._rebuild_lock_key = zlib.crc32(f"views-rebuild:{app.name}".encode())
        if create_tables:
            self._create(LIVE)

    # Schema ------------------------------------------------------------------------------------

    def _create(self, schema: str) -> None:
        """The schema's tables, made where missing. A table made while the views have already
        followed part of the log (a view added by an upgrade) lacks that part: it is listed in
        `incomplete_tables` until a rebuild fills it (`complete_if_needed`)."""
        with self.app.recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
            existing = {row["tablename"] for row in cursor.fetchall()}
            cursor.execute(
                f'CREATE TABLE IF NOT EXISTS "{schema}".tracking (only_row BOOLEAN PRIMARY KEY'
                " DEFAULT TRUE CHECK (only_row), position BIGINT NOT NULL)"
            )
            cursor.execute(
                f'INSERT INTO "{schema}".tracking (position) VALUES (0) ON CONFLICT DO NOTHING'
            )
            cursor.execute(
                f'CREATE TABLE IF NOT EXISTS "{schema}".{INCOMPLETE} (table_name TEXT PRIMARY KEY,'
                " created_at_position BIGINT NOT NULL)"
            )
            position = self._position(cursor, schema)
            rows = Rows(cursor, schema, self.column_types)
            for view in self.views:
                for statement in view.tables:
                    rows.execute(statement)
            rows.flush()
            missed = [t for t in self._tables() if t not in existing] if position else []
            for table in missed:
                cursor.execute(
                    f'INSERT INTO "{schema}".{INCOMPLETE} VALUES (%s, %s) ON CONFLICT DO NOTHING',
                    (table, position),
                )
        if missed:
            log.warning(
                "read-model tables created after their history; a rebuild fills them",
                service=self.app.name,
                tables=missed,
                position=position,
            )

    def incomplete_tables(self) -> list[str]:
        """The live tables that lack the part of the log before they were made."""
        with self.app.recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            return self._incomplete(cursor)

    @staticmethod
    def _incomplete(cursor: Cursor[DictRow]) -> list[str]:
        cursor.execute("SELECT to_regclass(%s) AS listed", (f'"{LIVE}".{INCOMPLETE}',))
        row = cursor.fetchone()
        if row is None or row["listed"] is None:  # made by an older release: nothing listed
            return []
        cursor.execute(f'SELECT table_name FROM "{LIVE}".{INCOMPLETE} ORDER BY table_name')
        return [row["table_name"] for row in cursor.fetchall()]

    def complete_if_needed(self) -> RebuildReport | None:
        """Fill the incomplete tables by a rebuild, unless another rebuild runs; None if there
        was nothing to fill or another one runs."""
        if not self.incomplete_tables():
            return None
        try:
            report = self.rebuild_and_switch()
        except RebuildRunning:
            return None
        log.info(
            "read-model tables filled from the whole log",
            service=self.app.name,
            tables=report.completed,
            differences=report.differences,
        )
        return report

    # Updating ----------------------------------------------------------------------------------

    def catch_up(self, until: int | None = None) -> int:
        """Apply what the live views lack (up to `until`); return their position. After a
        large catch-up (a start on a long log), the tables' statistics are gathered at once:
        without them the planner would choose plans for empty tables until autovacuum came."""
        with self._lock:
            applied = 0
            while (step := self._apply_batch(LIVE, until)).read:
                applied += step.applied
            if applied >= self.analyze_after:
                self._analyze(LIVE)
            return self.position

    def _analyze(self, schema: str) -> None:
        with self.app.recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            for table in self._tables():
                cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table)))

    def _apply_batch(self, schema: str, until: int | None) -> Step:
        """One transaction: lock, apply the next batch up to `until` (or the head), record the
        position."""
        with self.app.recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            # Every event up to the head is committed (the store's table lock assigns positions
            # in commit order), so a view may move to it past events it does not follow.
            head = self.app.recorder.max_notification_id() or 0
            step = self._advance(cursor, schema, head if until is None else min(until, head))
        if schema == LIVE:
            self.position = step.position
        return step

    def _advance(self, cursor: Cursor[DictRow], schema: str, stop: int) -> Step:
        """In the caller's transaction: apply the next batch of `schema`'s events up to `stop`
        and record the new position."""
        position = self._position(cursor, schema)
        notifications = self.app.recorder.select_notifications(position + 1, BATCH, stop)
        position = notifications[-1].id if notifications else max(position, stop)
        query, applied = self.fold_into_query(cursor, schema, notifications)
        if query:
            cursor.execute(query)  # one round trip for the batch, not one per row
        cursor.execute(f'UPDATE "{schema}".tracking SET position = %s', (position,))
        return Step(len(notifications), applied, position)

    def fold_into_query(
        self, cursor: Cursor[DictRow], schema: str, notifications: Sequence[Notification]
    ) -> tuple[bytes, int]:
        """The effect on `schema` of the notifications the views follow, as one query, and how
        many they follow. Each event is decoded as it is applied, so that a batch's events are
        not all alive at once (which would make the garbage collector's passes longer)."""
        rows = Rows(cursor, schema, self.column_types)
        applied = 0
        for notification in notifications:
            handlers = self.routes.get(notification.topic)
            if handlers is None:
                continue  # read with the rest: filtering by topic costs the server more
            event = self.app.mapper.to_domain_event(notification)
            rows.position = notification.id
            for handler in handlers:
                handler(rows, event)
            applied += 1
        return rows.take(), applied

    @staticmethod
    def _position(cursor: Cursor[DictRow], schema: str) -> int:
        cursor.execute(f'SELECT position FROM "{schema}".tracking')
        row = cursor.fetchone()
        return int(row["position"]) if row else 0

    async def run(self, poll_seconds: float, fallback_seconds: float) -> None:
        """Follow the log for ever, woken by the store's notifications (polling as fallback)."""
        async with new_events(
            self.app.recorder, poll_seconds=poll_seconds, fallback_seconds=fallback_seconds
        ) as wakeup:
            backoff = poll_seconds
            while True:
                try:
                    await asyncio.to_thread(self.catch_up)
                except Exception:
                    stop_if_cancelled()
                    log.exception("updating the views failed; retrying", service=self.app.name)
                    await asyncio.sleep(backoff)  # the database away, or a handler's bug
                    backoff = min(backoff * 2, MAX_RETRY_SECONDS)
                    continue
                backoff = poll_seconds
                await wakeup.wait()

    # Rebuilding --------------------------------------------------------------------------------

    def rebuild_and_switch(self) -> RebuildReport:
        """Build the views anew beside the live ones, compare, and switch if they agree (an
        incomplete table may differ: the rebuilt one is whole). One rebuild at a time per
        database, whichever process asks (`RebuildRunning` otherwise)."""
        datastore = self.app.recorder.datastore  # type: ignore[attr-defined]
        # A session lock on a connection of its own, outside any transaction (an idle
        # transaction would be ended by the server's timeout), held to the end.
        with datastore.get_connection() as holder:
            holder.autocommit = True
            try:
                locked = holder.execute(
                    "SELECT pg_try_advisory_lock(%s) AS locked", (self._rebuild_lock_key,)
                ).fetchone()
                if not (locked and locked["locked"]):
                    raise RebuildRunning(f"a rebuild of {self.app.name}'s views runs")
                try:
                    return self._rebuild_and_switch(datastore)
                finally:
                    holder.execute("SELECT pg_advisory_unlock(%s)", (self._rebuild_lock_key,))
            finally:
                holder.autocommit = False

    def _rebuild_and_switch(self, datastore: Any) -> RebuildReport:
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{REBUILT}" CASCADE')
        self._create(REBUILT)
        replayed = self._replay_into_rebuilt()  # the live views keep serving meanwhile
        self._analyze(REBUILT)  # new tables: the planner must know them before they serve
        with self._lock, datastore.transaction(commit=True) as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            head = self.app.recorder.max_notification_id() or 0
            self._catch_up_in(cursor, LIVE, head)  # both to one position, updaters held off
            replayed += self._catch_up_in(cursor, REBUILT, head)
            incomplete = self._incomplete(cursor)
            differing = [table for table in self._tables() if self._differs(cursor, table)]
            differences = [table for table in differing if table not in incomplete]
            if not differences:
                cursor.execute(f'ALTER SCHEMA "{LIVE}" RENAME TO "{RETIRED}"')
                cursor.execute(f'ALTER SCHEMA "{REBUILT}" RENAME TO "{LIVE}"')
                cursor.execute(f'DROP SCHEMA "{RETIRED}" CASCADE')
            self.position = head
        return RebuildReport(replayed, head, differences, [] if differences else incomplete)

    def _replay_into_rebuilt(self) -> int:
        """The bulk of a rebuild, up to the head as it starts: ranges of the log selected,
        decoded and folded side by side in worker processes (`heze_common.rebuild_workers`),
        and written here in log order, each with its position in its own transaction, while
        the workers fold the next. Returns the events applied."""
        head = self.app.recorder.max_notification_id() or 0
        datastore = self.app.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=False) as cursor:
            for table in self._tables():
                self.column_types.of(cursor, REBUILT, table)
        recipe = Recipe(
            self.app.settings,
            [type(view) for view in self.views],
            self.column_types.known,
            REBUILT,
            self.app.holds_personal_data,
        )

        def write(parts: Iterator[Folded]) -> None:
            for part in parts:
                with datastore.transaction(commit=True) as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                    if part.query:
                        cursor.execute(part.query)
                    cursor.execute(f'UPDATE "{REBUILT}".tracking SET position = %s', (part.stop,))

        replayed = 0
        workers = self.app.settings.view_rebuild_workers
        with consumed_behind(write) as write_later:
            for part in folded_in_workers(recipe, ranges(head, BATCH), workers):
                write_later(part)
                replayed += part.applied
        return replayed

    def _catch_up_in(self, cursor: Cursor[DictRow], schema: str, head: int) -> int:
        applied = 0
        while (step := self._advance(cursor, schema, head)).read:
            applied += step.applied
        return applied

    def _tables(self) -> list[str]:
        return [table for view in self.views for table in view.table_names]

    @staticmethod
    def _differs(cursor: Cursor[DictRow], table: str) -> bool:
        live, rebuilt = (sql.Identifier(s, table) for s in (LIVE, REBUILT))
        cursor.execute(
            sql.SQL(
                "SELECT EXISTS (SELECT * FROM {0} EXCEPT ALL SELECT * FROM {1})"
                " OR EXISTS (SELECT * FROM {1} EXCEPT ALL SELECT * FROM {0}) AS differs"
            ).format(live, rebuilt)
        )
        row = cursor.fetchone()
        return bool(row and row["differs"])


class ViewReader:
    """The query side: an asyncpg pool on the service's database, reading the live views.

    Every query first compares the log's head with the views' position, in one round trip, and
    brings the views up to the head when they lag: a reader always sees every write committed
    before it asked, its own included, whichever replica wrote it.
    """

    def __init__(self, pool: asyncpg.Pool, updater: ViewUpdater) -> None:
        self.pool = pool
        self.updater = updater
        recorder = updater.app.recorder
        events = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'  # type: ignore[attr-defined]
        self._lag = (
            f"SELECT (SELECT max(notification_id) FROM {events}) AS head,"
            " (SELECT position FROM tracking) AS position"
        )

    async def _caught_up(self, connection: asyncpg.Connection) -> None:
        row = await connection.fetchrow(self._lag)
        if row and row["head"] and row["head"] > row["position"]:
            await asyncio.to_thread(self.updater.catch_up, row["head"])

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.pool.acquire() as connection:
            await self._caught_up(connection)
            return list(await connection.fetch(query, *args))

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.pool.acquire() as connection:
            await self._caught_up(connection)
            return await connection.fetchrow(query, *args)

    async def stream(self, query: str, *args: Any) -> AsyncIterator[asyncpg.Record]:
        """The rows of `query` as the server hands them out, a few hundred at a time through a
        cursor, all from one snapshot: a report of any size in bounded memory."""
        async with self.pool.acquire() as connection:
            await self._caught_up(connection)
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                async for row in connection.cursor(query, *args, prefetch=500):
                    yield row

    async def ensure_cursor(self, after: object, item: str, query: str, *args: Any) -> None:
        """422 `unknown_cursor` (field `after`) unless the page cursor `after` names an item of
        the list: `query` selects that item with `args`. No cursor, nothing to check."""
        if after is not None and await self.fetchrow(query, *args) is None:
            raise InvalidInput(
                "unknown_cursor",
                f"no {item} with that id in this list to page after",
                field="after",
            )


def views_of(request: Request) -> ViewReader:
    """The service's view reader (a FastAPI dependency)."""
    return request.app.state.views  # type: ignore[no-any-return]


Views = Annotated[ViewReader, Depends(views_of)]


def asyncpg_dsn(settings: ServiceSettings) -> str:
    env = settings.postgres_env()
    password = quote(env["POSTGRES_PASSWORD"], safe="")
    user = quote(env["POSTGRES_USER"], safe="")
    auth = f"{user}:{password}" if password else user
    return f"postgresql://{auth}@{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}"


@asynccontextmanager
async def view_reader(settings: ServiceSettings, updater: ViewUpdater) -> AsyncIterator[ViewReader]:
    async def decode_json(connection: asyncpg.Connection) -> None:
        await connection.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )

    pool = await asyncpg.create_pool(
        asyncpg_dsn(settings),
        init=decode_json,
        min_size=1,
        max_size=settings.postgres_pool_size,
        # Prepared statements name tables by identity: after a rebuild's switch they would
        # still point at the retired ones, so statements are prepared per query.
        statement_cache_size=0,
        server_settings={"search_path": LIVE},
    )
    try:
        yield ViewReader(pool, updater)
    finally:
        await pool.close()


class CaughtUpViews:
    """A service's live views read from synchronous code outside a request (a watcher, a sweep,
    the auditors' trail, in worker threads of the service process).

    Each query first brings the views up to the log's head, so it finds everything committed
    before it asked. It does so through an updater of its own, beside the service's: the two
    share the advisory lock, so each event is still applied once. The service creates the
    tables as it starts."""

    def __init__(self, app: ServiceApplication, views: Sequence[type[View]]) -> None:
        self.app = app
        self.updater = ViewUpdater(app, [view() for view in views], create_tables=False)

    def ids(self, query: str, params: tuple[object, ...]) -> list[Any]:
        """The first column of each row of `query` (`{schema}` standing for the live views)."""
        self.updater.catch_up()
        with self.app.recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            cursor.execute(query.replace("{schema}", f'"{LIVE}"'), params)
            return [next(iter(row.values())) for row in cursor.fetchall()]
