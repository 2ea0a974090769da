"""One process per service: FastAPI for HTTP and FastStream (aiokafka) for messaging, in one
asyncio app. Every service is assembled here from the same parts, so knowing one is knowing all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union
from uuid import UUID

import structlog
import typer
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from opentelemetry.trace import SpanKind

from heze_common.audit import LedgerKeeper, ledger_keeper
from heze_common.audit_api import router as audit_router
from heze_common.auth import TokenVerifier
from heze_common.service_calls import CallVerifier
from heze_common.broker import cluster_id, ensure_topics, read_all
from heze_common.consumer import Handler, IdempotentConsumer, subscribe
from heze_common.eventstore import ServiceApplication
from heze_common.http_errors import (
    document_error_responses,
    install_error_handlers,
    limit_body_size,
)
from heze_common.http_server import protocol_with_header_timeout
from heze_common.kafka_security import aiokafka_options, faststream_security
from heze_common.ledger import ChainTable
from heze_common.observability import configure_logging, health_router, install_request_timing
from heze_common.orphans import find_orphans
from heze_common.outbox import IntegrationMapper, OutboxRelay
from heze_common.relay_position import RelayPositions
from heze_common.settings import ServiceSettings
from heze_common.views import View, ViewUpdater, view_reader
from heze_common.tracing import configure_tracing, continue_trace
from heze_contracts import AUDIT_CHECKPOINTS, IntegrationEvent

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ServiceDefinition:
    """What makes one service different from the others; everything else is shared."""

    title: str
    settings: ServiceSettings
    create_application: Callable[[ServiceSettings], ServiceApplication]
    integration_mapper: IntegrationMapper
    publishes_to: str
    subscribes_to: Sequence[str] = ()
    """Upstream topics (unprefixed); the deploy manifests grant read access to exactly these."""
    consumer_handlers: Callable[[Any], Mapping[type[IntegrationEvent], Handler]] = lambda app: {}
    routers: Sequence[APIRouter] = field(default_factory=tuple)
    trail_streams: Callable[[Any, UUID], Sequence[UUID]] = lambda app, trainee_id: ()
    """The aggregates of this service that hold events about one trainee (for auditors)."""
    background: Callable[[Any], Sequence[Callable[[], Awaitable[None]]]] = lambda app: ()
    """Long-running jobs of the service (e.g. a deadline watcher), started with it."""
    published_events: Sequence[type[IntegrationEvent]] = field(default_factory=tuple)
    views: Sequence[type[View]] = ()
    """Read models kept as tables in the service's database (heze_common.views)."""


SHUTDOWN_STEP_SECONDS = 15
VIEW_FALLBACK_POLL_SECONDS = 5.0
"""How often the views look at the log when no notification woke them (one may be lost)."""


async def _shut_down(
    tasks: list[asyncio.Task[None]], broker: KafkaBroker, application: ServiceApplication
) -> None:
    """Stop the background work, the broker clients and the store, each step bounded in time so
    a stuck step is reported instead of hanging the process."""
    for task in tasks:
        task.cancel()
    _, stuck = await asyncio.wait(tasks, timeout=SHUTDOWN_STEP_SECONDS) if tasks else (set(), set())
    for task in stuck:
        log.error(
            "background task did not stop", task=task.get_name(), stack=repr(task.get_stack())
        )
    try:
        await asyncio.wait_for(broker.stop(), SHUTDOWN_STEP_SECONDS)
    except TimeoutError:
        log.error("broker clients did not stop in time")
    await asyncio.to_thread(application.close)


def _report_failed_start(consuming: asyncio.Task[None]) -> None:
    if not consuming.cancelled() and consuming.exception():
        log.error(
            "the consumer did not start; the service reports itself not ready",
            error=repr(consuming.exception()),
        )


