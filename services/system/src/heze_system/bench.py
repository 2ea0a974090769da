"""`./heze bench`: N trainees through the full pipeline on PostgreSQL and the broker, with the
services as separate processes; prints the figures and writes them as JSON.

Measured: pipeline throughput (trainees/s, stored domain events/s), hop latency (an integration
event's `occurred_at` in the producer to the timestamp of the consumer's first effect, both
taken when the events are created inside their transactions), HTTP command latency, and in the
same run on the same database and broker the raw limits: `eventsourcing` appends (one
aggregate per transaction and batched), aiokafka produce and consume rates, and replay
(rebuilding each service's read models from its log) against the raw select-and-decode rate.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import statistics
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.domain import event
from rich.console import Console
from rich.table import Table

from heze_common.broker import ensure_topics, read_all
from heze_common.events import Aggregate, AggregateCreated
from heze_common.eventstore import ServiceApplication
from heze_common.ledger import ChainTable
from heze_common.settings import ServiceSettings
from heze_common.signing import Purpose, Signer, TrustedKeys, trusted_key
from heze_common.views import ViewUpdater
from heze_contracts import parse_event
from heze_contracts.topics import (
    ASSESSMENT_EVENTS,
    CERTIFICATION_EVENTS,
    ENROLLMENT_EVENTS,
    SUBSIDY_EVENTS,
)
from heze_system.demo.run import parties_for
from heze_system.demo.scenario import Parties, Scenario
from heze_system.system import SERVICES, RunningSystem


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "count": 0}
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "count": len(ordered)}


def figures_table(title: str, rows: Sequence[tuple[str, str]]) -> Table:
    table = Table(title=title)
    table.add_column("figure", overflow="fold")
    table.add_column("value", justify="right", overflow="fold")
    for name, value in rows:
        table.add_row(name, value)
    return table


class TimedParties(Parties):
    """The demo's parties, timing every HTTP command."""

    def __init__(self, parties: Parties):
        super().__init__(
            {name: str(client.base_url) for name, client in parties.http.items()}, parties.issuer
        )
        self.seconds: list[float] = []

    async def call(
        self, service: str, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> Any:
        started = time.perf_counter()
        try:
            return await super().call(service, method, path, headers, body)
        finally:
            if method != "GET":
                self.seconds.append(time.perf_counter() - started)


class Probe(Aggregate):
    """A minimal aggregate for the raw append rate."""

    TOPIC = "bench.Probe"

    class Made(AggregateCreated):
        TOPIC = "bench.Probe.Made.v1"
        note: str

    @event(Made)
    def __init__(self, note: str) -> None:
        self.note = note


@dataclass
class Figures:
    trainees: int
    cores: int
    seconds: float = 0.0
    results: dict[str, Any] = field(default_factory=dict)


def service_application(system: RunningSystem, service: str) -> ServiceApplication:
    # The service's module registers its event topics and says whether they hold personal data.
    module = importlib.import_module(f"heze_{service}.application")
    (application_class,) = (
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceApplication)
        and value.__module__ == module.__name__
    )
    settings = ServiceSettings(
        service_name=service,
        data_dir=system.data_dir,
        database_url=system.database_url(service),
        create_tables=False,
    )
    return ServiceApplication(settings, personal_data=application_class.holds_personal_data)


def stored_events(system: RunningSystem) -> dict[str, int]:
    counts = {}
    for service in SERVICES:
        with psycopg.connect(system.database_url(service)) as connection:
            counts[service] = connection.execute(
                f"SELECT count(*) FROM {service}_events"
            ).fetchone()[0]
    return counts


def hop_latencies(system: RunningSystem, published: dict[str, datetime]) -> list[float]:
    """Seconds from each upstream event to the first effect a consumer stored for it."""
    first_effect: dict[str, datetime] = {}
    for service in SERVICES:
        app = service_application(system, service)
        start = 1
        while notifications := app.recorder.select_notifications(start, 1000):
            for notification in notifications:
                event = app.mapper.to_domain_event(notification)
                cause = event.context.causation_id
                if cause is not None and str(cause) not in first_effect:
                    first_effect[str(cause)] = event.timestamp
            start = notifications[-1].id + 1
        app.close()
    return [
        (effect - published[cause]).total_seconds()
        for cause, effect in first_effect.items()
        if cause in published
    ]


def service_settings(system: RunningSystem, service: str, **values: Any) -> ServiceSettings:
    """The service's own settings class, on its database in `system`."""
    settings_class = getattr(
        importlib.import_module(f"heze_{service}.settings"), f"{service.title()}Settings"
    )
    return settings_class(  # type: ignore[no-any-return]
        data_dir=system.data_dir, database_url=system.database_url(service), **values
    )


