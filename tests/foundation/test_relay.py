"""The outbox relay against real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from faststream.kafka import KafkaBroker

from heze_common.broker import ensure_topics
from heze_common.eventstore import ServiceApplication
from heze_common.outbox import OutboxRelay
from heze_common.relay_position import RelayPositions
from heze_common.settings import ServiceSettings
from heze_common.testing import eventually, read_topic
from heze_contracts import parse_event
from tests.foundation.history import store_history
from tests.foundation.sample import LEARNER_MAPPER

ROOT = Path(__file__).resolve().parents[2]


async def drain(relay: OutboxRelay) -> None:
    while await relay.publish_pending():
        pass


async def test_relay_publishes_exactly_the_public_events_once_in_subject_order(
    upstream: ServiceApplication,
    kafka_broker: KafkaBroker,
    kafka_bootstrap_servers: str,
    topic_prefix: str,
) -> None:
    topic = topic_prefix + "enrollment.events.v1"
    await ensure_topics(kafka_bootstrap_servers, [topic], 6)
    learners = await asyncio.to_thread(store_history, upstream, learners=1000, notes=8)
    assert upstream.log_head() == 10_000

    await drain(OutboxRelay(upstream, LEARNER_MAPPER, kafka_broker, topic, batch_size=500))

    records = await read_topic(kafka_bootstrap_servers, topic)
    events = [parse_event(record.value) for record in records]
    assert (
        len(events) == 2000
    )  # one registration and one withdrawal per learner; notes stay private
    assert len({event.event_id for event in events}) == 2000
    by_subject = defaultdict(list)
    for record, event in zip(records, events, strict=True):
        assert record.key == str(event.subject_id).encode()
        by_subject[event.subject_id].append((record.partition, record.offset, event))
    assert set(by_subject) == {learner.id for learner in learners}
    for published in by_subject.values():
        published.sort(key=lambda item: (item[0], item[1]))
        assert len({partition for partition, _, _ in published}) == 1  # one key, one partition
        assert [event.event_type for _, _, event in published] == [
            "TraineeRegistered",
            "TraineeWithdrawn",
        ]
        positions = [event.position for _, _, event in published]
        assert positions == sorted(positions)
    assert {event.payload.name for event in events if event.event_type == "TraineeRegistered"} == {
        learner.name for learner in learners
    }


async def test_relay_cancelled_at_a_random_point_resumes_without_loss(
    upstream: ServiceApplication,
    kafka_broker: KafkaBroker,
    kafka_bootstrap_servers: str,
    topic_prefix: str,
) -> None:
    topic = topic_prefix + "enrollment.events.v1"
    await ensure_topics(kafka_bootstrap_servers, [topic], 6)
    await asyncio.to_thread(store_history, upstream, learners=1000, notes=8)
    batch_size = 200
    first = OutboxRelay(upstream, LEARNER_MAPPER, kafka_broker, topic, batch_size=batch_size)
    running = asyncio.create_task(first.run())
    await asyncio.sleep(random.uniform(0.05, 0.4))
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    stopped_at = first.positions.load(topic)

    await drain(OutboxRelay(upstream, LEARNER_MAPPER, kafka_broker, topic, batch_size=batch_size))

    events = [
        parse_event(record.value) for record in await read_topic(kafka_bootstrap_servers, topic)
    ]
    assert_complete_with_duplicates_only_after(events, stopped_at, batch_size)


async def test_relay_killed_with_sigkill_resumes_without_loss(
    upstream: ServiceApplication,
    upstream_settings: ServiceSettings,
    kafka_broker: KafkaBroker,
    kafka_bootstrap_servers: str,
    topic_prefix: str,
) -> None:
    topic = topic_prefix + "enrollment.events.v1"
    await ensure_topics(kafka_bootstrap_servers, [topic], 6)
    await asyncio.to_thread(store_history, upstream, learners=1000, notes=8)
    batch_size = 100
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.foundation.relay_process", topic, str(batch_size)],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": upstream_settings.database_url or "",
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
            "CIPHER_KEY": upstream_settings.resolved_cipher_key(),
            "DATA_DIR": str(upstream_settings.data_dir),  # its event key
        },
    )
    positions = RelayPositions(upstream.recorder)
    try:
        while positions.load(topic) < random.randint(100, 6000):
            assert process.poll() is None, "the relay process died on its own"
            await asyncio.sleep(0.005)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    stopped_at = positions.load(topic)
    assert stopped_at < upstream.log_head(), "killed too late to test anything"

    await drain(OutboxRelay(upstream, LEARNER_MAPPER, kafka_broker, topic, batch_size=batch_size))

    events = [
        parse_event(record.value) for record in await read_topic(kafka_bootstrap_servers, topic)
    ]
    assert_complete_with_duplicates_only_after(events, stopped_at, batch_size)


def assert_complete_with_duplicates_only_after(
    events: list, stopped_at: int, batch_size: int
) -> None:
    """Nothing missing; anything published twice lies in the one batch after the recorded position
    (a batch is `batch_size` public notifications: private ones are not even read)."""
    copies = Counter(event.event_id for event in events)
    assert len(copies) == 2000
    next_batch = sorted({event.position for event in events if event.position > stopped_at})[
        :batch_size
    ]
    duplicated_positions = {event.position for event in events if copies[event.event_id] > 1}
    assert duplicated_positions <= set(next_batch)
    assert all(count <= 2 for count in copies.values())
    by_id = defaultdict(set)
    for event in events:
        by_id[event.event_id].add(event.model_dump_json())
    assert all(len(bodies) == 1 for bodies in by_id.values()), "a re-published event changed"


async def test_a_new_broker_cluster_gets_everything_published_again(
    upstream: ServiceApplication,
    kafka_broker: KafkaBroker,
    kafka_bootstrap_servers: str,
    topic_prefix: str,
) -> None:
    topic = topic_prefix + "enrollment.events.v1"
    await ensure_topics(kafka_bootstrap_servers, [topic], 6)
    await asyncio.to_thread(store_history, upstream, learners=50, notes=1)

    async def first_cluster() -> str:
        return "cluster-before-the-loss"

    async def second_cluster() -> str:
        return "cluster-after-the-loss"

    for identify in (first_cluster, first_cluster, second_cluster):
        relay = OutboxRelay(
            upstream, LEARNER_MAPPER, kafka_broker, topic, identify_cluster=identify
        )
        relay.cluster_id = await identify()
        await drain(relay)

    events = [
        parse_event(record.value) for record in await read_topic(kafka_bootstrap_servers, topic)
    ]
    copies = Counter(event.event_id for event in events)
    assert len(copies) == 100  # a registration and a withdrawal per learner
    assert set(copies.values()) == {2}  # once to the first cluster, once again to the new one
    assert RelayPositions(upstream.recorder).load_with_cluster(topic)[1] == "cluster-after-the-loss"


async def test_the_relay_prepares_a_cluster_it_meets_for_the_first_time(
    upstream: ServiceApplication, kafka_broker: KafkaBroker, topic_prefix: str
) -> None:
    prepared: list[str] = []

    async def identify() -> str:
        return "a-new-cluster"

    async def prepare() -> None:
        prepared.append("topics created")

    relay = OutboxRelay(
        upstream,
        LEARNER_MAPPER,
        kafka_broker,
        topic_prefix + "enrollment.events.v1",
        identify_cluster=identify,
        prepare_cluster=prepare,
        idle_seconds=0.01,
    )
    running = asyncio.create_task(relay.run())
    await eventually(lambda: relay.cluster_id is not None)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert (relay.cluster_id, prepared) == ("a-new-cluster", ["topics created"])
