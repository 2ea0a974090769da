"""Wake-ups on new events (LISTEN/NOTIFY) against real PostgreSQL and the real broker.

The polls are set to an hour, so an event published within the (generous) deadline was
published because the store's notification woke the relay, not because a poll came round.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import psycopg
import pytest
from faststream.kafka import KafkaBroker

from heze_common import wakeups
from heze_common.broker import ensure_topics
from heze_common.eventstore import ServiceApplication
from heze_common.outbox import OutboxRelay
from heze_common.testing import eventually, read_topic
from heze_contracts import parse_event
from tests.foundation.history import store_history
from tests.foundation.sample import LEARNER_MAPPER

AN_HOUR = 3600.0
DEADLINE = 60.0
"""Well within the hour's poll: only a wake-up publishes an event in time."""

StartRelay = Callable[..., contextlib.AbstractAsyncContextManager[OutboxRelay]]


def listening_backends(database_url: str) -> set[int]:
    """The server processes of the connections LISTENing in this database."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        ).fetchall()
    return {pid for (pid,) in rows}


def terminate(database_url: str, pid: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.fixture
async def topic(kafka_bootstrap_servers: str, topic_prefix: str) -> str:
    name = topic_prefix + "enrollment.events.v1"
    await ensure_topics(kafka_bootstrap_servers, [name], 6)
    return name


@pytest.fixture
def start_relay(upstream: ServiceApplication, kafka_broker: KafkaBroker, topic: str) -> StartRelay:
    """Runs a relay whose fallback poll is an hour, for the length of an `async with`."""

    @contextlib.asynccontextmanager
    async def start(*, idle_seconds: float) -> AsyncIterator[OutboxRelay]:
        relay = OutboxRelay(
            upstream,
            LEARNER_MAPPER,
            kafka_broker,
            topic,
            idle_seconds=idle_seconds,
            fallback_poll_seconds=AN_HOUR,
        )
        running = asyncio.create_task(relay.run())
        try:
            yield relay
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    return start


async def store_and_await_publication(
    upstream: ServiceApplication, relay: OutboxRelay, topic: str, learners: int = 3
) -> None:
    await asyncio.to_thread(store_history, upstream, learners=learners, notes=1)
    head = upstream.log_head()
    await eventually(
        lambda: asyncio.to_thread(lambda: relay.positions.load(topic) == head), timeout=DEADLINE
    )


async def test_a_stored_event_wakes_the_waiting_reader(upstream: ServiceApplication) -> None:
    async with wakeups.new_events(
        upstream.recorder, poll_seconds=AN_HOUR, fallback_seconds=AN_HOUR
    ) as wakeup:
        await eventually(lambda: wakeup.listening_pid is not None, timeout=DEADLINE)
        await wakeup.wait()  # the wake-up that follows every LISTEN
        woken = asyncio.create_task(wakeup.wait())
        await asyncio.to_thread(store_history, upstream, learners=1, notes=0)
        await asyncio.wait_for(woken, DEADLINE)


async def test_a_stored_event_is_published_promptly_with_an_hour_between_polls(
    upstream: ServiceApplication,
    database_url: str,
    kafka_bootstrap_servers: str,
    topic: str,
    start_relay: StartRelay,
) -> None:
    async with start_relay(idle_seconds=AN_HOUR) as relay:
        await eventually(
            lambda: asyncio.to_thread(listening_backends, database_url), timeout=DEADLINE
        )
        for _ in range(3):
            await store_and_await_publication(upstream, relay, topic)

    events = [
        parse_event(record.value) for record in await read_topic(kafka_bootstrap_servers, topic)
    ]
    assert len({event.event_id for event in events}) == 18  # 9 registered, 9 withdrawn


async def test_a_killed_listen_connection_is_replaced_and_nothing_is_missed(
    upstream: ServiceApplication,
    database_url: str,
    topic: str,
    start_relay: StartRelay,
) -> None:
    async with start_relay(idle_seconds=AN_HOUR) as relay:
        await eventually(
            lambda: asyncio.to_thread(listening_backends, database_url), timeout=DEADLINE
        )
        (first,) = listening_backends(database_url)

        async def replaced(pid: int) -> bool:
            backends = await asyncio.to_thread(listening_backends, database_url)
            return len(backends - {pid}) == 1

        await store_and_await_publication(upstream, relay, topic)

        terminate(database_url, first)
        # Stored while the listener may still be reconnecting: what no notification reached is
        # read on the wake-up that follows the new LISTEN.
        await store_and_await_publication(upstream, relay, topic)
        await eventually(lambda: replaced(first), timeout=DEADLINE)
        await store_and_await_publication(upstream, relay, topic)  # the new one is notified


async def test_the_relay_polls_while_it_cannot_listen(
    upstream: ServiceApplication,
    database_url: str,
    topic: str,
    start_relay: StartRelay,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reachable = asyncio.Event()
    real_connection = wakeups.listen_connection

    def refused_until_reachable(recorder: object) -> wakeups.Connect:
        connect = real_connection(recorder)  # type: ignore[arg-type]

        async def maybe_connect() -> psycopg.AsyncConnection:
            if not reachable.is_set():
                raise psycopg.OperationalError("connection refused (by the test)")
            return await connect()

        return maybe_connect

    monkeypatch.setattr(wakeups, "listen_connection", refused_until_reachable)
    async with start_relay(idle_seconds=0.05) as relay:
        await store_and_await_publication(upstream, relay, topic)
        assert not listening_backends(database_url)

        reachable.set()
        await eventually(
            lambda: asyncio.to_thread(listening_backends, database_url), timeout=DEADLINE
        )
        await store_and_await_publication(upstream, relay, topic)