def select_and_decode(app: ServiceApplication) -> tuple[int, float]:
    """Select and decode the whole log, the raw limit of any replay: (events, seconds)."""
    started = time.perf_counter()
    decoded, start = 0, 1
    while notifications := app.recorder.select_notifications(start, 1000):
        for notification in notifications:
            app.mapper.to_domain_event(notification)
        decoded += len(notifications)
        start = notifications[-1].id + 1
    return decoded, time.perf_counter() - started


def replay_service(system: RunningSystem, service: str) -> dict[str, Any]:
    """Rebuild one service's read models from its log, against selecting and decoding it raw:
    the tables are rebuilt beside the live ones and switched, as the auditor's rebuild does."""
    settings = service_settings(system, service, create_tables=False)
    definition = importlib.import_module(f"heze_{service}.main").definition(settings)
    application_class = getattr(
        importlib.import_module(f"heze_{service}.application"), f"{service.title()}Application"
    )
    app = application_class(settings)
    events, raw_seconds = select_and_decode(app)
    started = time.perf_counter()
    updater = ViewUpdater(app, [view() for view in definition.views], create_tables=False)
    replayed = updater.rebuild_and_switch().events_replayed
    rebuild_seconds = time.perf_counter() - started
    app.close()
    raw_rate = events / raw_seconds if raw_seconds else 0
    rebuild_rate = replayed / rebuild_seconds if rebuild_seconds else 0
    return {
        "events": events,
        "raw_seconds": raw_seconds,
        "raw_events_per_second": raw_rate,
        "events_replayed": replayed,
        "rebuild_seconds": rebuild_seconds,
        "rebuild_events_per_second": rebuild_rate,
        "vs_raw_select_and_decode": rebuild_rate / raw_rate if raw_rate else 0,
        # Tables follow only some topics: their pace through the whole log, against reading it.
        "whole_log_vs_raw_select_and_decode": raw_seconds / rebuild_seconds
        if rebuild_seconds
        else 0,
    }


def replay(system: RunningSystem) -> dict[str, Any]:
    """Rebuild each service's read models from its log, against selecting and decoding it raw."""
    return {service: replay_service(system, service) for service in SERVICES}


UNCHAINED = {"PROCESS_RECORDER_TOPIC": "eventsourcing.postgres:PostgresProcessRecorder"}
"""The library's own recorder: appends without the hash chain, for the chain's cost."""


def raw_append_rates(system: RunningSystem, count: int = 2000) -> dict[str, float]:
    """The raw append rates, with the hash chain in every write transaction (as the services
    write) and without it; and the rate of chaining a log stored unchained (catch-up). The two
    append in turns and each rate is that of the median transaction, so that both meet the same
    load on a shared machine and a stall on one side does not pass for the chain's cost."""
    apps = {}
    for suffix, database, env in (("", "bench", {}), ("_unchained", "bench_unchained", UNCHAINED)):
        settings = ServiceSettings(
            service_name="bench",
            data_dir=system.data_dir,
            database_url=system.database_url(database),
        )
        apps[suffix] = ServiceApplication(settings, env=env)
    seconds: dict[str, list[float]] = {}
    for kind, transactions, size in (
        ("one_aggregate_per_transaction", count // 4, 1),
        ("batched_100", count // 100, 100),
    ):
        for number in range(transactions):
            for suffix, app in apps.items():
                probes = [Probe(note=f"{kind} {number}.{n}") for n in range(size)]
                started = time.perf_counter()
                app.save(*probes)
                seconds.setdefault(f"{kind}_per_second{suffix}", []).append(
                    (time.perf_counter() - started) / size
                )
    rates = {name: 1 / statistics.median(times) for name, times in seconds.items()}
    for kind in ("one_aggregate_per_transaction", "batched_100"):
        rates[f"{kind}_chain_cost"] = (
            1 - rates[f"{kind}_per_second"] / rates[f"{kind}_per_second_unchained"]
        )
    table = ChainTable(apps["_unchained"].recorder)
    started = time.perf_counter()
    chained, _ = table.extend()
    rates["catch_up_chaining_per_second"] = chained / (time.perf_counter() - started)
    for app in apps.values():
        app.close()
    return rates


async def raw_broker_rates(bootstrap: str, count: int = 50_000) -> dict[str, float]:
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic], 6)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    body = b"x" * 400
    started = time.perf_counter()
    futures = [await producer.send(topic, body, key=str(n % 1000).encode()) for n in range(count)]
    await asyncio.gather(*futures)
    produce = count / (time.perf_counter() - started)
    await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    started, received = time.perf_counter(), 0
    while received < count:
        for records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).values():
            received += len(records)
    consume = count / (time.perf_counter() - started)
    await consumer.stop()
    return {"produce_per_second": produce, "consume_per_second": consume}


