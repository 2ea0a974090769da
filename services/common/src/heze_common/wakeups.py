"""Wake-ups when new events are stored: PostgreSQL LISTEN/NOTIFY, with polling as the fallback.

The `eventsourcing` PostgreSQL recorder already sends `NOTIFY <channel>` (its `channel_name`, the
events table's name) inside every transaction that stores events, so a notification is delivered
at commit and only for committed rows: no trigger and no recorder change is needed. A listener
holds one connection of its own LISTENing on that channel and wakes one reader of the log.

A notification can still be missed: while the listen connection is down or reconnecting, or when
it dies without the client noticing. The reader always reads from its own recorded position, so a
missed wake-up only delays an event: while listening it still polls every `fallback_seconds`, and
while not listening (connection lost, or a store without LISTEN such as SQLite or the in-memory
one) every `poll_seconds`, as it did before there were wake-ups.

    async with new_events(app.recorder, poll_seconds=0.1, fallback_seconds=5) as wakeup:
        while True:
            if not read_and_handle_a_batch():
                await wakeup.wait()
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import psycopg
import structlog
from eventsourcing.persistence import Recorder
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from heze_common.cancellation import stop_if_cancelled

log = structlog.get_logger(__name__)

RECONNECT_FIRST_SECONDS = 0.1
RECONNECT_MAX_SECONDS = 10.0

Connect = Callable[[], Awaitable[psycopg.AsyncConnection]]


class Wakeup:
    """Wakes one reader of an event store's notification log when events have been stored."""

    def __init__(self, *, poll_seconds: float, fallback_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self.fallback_seconds = fallback_seconds
        self.listening_pid: int | None = None
        """The server process of the listen connection while it listens, else None."""
        self._stored = asyncio.Event()

    async def wait(self) -> None:
        """Return once events were stored since the last return, or when the poll interval has
        passed: the slow fallback while listening, the short one while not."""
        timeout = self.fallback_seconds if self.listening_pid else self.poll_seconds
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._stored.wait()
        # Cleared before the reader reads: a commit notified from here on wakes the next wait.
        self._stored.clear()

    def wake(self) -> None:
        self._stored.set()

    async def listen(self, connect: Connect, channel: str) -> None:
        """LISTEN on `channel` and wake the reader at every notification, for ever; a lost
        connection is reconnected with backoff while the reader polls."""
        delay = RECONNECT_FIRST_SECONDS
        while True:
            try:
                async with await connect() as connection:
                    await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.listening_pid = connection.info.backend_pid
                    self.wake()  # what was stored while nobody listened was never notified
                    delay = RECONNECT_FIRST_SECONDS
                    async for _ in connection.notifies():
                        self.wake()
            except Exception as error:
                stop_if_cancelled()
                log.warning(
                    "listen connection lost; polling until it is back",
                    channel=channel,
                    error=str(error),
                    retry_in_seconds=delay,
                )
            finally:
                self.listening_pid = None
            self.wake()  # so the reader's wait changes to the short poll now
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)


def listen_connection(recorder: PostgresApplicationRecorder) -> Connect:
    """Opens a connection of its own to the recorder's database, with the recorder's parameters
    and TCP keepalives, so a silently dead connection is noticed and replaced within a minute."""
    pool = recorder.datastore.pool
    params = {key: pool.kwargs[key] for key in ("dbname", "host", "port", "user", "password")}

    async def connect() -> psycopg.AsyncConnection:
        return await psycopg.AsyncConnection.connect(
            **params,
            autocommit=True,
            connect_timeout=max(int(pool.timeout), 1),
            keepalives=1,
            keepalives_idle=20,
            keepalives_interval=10,
            keepalives_count=3,
        )

    return connect


@contextlib.asynccontextmanager
async def new_events(
    recorder: Recorder, *, poll_seconds: float, fallback_seconds: float
) -> AsyncIterator[Wakeup]:
    """A wake-up on the events `recorder` stores, listening while the context is open (on
    PostgreSQL; any other store is polled every `poll_seconds`)."""
    wakeup = Wakeup(poll_seconds=poll_seconds, fallback_seconds=fallback_seconds)
    if not isinstance(recorder, PostgresApplicationRecorder):
        yield wakeup
        return
    listener = asyncio.create_task(
        wakeup.listen(listen_connection(recorder), recorder.channel_name),
        name=f"listen-{recorder.channel_name}",
    )
    try:
        yield wakeup
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
