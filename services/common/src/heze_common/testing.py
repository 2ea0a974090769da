"""pytest plugin: real PostgreSQL and a real Kafka-protocol broker for every test that needs them.

Chosen automatically: `TEST_POSTGRES_DSN` / `KAFKA_BOOTSTRAP_SERVERS` when set; otherwise
testcontainers where a Docker engine answers; otherwise the local PostgreSQL at
127.0.0.1:5432 and the embedded broker. Nothing to set up by hand.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

import psycopg
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from heze_common.auth import TokenIssuer
from heze_common.broker import EmbeddedBroker, read_all
from heze_common.outbox import message_headers
from heze_common.settings import ServiceSettings
from heze_contracts import IntegrationEvent
from heze_contracts.enums import Role

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

S = TypeVar("S", bound=ServiceSettings)


def _docker_works() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # no client, no socket, or no engine behind it
        return False


@pytest.fixture(scope="session")
def postgres_admin_dsn() -> Iterator[str]:
    """A DSN of a PostgreSQL server on which tests may create databases."""
    if dsn := os.environ.get("TEST_POSTGRES_DSN"):
        yield dsn
    elif _docker_works():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15-alpine", driver=None) as container:
            yield container.get_connection_url()
    else:
        yield LOCAL_POSTGRES


@contextmanager
def fresh_database(admin_dsn: str, prefix: str = "test") -> Iterator[str]:
    """A new, empty database on the server of `admin_dsn` (its URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_dsn.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def new_database(postgres_admin_dsn: str) -> Iterator[Callable[[], str]]:
    """Creates fresh, empty databases for one test (one per service), dropped afterwards."""
    with ExitStack() as databases:
        yield lambda: databases.enter_context(fresh_database(postgres_admin_dsn))


@pytest.fixture
def database_url(new_database: Callable[[], str]) -> str:
    return new_database()


@pytest.fixture
def second_database_url(new_database: Callable[[], str]) -> str:
    return new_database()


@pytest.fixture(scope="session")
def kafka_bootstrap_servers() -> Iterator[str]:
    """Bootstrap servers of a running Kafka-protocol broker shared by the session."""
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield servers
    elif _docker_works():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer() as container:
            yield container.get_bootstrap_server()
    else:
        with EmbeddedBroker() as broker:
            yield broker.bootstrap_servers


def service_settings(settings_class: type[S], **overrides: Any) -> S:
    """Settings tuned for tests: fast consumer-group joins, quick retries."""
    values: dict[str, Any] = {
        "kafka_session_timeout_ms": 3000,
        "kafka_heartbeat_interval_ms": 500,
        "consumer_retry_backoff_seconds": 0.01,
        "relay_idle_seconds": 0.02,
        "jwt_secret": "test-secret-with-at-least-32-bytes!!",
        "cipher_key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    }
    values.update(overrides)
    return settings_class(**values)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """Run a service app in-process (its lifespan: relay, consumers) with an HTTP client to it."""
    async with app.router.lifespan_context(app):
        async with AsyncClient(
            transport=ASGITransport(app=app), base_url="http://service"
        ) as client:
            yield client


async def read_topic(
    bootstrap_servers: str, topic: str, *, idle_ms: int = 500
) -> list[ConsumerRecord]:
    """Every record on `topic`, from the start, in partition order (no consumer group)."""
    return await read_all(bootstrap_servers, topic, idle_ms=idle_ms)


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], *, timeout: float = 30.0
) -> None:
    """Wait until `condition` (plain or async) holds, for effects that cross the broker, or fail."""
    deadline = asyncio.get_running_loop().time() + timeout

    async def holds() -> bool:
        result = condition()
        return bool(await result) if inspect.isawaitable(result) else bool(result)

    while not await holds():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


@dataclass
class Tokens:
    """Authorization headers for any role, signed with the service's development secret."""

    issuer: TokenIssuer

    def headers(
        self, role: Role, organisation_id: UUID | None = None, subject: str | None = None
    ) -> dict[str, str]:
        token = self.issuer.mint(role, organisation_id=organisation_id, subject=subject)
        return {"Authorization": f"Bearer {token}"}

    def __call__(
        self, role: Role, organisation_id: UUID | None = None, subject: str | None = None
    ) -> dict[str, str]:
        return self.headers(role, organisation_id, subject)


async def publish(bootstrap_servers: str, topic: str, *events: IntegrationEvent) -> None:
    """Publish integration events as a producer's relay would (key, headers), for consumer tests."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            headers = [
                (name, value.encode()) for name, value in message_headers(event, None).items()
            ]
            await producer.send_and_wait(
                topic, event.to_bytes(), key=event.key_bytes(), headers=headers
            )
    finally:
        await producer.stop()
