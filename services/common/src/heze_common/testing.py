"""pytest plugin: real PostgreSQL and a real Kafka-protocol broker for every test that needs them.

Chosen automatically, nothing to set up by hand. PostgreSQL: `TEST_POSTGRES_DSN` when set (the
word `embedded` forces the embedded server); otherwise the local server at 127.0.0.1:5432 where
one answers; otherwise testcontainers where a Docker engine answers; otherwise the embedded
server (heze_common.postgres_server) under a temporary folder. The broker:
`KAFKA_BOOTSTRAP_SERVERS` when set; otherwise testcontainers where Docker answers; otherwise the
embedded broker.

It also sorts the tests into tiers: a test that uses none of the infrastructure fixtures is
marked `fast` (`./heze test --fast` runs those), one that does is marked `infrastructure`; and it
gives the fast tier its services: `memory_service` builds a service's application on the
`eventsourcing` library's in-memory store, with its consumer's processing path and its outbox
translation, and no broker.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import inspect
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.partitioner import DefaultPartitioner
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pypdf import PdfReader, PdfWriter

from heze_common.auth import TokenIssuer, identity_claim
from heze_common.broker import EmbeddedBroker, read_all
from heze_common.certificate_pdf import CREDENTIAL_FILE_NAME
from heze_common.consumer import IdempotentConsumer, Outcome
from heze_common.outbox import message_headers
from heze_common.postgres_server import EmbeddedPostgres
from heze_common.settings import ServiceSettings
from heze_common.signing import EmbeddedKeyring
from heze_contracts import IntegrationEvent, parse_event
from heze_contracts.enums import Role

if TYPE_CHECKING:
    from heze_common.runtime import ServiceDefinition

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

S = TypeVar("S", bound=ServiceSettings)


def _docker_works() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # no client, no socket, or no engine behind it
        return False


def _local_postgres_answers() -> bool:
    try:
        with psycopg.connect(LOCAL_POSTGRES, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_admin_dsn() -> Iterator[str]:
    """A DSN of a PostgreSQL server on which tests may create databases."""
    chosen = os.environ.get("TEST_POSTGRES_DSN")
    if chosen and chosen != "embedded":
        yield chosen
    elif not chosen and _local_postgres_answers():
        yield LOCAL_POSTGRES
    elif not chosen and _docker_works():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15-alpine", driver=None) as container:
            yield container.get_connection_url()
    else:
        with (
            tempfile.TemporaryDirectory(prefix="heze-test-postgres-") as directory,
            EmbeddedPostgres(Path(directory)) as server,
        ):
            yield server.url()


@dataclass(frozen=True)
class ServiceProcess:
    """A service running as its own process (`python -m heze_<service>.main serve`)."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def service_process(
    service: str, environment: dict[str, str], log: Path, *, unset: tuple[str, ...] = ()
) -> Iterator[ServiceProcess]:
    """`service` served by uvicorn on a free port, with `environment` over this process's (less
    the names in `unset`), until it answers ready; stopped (SIGTERM, then SIGKILL) after."""
    port = free_port()
    variables = {**os.environ, **environment, "HTTP_PORT": str(port)}
    for name in unset:
        variables.pop(name, None)
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", f"heze_{service}.main", "serve"],
            env=variables,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = ServiceProcess(process, port, log)
    try:
        deadline = time.monotonic() + READY_SECONDS
        while not _answers_ready(served):
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"not ready: {log.read_text()[-3000:]}"
            time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers_ready(served: ServiceProcess) -> bool:
    try:
        return httpx.get(f"{served.url}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


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


TEST_IDENTITY_CLAIM_KEY = "aWRlbnRpdHktY2xhaW0ta2V5LW9mLXRoZS10ZXN0cyEhIQ=="
"""The identity provider's `idh` key in in-process test services."""


def with_attached_credential(pdf: bytes, credential: str) -> bytes:
    """The PDF's pages with `credential` attached in place of the original: a tampered copy."""
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        writer.add_page(page)
    writer.add_attachment(CREDENTIAL_FILE_NAME, credential.encode())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def verified_identity(id_number: str) -> str:
    """The `idh` claim an identity provider would give the person with `id_number`, under the
    test services' key (`Principal(verified_identity=...)`)."""
    return identity_claim(base64.b64decode(TEST_IDENTITY_CLAIM_KEY), id_number)


def service_settings(settings_class: type[S], **overrides: Any) -> S:
    """Settings tuned for tests: fast consumer-group joins, quick retries."""
    values: dict[str, Any] = {
        "kafka_session_timeout_ms": 3000,
        "kafka_heartbeat_interval_ms": 500,
        "consumer_retry_backoff_seconds": 0.01,
        "relay_idle_seconds": 0.02,
        "jwt_secret": "test-secret-with-at-least-32-bytes!!",
        "cipher_key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        "identity_claim_key": TEST_IDENTITY_CLAIM_KEY,
        "data_dir": TEST_KEYRING,
    }
    values.update(overrides)
    return settings_class(**values)


TEST_KEYRING = Path(tempfile.gettempdir()) / "heze-test-keyring"
"""The data folder of in-process test services: its event keys sign what tests publish as a
producer, and every test service trusts them (the embedded mode's keyring)."""


def signed_headers(producer: str, body: bytes) -> list[tuple[str, bytes]]:
    """The signature headers a producer's relay would add to `body` (for raw test messages)."""
    signer = EmbeddedKeyring(TEST_KEYRING).signer(producer)
    return [(name, value.encode()) for name, value in signer.headers(body).items()]


@asynccontextmanager
async def running(app: FastAPI, *, task_grace_seconds: float = 30.0) -> AsyncIterator[AsyncClient]:
    """Run a service app in-process (its lifespan: relay, consumers) with an HTTP client to it.

    When the service has stopped, none of the tasks it started may still run: a relay or
    consumer that outlives its service goes on polling a closed pool for the rest of the run."""
    # Let tasks started just before (another service running around this one) take their
    # first step: what they start then is theirs, not this service's.
    for _ in range(3):
        await asyncio.sleep(0)
    before = asyncio.all_tasks()
    async with app.router.lifespan_context(app):
        async with AsyncClient(
            transport=ASGITransport(app=app), base_url="http://service"
        ) as client:
            yield client
    await assert_no_task_outlives(before, task_grace_seconds)


LIBRARY_CLOSE_SECONDS = 2.0
"""How long aiokafka's own tasks may go on closing after the service stopped."""


async def assert_no_task_outlives(before: set[asyncio.Task[Any]], grace: float = 30.0) -> None:
    """Fail if tasks started since `before` are still running after `grace` seconds (library
    clients may need a moment to finish closing); the survivors are cancelled first.

    A task of aiokafka's own (a fetch still waiting on its socket after the client closed) is
    the library's shutdown, not work of the service left running: it is only warned about."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    # aiokafka's own tasks are given a short while only: some wait on a socket until cancelled.
    library_deadline = loop.time() + min(grace, LIBRARY_CLOSE_SECONDS)
    while True:
        survivors = {
            task
            for task in asyncio.all_tasks() - before
            if task is not asyncio.current_task() and not task.done()
        }
        closing = {task for task in survivors if _kafka_client_internal(task)}
        now = loop.time()
        if not survivors or now > deadline or (survivors == closing and now > library_deadline):
            break
        await asyncio.sleep(0.05)
    for task in survivors:
        task.cancel()
    if closing:
        warnings.warn(
            f"aiokafka tasks still closing: {sorted(t.get_name() for t in closing)}", stacklevel=2
        )
    left = sorted(
        f"{task.get_name()} ({task.get_coro().__qualname__})"  # type: ignore[union-attr]
        for task in survivors - closing
    )
    assert not left, f"tasks outlived their service: {left}"


def _kafka_client_internal(task: asyncio.Task[Any]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and "/aiokafka/" in code.co_filename


async def read_topic(
    bootstrap_servers: str, topic: str, *, idle_ms: int = 500
) -> list[ConsumerRecord]:
    """Every record on `topic`, from the start, in partition order (no consumer group)."""
    return await read_all(bootstrap_servers, topic, idle_ms=idle_ms)


EVENTUALLY_SECONDS = 120.0
"""How long `eventually` waits by default. It returns as soon as the condition holds, so the
deadline only bounds a failure; it is generous because a busy machine (a CI runner shared with
other jobs, two cores running the whole suite) can take many times the usual seconds for a
consumer-group join or a relay round."""

READY_SECONDS = 300.0
"""How long a test waits for a service process to answer ready after a start or a restart (it
returns as soon as the service does). A restarted service first catches up on what it missed,
and on a loaded machine four of them do so at once."""


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], *, timeout: float = EVENTUALLY_SECONDS
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
        self,
        role: Role,
        organisation_id: UUID | None = None,
        subject: str | None = None,
        *,
        verified_id_number: str | None = None,
    ) -> dict[str, str]:
        token = self.issuer.mint(
            role,
            organisation_id=organisation_id,
            subject=subject,
            verified_id_number=verified_id_number,
        )
        return {"Authorization": f"Bearer {token}"}

    def __call__(
        self,
        role: Role,
        organisation_id: UUID | None = None,
        subject: str | None = None,
        *,
        verified_id_number: str | None = None,
    ) -> dict[str, str]:
        return self.headers(role, organisation_id, subject, verified_id_number=verified_id_number)

    def trainee_verified_as(self, id_number: str, subject: str | None = None) -> dict[str, str]:
        """A trainee's token vouching for `id_number`, as one registers with."""
        return self.headers(Role.TRAINEE, subject=subject, verified_id_number=id_number)


async def publish(bootstrap_servers: str, topic: str, *events: IntegrationEvent) -> None:
    """Publish integration events as a producer's relay would (key, headers), for consumer tests."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            body = event.to_bytes()
            headers = [
                (name, value.encode()) for name, value in message_headers(event, None).items()
            ] + signed_headers(event.producer.value, body)
            await producer.send_and_wait(topic, body, key=event.key_bytes(), headers=headers)
    finally:
        await producer.stop()


# Tiers: `fast` (no PostgreSQL, no broker) and `infrastructure` ----------------------------------

INFRASTRUCTURE_FIXTURES = frozenset(
    {
        "postgres_admin_dsn",
        "new_database",
        "database_url",
        "second_database_url",
        "kafka_bootstrap_servers",
    }
)
"""The fixtures that reach PostgreSQL or the broker. `item.fixturenames` holds every fixture a
test uses, through its other fixtures too, so one of these anywhere below a test makes it an
`infrastructure` test."""


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by these markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test `fast` or `infrastructure`. A test that starts infrastructure by itself
    (service processes, its own broker) says so with `@pytest.mark.infrastructure`; `soak`
    tests are `infrastructure` too."""
    for item in items:
        uses_infrastructure = (
            item.get_closest_marker("infrastructure") is not None
            or item.get_closest_marker("soak") is not None
            or not INFRASTRUCTURE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
        )
        if not uses_infrastructure:
            item.add_marker(pytest.mark.fast)
        elif item.get_closest_marker("infrastructure") is None:
            item.add_marker(pytest.mark.infrastructure)


# The fast tier's services: the in-memory store, the consumer's processing path, no broker --------


@functools.cache
def in_memory(settings_class: type[S]) -> type[S]:
    """`settings_class` with the event store in memory (the `eventsourcing` library's POPO
    persistence, `PERSISTENCE_MODULE=eventsourcing.popo`) instead of PostgreSQL; the rest of the
    event store's configuration (cipher, mapper, transcoder, cache) is the service's."""

    def eventsourcing_env(self: ServiceSettings) -> dict[str, str]:
        return {**self.event_store_env(), "PERSISTENCE_MODULE": "eventsourcing.popo"}

    return type(  # type: ignore[return-value]
        f"InMemory{settings_class.__name__}",
        (settings_class,),
        {"eventsourcing_env": eventsourcing_env, "__module__": __name__},
    )


@dataclass(frozen=True)
class DeadLettered:
    """A message the consumer sent to its dead-letter topic."""

    topic: str
    value: bytes
    key: bytes | None
    headers: dict[str, str]

    @property
    def reason(self) -> str:
        return self.headers["dlq_reason"]


class DeadLetterTray:
    """Stands in for the broker of an in-memory consumer, which publishes only dead letters."""

    def __init__(self) -> None:
        self.letters: list[DeadLettered] = []

    async def publish(
        self,
        body: bytes,
        topic: str,
        *,
        key: bytes | None = None,
        headers: dict[str, str] | None = None,
        **_: Any,
    ) -> None:
        self.letters.append(DeadLettered(topic, body, key, dict(headers or {})))


@dataclass(eq=False)  # each one is itself (hashable by identity)
class InMemoryService:
    """One service as its process assembles it, minus the broker: its application built by its
    `definition.create_application` (seeded, read models caught up) on the in-memory store; its
    `IdempotentConsumer` over `definition.consumer_handlers`, to which `deliver` hands records as
    the broker would; and `published`, its integration mapper over its log, as the relay reads it."""

    definition: ServiceDefinition
    application: Any
    consumer: IdempotentConsumer
    tray: DeadLetterTray
    partitions: int = 6
    relay_position: int = 0
    _offsets: Counter[tuple[str, int]] = field(default_factory=Counter)

    @property
    def settings(self) -> ServiceSettings:
        return self.definition.settings

    @property
    def dead_letters(self) -> list[DeadLettered]:
        return self.tray.letters

    def record(
        self,
        event: IntegrationEvent,
        *,
        topic: str | None = None,
        headers: dict[str, str] | None = None,
        value: bytes | None = None,
        signed: bool = True,
    ) -> ConsumerRecord:
        """`event` as a consumer receives it from its producer's relay: on its topic (with the
        service's prefix), on the partition of its key among `partitions`, at the next offset,
        with the relay's headers and its signature (the producer's key in the data folder, which
        the embedded mode trusts). `topic`, `headers` and `value` replace those, and
        `signed=False` leaves the signature off, for bad messages."""
        name = self.settings.kafka_topic_prefix + (topic or event.TOPIC)
        key = event.key_bytes()
        partitions = list(range(self.partitions))
        partition = DefaultPartitioner()(key, partitions, partitions)
        offset = self._offsets[name, partition]
        self._offsets[name, partition] += 1
        body = event.to_bytes() if value is None else value
        sent = message_headers(event, None) if headers is None else dict(headers)
        if signed:
            sent.update(self.settings.event_signer(event.producer.value).headers(body))
        return ConsumerRecord(
            topic=name,
            partition=partition,
            offset=offset,
            timestamp=0,
            timestamp_type=0,
            key=key,
            value=body,
            checksum=None,
            serialized_key_size=len(key),
            serialized_value_size=len(body),
            headers=tuple((header, text.encode()) for header, text in sent.items()),
        )

    async def deliver(self, *events: IntegrationEvent) -> list[Outcome]:
        """Each event through the consumer's processing path (admission, tracking, handler, one
        transaction), in order; the outcome of each."""
        return [await self.consumer.process(self.record(event)) for event in events]

    async def process(self, record: ConsumerRecord) -> Outcome:
        return await self.consumer.process(record)

    async def receive(self, events: list[IntegrationEvent]) -> list[Outcome]:
        """What this service's subscription takes of a stream: the events of the topics it
        subscribes to, delivered in order (the others never reach it)."""
        subscribed = set(self.definition.subscribes_to)
        return await self.deliver(*(event for event in events if event.TOPIC in subscribed))

    def relay(self) -> list[IntegrationEvent]:
        """What the outbox relay publishes next: the events after its position, which it then
        moves to the head of the log. `relay_position = 0` republishes everything (a new broker
        cluster)."""
        events = self.published(after=self.relay_position)
        self.relay_position = self.application.log_head()
        return events

    def published(self, after: int = 0) -> list[IntegrationEvent]:
        """The integration events the outbox relay publishes for the log after position `after`:
        the service's integration mapper over its notifications, each read back from its bytes."""
        app, mapper = self.application, self.definition.integration_mapper
        events, position = [], after
        while notifications := app.recorder.select_notifications(
            position + 1, 500, None, mapper.domain_topics
        ):
            for notification in notifications:
                domain_event = app.mapper.to_domain_event(notification)
                event = mapper.to_integration_event(domain_event, notification.id)
                if event is not None:
                    events.append(parse_event(event.to_bytes()))
            position = notifications[-1].id
        return events


@pytest.fixture
def memory_service(tmp_path: Path) -> Iterator[Callable[..., InMemoryService]]:
    """Builds services on the in-memory store for one test (each test its own store, which
    costs milliseconds): `memory_service(definition, SettingsClass, **settings)`, with a service's
    `main.definition` and its settings class; closed after the test."""
    built: list[InMemoryService] = []

    def build(
        definition: Callable[[Any], ServiceDefinition],
        settings_class: type[ServiceSettings],
        *,
        partitions: int = 6,
        **overrides: Any,
    ) -> InMemoryService:
        settings = service_settings(in_memory(settings_class), data_dir=tmp_path, **overrides)
        service = definition(settings)
        application = service.create_application(settings)
        tray = DeadLetterTray()
        consumer = IdempotentConsumer(
            application,
            service.consumer_handlers(application),
            tray,  # type: ignore[arg-type]
            settings,
        )
        undeclared = {event.TOPIC for event in consumer.handlers} - set(service.subscribes_to)
        if undeclared:  # as the process refuses to start
            raise RuntimeError(f"handlers consume undeclared topics {sorted(undeclared)}")
        memory = InMemoryService(service, application, consumer, tray, partitions)
        built.append(memory)
        return memory

    yield build
    for memory in built:
        memory.application.close()