async def published_bodies(bootstrap: str) -> dict[str, list[bytes]]:
    """Every message body on each service topic."""
    return {
        topic: [record.value for record in await read_all(bootstrap, topic, idle_ms=500)]
        for topic in (ENROLLMENT_EVENTS, ASSESSMENT_EVENTS, CERTIFICATION_EVENTS, SUBSIDY_EVENTS)
    }


def published_times(bodies: dict[str, list[bytes]]) -> dict[str, datetime]:
    times = {}
    for topic_bodies in bodies.values():
        for body in topic_bodies:
            event = parse_event(body)
            times[str(event.event_id)] = event.occurred_at
    return times


HALF_SPEED_SEED = 2024
"""The second cohort's people: others than the first's (seed 2023), so none is registered."""

CONSUMERS_OF = {
    ENROLLMENT_EVENTS: 3,
    ASSESSMENT_EVENTS: 1,
    CERTIFICATION_EVENTS: 1,
    SUBSIDY_EVENTS: 0,
}
"""How many services verify each message of a topic."""


def signing_cost(bodies: dict[str, list[bytes]], pipeline_seconds: float, cores: int) -> dict:
    """The CPU the run spent signing each published message once and verifying it in every
    consumer, re-measured on the run's own messages, as a share of the run's CPU capacity."""
    signer = Signer("enrollment", Ed25519PrivateKey.generate())
    trusted = TrustedKeys([trusted_key(signer, Purpose.EVENTS)])
    messages = [body for topic_bodies in bodies.values() for body in topic_bodies]
    started = time.perf_counter()
    signatures = [signer.headers(body) for body in messages]
    sign_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for body, headers in zip(messages, signatures, strict=True):
        trusted.verify(body, headers)
    verify_seconds = time.perf_counter() - started
    count = len(messages) or 1
    cpu = sum(
        len(topic_bodies) * (sign_seconds + CONSUMERS_OF[topic] * verify_seconds) / count
        for topic, topic_bodies in bodies.items()
    )
    return {
        "messages": len(messages),
        "sign_microseconds": sign_seconds / count * 1e6,
        "verify_microseconds": verify_seconds / count * 1e6,
        "cpu_seconds": cpu,
        "share_of_pipeline_cpu": cpu / (pipeline_seconds * max(cores, 1)),
    }