def create_app(definition: ServiceDefinition) -> FastAPI:
    settings = definition.settings
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name)
    if not settings.kafka_bootstrap_servers:
        raise RuntimeError(
            "KAFKA_BOOTSTRAP_SERVERS is not set (the launcher starts the embedded broker)"
        )
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        security=faststream_security(settings),
        # Topics are created with their partitions (ours or Strimzi's), never by a first send:
        # a topic auto-created with other partitions would move keys between partitions.
        allow_auto_create_topics=False,
        log_level=logging.DEBUG,
    )
    publishes_to = settings.kafka_topic_prefix + definition.publishes_to
    if definition.published_events:
        broker.publisher(
            publishes_to,
            title=f"{publishes_to}:publish",
            description=f"Integration events published by the {settings.service_name} service",
            schema=Union[tuple(definition.published_events)],  # noqa: UP007 - a runtime union of classes
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = contextlib.AsyncExitStack()
        application = await asyncio.to_thread(definition.create_application, settings)
        consumer = IdempotentConsumer(
            application, definition.consumer_handlers(application), broker, settings
        )
        undeclared = {event_class.TOPIC for event_class in consumer.handlers} - set(
            definition.subscribes_to
        )
        if undeclared:
            raise RuntimeError(
                f"handlers consume undeclared topics {sorted(undeclared)}; add them to subscribes_to"
            )
        topics = [
            publishes_to,
            consumer.dlq_topic,
            *consumer.topics,
            settings.kafka_topic_prefix + AUDIT_CHECKPOINTS,
        ]

        async def create_topics() -> None:
            if settings.kafka_create_topics:
                await ensure_topics(
                    settings.kafka_bootstrap_servers,  # type: ignore[arg-type]
                    topics,
                    settings.kafka_topic_partitions,
                    **aiokafka_options(settings),
                )

        await create_topics()
        subscribe(broker, consumer)
        # The producer connects now; the consumer joins its group in the background, since a
        # join can wait out a dead predecessor's session, and reads and writes need no consumer.
        await broker.connect()
        consuming = asyncio.create_task(broker.start(), name="consumer-start")
        consuming.add_done_callback(_report_failed_start)
        app.state.consuming = consuming
        relay = OutboxRelay(
            application,
            definition.integration_mapper,
            broker,
            publishes_to,
            batch_size=settings.relay_batch_size,
            idle_seconds=settings.relay_idle_seconds,
            max_message_bytes=settings.max_message_bytes,
            identify_cluster=lambda: cluster_id(
                settings.kafka_bootstrap_servers, **aiokafka_options(settings)
            ),
            prepare_cluster=create_topics,
        )
        keeper = await asyncio.to_thread(
            LedgerKeeper, application, broker, settings.kafka_topic_prefix
        )
        tasks = [
            consuming,
            asyncio.create_task(relay.run(), name=f"{settings.service_name}-relay"),
            asyncio.create_task(
                ledger_keeper(keeper, settings.audit_checkpoint_seconds)(), name="ledger"
            ),
        ]
        tasks += [asyncio.create_task(job()) for job in definition.background(application)]
        if definition.views:
            updater = await asyncio.to_thread(
                ViewUpdater,
                application,
                [view() for view in definition.views],
                create_tables=settings.create_tables,
            )
            app.state.views = await resources.enter_async_context(view_reader(settings, updater))
            tasks.append(
                asyncio.create_task(
                    updater.run(settings.relay_idle_seconds, VIEW_FALLBACK_POLL_SECONDS),
                    name="views",
                )
            )
            if await asyncio.to_thread(updater.incomplete_tables):
                # Tables an upgrade added lack the log before them: filled beside the live
                # views, which serve meanwhile (one replica does it; the others find it done).
                tasks.append(
                    asyncio.create_task(
                        complete_views(updater), name=f"{settings.service_name}-complete-views"
                    )
                )

        async def look_for_orphans() -> None:
            """Once at start: a database restored from a backup lost events its topic still
            holds; say so (log and `heze_orphaned_events`) before anyone has to ask."""
            try:
                records = await read_all(
                    settings.kafka_bootstrap_servers,  # type: ignore[arg-type]
                    publishes_to,
                    **aiokafka_options(settings),
                )
                found = await asyncio.to_thread(
                    find_orphans, application, definition.integration_mapper, records
                )
            except Exception:
                log.exception("the check for orphaned events failed; GET /audit/orphans retries")
                return
            if found:
                log.warning(
                    "the topic holds events this log does not (a restored database?);"
                    " see GET /audit/orphans",
                    orphans=len(found),
                )

        tasks.append(asyncio.create_task(look_for_orphans(), name="orphan-check"))
        app.state.application = application
        app.state.relay = relay
        app.state.consumer = consumer
        app.state.ledger = keeper
        log.info("service started", http_port=settings.http_port, topic=publishes_to)
        try:
            yield
        finally:
            await _shut_down(tasks, broker, application)
            await resources.aclose()

    app = FastAPI(title=definition.title, version="1.0.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.broker = broker
    app.state.token_verifier = TokenVerifier(settings)
    app.state.call_verifier = CallVerifier(settings.trusted_keys(), settings.service_name)
    app.state.trail_streams = definition.trail_streams
    install_error_handlers(app)
    # A command's events carry its text: a body of this size still fits in one Kafka message.
    limit_body_size(app, settings.max_message_bytes // 2)
    install_request_timing(app, settings.service_name)

    @app.middleware("http")
    async def trace_request(request: Request, call_next: Any) -> Any:
        with continue_trace(
            request.headers.get("traceparent"),
            f"{request.method} {request.url.path}",
            SpanKind.SERVER,
        ):
            return await call_next(request)

    async def database_ready() -> None:
        await asyncio.to_thread(app.state.application.log_head)

    async def broker_ready() -> None:
        if not await broker.ping(timeout=2.0):
            raise ConnectionError("broker did not answer")

    async def consumer_started() -> str | None:
        """Not ready (and the reason said) if the consumer failed to start; while it is still
        joining its group the service serves (`joining`), and what it consumes waits in the
        topics."""
        consuming: asyncio.Task[None] = app.state.consuming
        if not consuming.done():
            return "joining"
        if not consuming.cancelled() and consuming.exception():
            raise RuntimeError(f"the consumer did not start: {consuming.exception()!r}")
        return None

    app.include_router(
        health_router(
            {"database": database_ready, "broker": broker_ready, "consumer": consumer_started}
        )
    )

    @app.get("/asyncapi.json", tags=["docs"], summary="AsyncAPI document of the Kafka interface")
    async def asyncapi() -> Any:
        return (
            AsyncAPI(broker, title=definition.title, version="1.0.0")
            .to_specification()
            .to_jsonable()
        )

    app.include_router(audit_router)
    for router in definition.routers:
        app.include_router(router)
    document_error_responses(app, [audit_router, *definition.routers])
    return app


def serve(definition: ServiceDefinition) -> None:
    """The HTTP server with the messaging inside it."""
    settings = definition.settings
    uvicorn.run(
        create_app(definition),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        # X-Forwarded-For is believed only from the proxies configured, never from loopback
        # alone (uvicorn's default), so no client can choose the address it is limited by.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or "",
        # uvicorn's h11 protocol, with a deadline for a request's headers (slow clients).
        http=protocol_with_header_timeout(settings.http_header_timeout_seconds),
    )


async def complete_views(updater: ViewUpdater) -> None:
    try:
        await asyncio.to_thread(updater.complete_if_needed)
    except Exception:
        log.exception("filling the incomplete read-model tables failed; a rebuild retries it")


def create_schema(definition: ServiceDefinition) -> None:
    """Create the service's tables (event store, tracking, relay position, views) and exit.

    Production runs the services with CREATE_TABLES=false and this once before them.
    """
    settings = definition.settings.model_copy(update={"create_tables": True})
    application = definition.create_application(settings)
    RelayPositions(application.recorder, create_table=True)
    ChainTable(application.recorder, create_table=True)
    ViewUpdater(application, [view() for view in definition.views], create_tables=True)
    application.close()
    log.info("schema created", service=settings.service_name)


def run_cli(definition_factory: Callable[[], ServiceDefinition]) -> None:
    """Entry point of a service process: `serve` (default) or `create-schema`."""
    cli = typer.Typer(add_completion=False)

    @cli.command("serve")
    def serve_command() -> None:
        """Serve HTTP and messaging (the default)."""
        serve(definition_factory())

    @cli.command("create-schema")
    def create_schema_command() -> None:
        """Create the database tables and exit."""
        definition = definition_factory()
        configure_logging(definition.settings.service_name, definition.settings.log_level)
        create_schema(definition)

    cli(args=sys.argv[1:] or ["serve"])
