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
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar
from urllib.parse import quote

import asyncpg
import structlog
from eventsourcing.persistence import Notification
from fastapi import Depends, Request
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from heze_common.cancellation import stop_if_cancelled
from heze_common.errors import InvalidInput
from heze_common.eventstore import ServiceApplication
from heze_common.settings import ServiceSettings
from heze_common.wakeups import new_events

log = structlog.get_logger(__name__)

LIVE = "views"
REBUILT = "views_rebuilt"
RETIRED = "views_retired"
BATCH = 2000
MAX_RETRY_SECONDS = 30.0


class Rows:
    """What a view's handler writes through: the transaction's cursor, with `{schema}` in each
    statement standing for the schema being written (the live views or the rebuilt ones), and
    the position in the log of the event being applied (a unique key in log order)."""

    def __init__(self, cursor: Cursor[DictRow], schema: str) -> None:
        self.cursor = cursor
        self.schema = schema
        self.position = 0

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(statement.replace("{schema}", f'"{self.schema}"'), params)


Handler = Callable[[Rows, Any], None]


class View:
    """A read model as tables: its `tables` (CREATE TABLE and CREATE INDEX statements, with
    `{schema}` for the schema) and, per domain event class it follows, a handler that writes the
    event's effect through `Rows`."""

    tables: ClassVar[Sequence[str]] = ()
    table_names: ClassVar[Sequence[str]] = ()

    def handlers(self) -> Mapping[type, Handler]:
        raise NotImplementedError


@dataclass(frozen=True)
class RebuildReport:
    events_replayed: int
    position: int
    differences: list[str]
    """Tables whose rebuilt rows differ from the live ones (then no switch happened)."""


class ViewUpdater:
    """Keeps a service's views up to date from its notification log."""

    def __init__(
        self, app: ServiceApplication, views: Sequence[View], *, create_tables: bool = True
    ) -> None:
        self.app = app
        self.views = list(views)
        self.routes: dict[str, list[Handler]] = {}
        for view in self.views:
            for event_class, handler in view.handlers().items():
                self.routes.setdefault(event_class.TOPIC, []).append(handler)
        self.topics = sorted(self.routes)
        self.position = 0
        """The live views' position as this process last saw it."""
        self._lock = threading.Lock()
        self._lock_key = zlib.crc32(f"views:{app.name}".encode())
        if create_tables:
            self._create(LIVE)

    # Schema ------------------------------------------------------------------------------------

    def _create(self, schema: str) -> None:
        with self.app.recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            cursor.execute(
                f'CREATE TABLE IF NOT EXISTS "{schema}".tracking (only_row BOOLEAN PRIMARY KEY'
                " DEFAULT TRUE CHECK (only_row), position BIGINT NOT NULL)"
            )
            cursor.execute(
                f'INSERT INTO "{schema}".tracking (position) VALUES (0) ON CONFLICT DO NOTHING'
            )
            rows = Rows(cursor, schema)
            for view in self.views:
                for statement in view.tables:
                    rows.execute(statement)

    # Updating ----------------------------------------------------------------------------------

    def catch_up(self, until: int | None = None) -> int:
        """Apply what the live views lack (up to `until`); return their position."""
        with self._lock:
            while self._apply_batch(LIVE, until):
                pass
            return self.position

    def _apply_batch(self, schema: str, until: int | None) -> int:
        """One transaction: lock, apply the next batch up to `until` (or the head), record the
        position. Returns how many notifications it read (0: nothing left)."""
        with self.app.recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            # Every event up to the head is committed (the store's table lock assigns positions
            # in commit order), so a view may move to it past events it does not follow.
            head = self.app.recorder.max_notification_id() or 0
            read, position = self._advance(
                cursor, schema, head if until is None else min(until, head)
            )
        if schema == LIVE:
            self.position = position
        return read

    def _advance(self, cursor: Cursor[DictRow], schema: str, stop: int) -> tuple[int, int]:
        """In the caller's transaction: apply the next batch of `schema`'s events up to `stop`
        and record the new position; (notifications read, position)."""
        position = self._position(cursor, schema)
        notifications = self.app.recorder.select_notifications(
            position + 1, BATCH, stop, self.topics
        )
        if notifications:
            self._apply(cursor, schema, notifications)
            position = notifications[-1].id
        else:
            position = max(position, stop)
        cursor.execute(f'UPDATE "{schema}".tracking SET position = %s', (position,))
        return len(notifications), position

    def _apply(self, cursor: Cursor[DictRow], schema: str, batch: Sequence[Notification]) -> None:
        rows = Rows(cursor, schema)
        with cursor.connection.pipeline():  # one round trip for the batch, not one per row
            for notification in batch:
                event = self.app.mapper.to_domain_event(notification)
                rows.position = notification.id
                for handler in self.routes[notification.topic]:
                    handler(rows, event)

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
        """Build the views anew beside the live ones, compare, and switch if they agree."""
        datastore = self.app.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=True) as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{REBUILT}" CASCADE')
        self._create(REBUILT)
        replayed = 0
        while read := self._apply_batch(REBUILT, None):  # the live views keep serving meanwhile
            replayed += read
        with self._lock, datastore.transaction(commit=True) as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            head = self.app.recorder.max_notification_id() or 0
            self._catch_up_in(cursor, LIVE, head)  # both to one position, updaters held off
            replayed += self._catch_up_in(cursor, REBUILT, head)
            differences = [table for table in self._tables() if self._differs(cursor, table)]
            if not differences:
                cursor.execute(f'ALTER SCHEMA "{LIVE}" RENAME TO "{RETIRED}"')
                cursor.execute(f'ALTER SCHEMA "{REBUILT}" RENAME TO "{LIVE}"')
                cursor.execute(f'DROP SCHEMA "{RETIRED}" CASCADE')
            self.position = head
        return RebuildReport(replayed, head, differences)

    def _catch_up_in(self, cursor: Cursor[DictRow], schema: str, head: int) -> int:
        applied = 0
        while read := self._advance(cursor, schema, head)[0]:
            applied += read
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