def run_benchmark(system: RunningSystem, trainees: int, output: Path, console: Console) -> Figures:
    import os

    figures = Figures(trainees=trainees, cores=os.cpu_count() or 0)
    before = stored_events(system)
    parties = TimedParties(parties_for(system))

    full_speed = Scenario(parties, trainees)
    half_started = datetime.now(UTC)
    after: dict[str, int] = {}
    commands = 0
    half_seconds = 0.0

    async def drive() -> None:
        nonlocal half_started, commands, half_seconds
        try:
            console.print(f"driving {trainees} trainees through the pipeline…")
            started = time.perf_counter()
            await full_speed.run()
            figures.seconds = time.perf_counter() - started
            after.update(stored_events(system))
            commands = len(parties.seconds)
            # Latency at the maximum throughput is mostly queueing; the goal is set at half of
            # it: a second cohort whose every stage starts its journeys at half the rate that
            # stage ran at.
            console.print(f"driving {trainees} more trainees at half of each stage's rate…")
            half_started = datetime.now(UTC)
            started = time.perf_counter()
            await Scenario(parties, trainees, seed=HALF_SPEED_SEED, pace=half_speed()).run()
            half_seconds = time.perf_counter() - started
        finally:
            await parties.close()

    def half_speed() -> dict[str, float]:
        return {stage: rate / 2 for stage, rate in full_speed.stage_rates.items()}

    asyncio.run(drive())
    events = sum(after.values()) - sum(before.values())
    console.print("measuring hop latency, raw limits and replay…")
    bodies = asyncio.run(published_bodies(system.kafka_bootstrap_servers or ""))
    published = published_times(bodies)
    latencies = hop_latencies(
        system, {cause: at for cause, at in published.items() if at < half_started}
    )
    half_speed_latencies = hop_latencies(
        system, {cause: at for cause, at in published.items() if at >= half_started}
    )
    signing = signing_cost(bodies, figures.seconds + half_seconds, figures.cores)
    appends = raw_append_rates(system)
    broker = asyncio.run(raw_broker_rates(system.kafka_bootstrap_servers or ""))
    replays = replay(system)
    replay_events = sum(r["events_replayed"] for r in replays.values())
    replay_seconds = sum(r["rebuild_seconds"] for r in replays.values())
    raw_events = sum(r["events"] for r in replays.values())
    raw_seconds = sum(r["raw_seconds"] for r in replays.values())
    replay_rate = replay_events / replay_seconds if replay_seconds else 0
    raw_rate = raw_events / raw_seconds if raw_seconds else 0
    events_per_second = events / figures.seconds
    figures.results = {
        "pipeline": {
            "trainees_per_second": trainees / figures.seconds,
            "domain_events_stored": events,
            "domain_events_per_second": events_per_second,
            "domain_events_per_second_vs_batched_append_limit": events_per_second
            / appends["batched_100_per_second"],
            "domain_events_per_second_vs_single_append_limit": events_per_second
            / appends["one_aggregate_per_transaction_per_second"],
        },
        "hop_latency_seconds": percentiles(latencies),
        "half_speed": {
            "stage_rates_per_second": half_speed(),
            "seconds": half_seconds,
            "hop_latency_seconds": percentiles(half_speed_latencies),
        },
        "http_command_latency_seconds": percentiles(parties.seconds[:commands]),
        "raw_eventsourcing_append": appends,
        "raw_broker": broker,
        "signing": signing,
        "replay": {
            "services": replays,
            "events_per_second": replay_rate,
            "vs_raw_select_and_decode": replay_rate / raw_rate if raw_rate else 0,
        },
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(
            {
                "trainees": trainees,
                "cores": figures.cores,
                "seconds": figures.seconds,
                **figures.results,
            },
            indent=2,
        )
    )
    pipeline = figures.results["pipeline"]
    rows = [
        ("trainees/s through the pipeline", f"{pipeline['trainees_per_second']:.2f}"),
        ("domain events stored/s (all services)", f"{events_per_second:.0f}"),
        (
            "  ÷ batched append limit",
            f"{pipeline['domain_events_per_second_vs_batched_append_limit']:.2%}",
        ),
        (
            "  ÷ one-per-transaction append limit",
            f"{pipeline['domain_events_per_second_vs_single_append_limit']:.2%}",
        ),
        *(
            (f"hop latency {q}", f"{figures.results['hop_latency_seconds'][q] * 1000:.0f} ms")
            for q in ("p50", "p95", "p99")
        ),
        *(
            (
                f"  at half of each stage's rate, {q}",
                f"{figures.results['half_speed']['hop_latency_seconds'][q] * 1000:.0f} ms",
            )
            for q in ("p50", "p95", "p99")
        ),
        *(
            (
                f"HTTP command latency {q}",
                f"{figures.results['http_command_latency_seconds'][q] * 1000:.1f} ms",
            )
            for q in ("p50", "p99")
        ),
        (
            "append, one aggregate per transaction/s",
            f"{appends['one_aggregate_per_transaction_per_second']:.0f}",
        ),
        ("append, batched 100/s", f"{appends['batched_100_per_second']:.0f}"),
        (
            "  hash chain's cost (one / batched)",
            f"{appends['one_aggregate_per_transaction_chain_cost']:.1%}"
            f" / {appends['batched_100_chain_cost']:.1%}",
        ),
        (
            "chaining an unchained log (catch-up)/s",
            f"{appends['catch_up_chaining_per_second']:.0f}",
        ),
        ("broker produce/s (aiokafka, 400 B)", f"{broker['produce_per_second']:.0f}"),
        ("broker consume/s", f"{broker['consume_per_second']:.0f}"),
        (
            "signing + verifying (Ed25519) per message",
            f"{signing['sign_microseconds']:.0f} + {signing['verify_microseconds']:.0f} µs",
        ),
        ("  as a share of the run's CPU", f"{signing['share_of_pipeline_cpu']:.2%}"),
        ("replay (read models) events/s", f"{figures.results['replay']['events_per_second']:.0f}"),
        (
            "  ÷ raw select-and-decode rate",
            f"{figures.results['replay']['vs_raw_select_and_decode']:.2%}",
        ),
    ]
    console.print(
        figures_table(
            f"Benchmark: {trainees} trainees, {figures.cores} cores, {figures.seconds:.1f} s", rows
        )
    )
    console.print(f"figures written to {output}")
    return figures
