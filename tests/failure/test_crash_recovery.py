"""kill -9 under load. While a cohort goes through the four service processes, every service is
killed in turn at random moments, and failpoints kill them at the worst ones: mid-batch in an
outbox relay, after a relay's batch was acknowledged but before its position was recorded,
mid-handler in a consumer, and between a consumer's commit and its offset acknowledgement. A
supervisor restarts whatever died, as Kubernetes would. Every trainee still reaches its expected
state in every service, no event is lost, and nothing takes effect twice.

The soak mode is the same test, longer: `HEZE_CRASH_TRAINEES=2000 HEZE_CRASH_ROUNDS=10` (marker
`soak`: CI runs the default size, 80 people and 2 rounds).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from heze_common.broker import read_all
from heze_common.testing import READY_SECONDS
from heze_contracts import parse_event
from heze_contracts.topics import (
    ASSESSMENT_EVENTS,
    CERTIFICATION_EVENTS,
    ENROLLMENT_EVENTS,
    SUBSIDY_EVENTS,
)
from heze_system.demo.run import drive
from heze_system.system import SERVICES, RunningSystem, postgres_databases
from tests.end_to_end.expectations import expected_counts

TRAINEES = int(os.environ.get("HEZE_CRASH_TRAINEES", "80"))
ROUNDS = int(os.environ.get("HEZE_CRASH_ROUNDS", "2"))
ARMED_PHASES = (
    "relay.mid_batch=0.01,relay.before_position=0.01",
    "consumer.mid_handler=0.005,consumer.before_ack=0.005",
)
"""The failpoints a service restarts armed with after its n-th failpoint death: every other
service starts with the relay's, the rest with the consumer's, so that each side is hit in a
run, not only by chance."""
ARMED_DEATHS = len(ARMED_PHASES)
"""Failpoint deaths a service may suffer; after that it restarts unarmed, so the run ends."""


@dataclass
class Chaos:
    """Kills services in turn at random moments and restarts whatever died."""

    system: RunningSystem
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    killed: Counter[str] = field(default_factory=Counter)
    exits: Counter[str] = field(default_factory=Counter)
    reviving: set[str] = field(default_factory=set)
    unrevived: list[str] = field(default_factory=list)

    async def kill_in_turn(self, rounds: int) -> None:
        for _ in range(rounds):
            for service in SERVICES:
                await asyncio.sleep(self.rng.uniform(2, 7))
                while service in self.reviving or service in self.system.exited():
                    await asyncio.sleep(0.2)
                self.system.kill(service)
                self.killed[service] += 1

    async def supervise(self) -> None:
        while True:
            for service in self.system.exited():
                if service not in self.reviving:
                    self.exits[service] += 1
                    self.reviving.add(service)
                    asyncio.create_task(self._revive(service))
            await asyncio.sleep(0.2)

    async def _revive(self, service: str) -> None:
        while True:
            # Armed from the first restart on: a failpoint during the first start would only
            # fail the start, not test a recovery.
            deaths = self.exits[service] - self.killed[service]
            phases = ARMED_PHASES[:: 1 if SERVICES.index(service) % 2 == 0 else -1]
            armed = phases[deaths] if deaths < ARMED_DEATHS else ""
            overrides = {"HEZE_FAILPOINTS": armed}
            try:
                await asyncio.to_thread(
                    self.system.restart, service, overrides, ready_timeout=READY_SECONDS
                )
                break
            except RuntimeError:  # a failpoint killed it again while it caught up
                self.exits[service] += 1
            except TimeoutError as timeout:  # not ready in time: say so, don't spin until the end
                self.unrevived.append(str(timeout))
                break
        self.reviving.discard(service)

    async def settle(self) -> None:
        while self.reviving or (self.system.exited() and not self.unrevived):
            await asyncio.sleep(0.2)
        assert not self.unrevived, self.unrevived


def failpoint_hits(logs: Path) -> Counter[tuple[str, str]]:
    hits: Counter[tuple[str, str]] = Counter()
    for service in SERVICES:
        for line in (logs / f"{service}.log").read_text(errors="replace").splitlines():
            if '"failpoint hit' in line:
                hits[service, json.loads(line)["failpoint"]] += 1
    return hits


@pytest.fixture
def system(
    tmp_path: Path, postgres_admin_dsn: str, kafka_bootstrap_servers: str
) -> Iterator[RunningSystem]:
    prefix = f"crash_{uuid.uuid4().hex[:8]}"
    with postgres_databases(postgres_admin_dsn, prefix) as template:
        running = RunningSystem(
            data_dir=tmp_path,
            base_port=18801,
            database_url_template=template,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            environment={
                "KAFKA_TOPIC_PREFIX": f"{prefix}.",
                "KAFKA_SESSION_TIMEOUT_MS": "3000",
                "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            },
        ).start(ready_timeout=READY_SECONDS)
        try:
            yield running
        finally:
            running.stop()


async def distinct_events(system: RunningSystem) -> tuple[dict[str, dict], int]:
    """Every published event by id, and how many records were copies of one already seen."""
    prefix = system.environment["KAFKA_TOPIC_PREFIX"]
    events: dict[str, dict] = {}
    records = 0
    for topic in (ENROLLMENT_EVENTS, ASSESSMENT_EVENTS, CERTIFICATION_EVENTS, SUBSIDY_EVENTS):
        for record in await read_all(system.kafka_bootstrap_servers or "", prefix + topic):
            event = parse_event(record.value)
            records += 1
            events.setdefault(str(event.event_id), event.model_dump(mode="json"))
    return events, records - len(events)


@pytest.mark.soak
@pytest.mark.timeout(max(1800, TRAINEES * 3))  # the soak mode runs for as long as it needs
async def test_killing_every_service_repeatedly_loses_nothing_and_doubles_nothing(
    system: RunningSystem, capsys: pytest.CaptureFixture[str]
) -> None:
    chaos = Chaos(system)
    supervisor = asyncio.create_task(chaos.supervise())
    killer = asyncio.create_task(chaos.kill_in_turn(ROUNDS))
    try:
        world, problems, overdue = await drive(system, TRAINEES, Console(quiet=True))
        await killer
        await chaos.settle()
    finally:
        killer.cancel()
        supervisor.cancel()

    assert problems == []
    assert overdue == []
    expected = expected_counts(TRAINEES)
    for stage in ("registered", "enrolled", "withdrawn", "completed", "passed", "issued"):
        assert world.count(stage) == expected[stage], stage

    effects = {
        "TraineeRegistered": expected["registered"],
        "TraineeEnrolled": expected["enrolled"],
        "TraineeWithdrawn": expected["withdrawn"],
        "TrainingCompleted": expected["completed"],
        "AssessmentPassed": expected["passed"],
        "CertificateIssued": expected["issued"],
        "SubsidyApproved": world.count("subsidy approved"),
        "SubsidyPaid": world.count("subsidy paid"),
    }
    # The last events may still be on their way out of a restarted relay: wait for them (the
    # deadline only bounds a failure).
    deadline = asyncio.get_running_loop().time() + max(300, TRAINEES * 0.5)
    while True:
        events, copies = await distinct_events(system)
        by_type: dict[str, list[dict]] = defaultdict(list)
        for event in events.values():
            by_type[event["event_type"]].append(event)
        if all(len(by_type[t]) >= count for t, count in effects.items()):
            break
        if asyncio.get_running_loop().time() > deadline:
            break  # the assertions below say which events are missing
        await asyncio.sleep(1)
    for event_type, count in effects.items():
        assert len(by_type[event_type]) == count, event_type
    certificates = Counter(e["payload"]["trainee_id"] for e in by_type["CertificateIssued"])
    assert set(certificates.values()) == {1}  # one certificate per passed assessment
    approvals = Counter(e["payload"]["claim_id"] for e in by_type["SubsidyApproved"])
    assert set(approvals.values()) == {1}  # one approval per eligible claim

    hits = failpoint_hits(system.logs)
    assert sum(chaos.exits.values()) == sum(chaos.killed.values()) + sum(
        hits.values()
    ), "a service died of something other than a kill or a failpoint; see its log"
    assert all(chaos.killed[service] == ROUNDS for service in SERVICES)
    # Which points fire is chance; that both sides of the pipeline were hit is not left to it.
    assert any(point.startswith("relay.") for _, point in hits)
    assert any(point.startswith("consumer.") for _, point in hits)

    report = Table(title=f"kill -9 run: {TRAINEES} people, {ROUNDS} rounds of kills")
    for column in ("service", "killed", "failpoint deaths", "restarts"):
        report.add_column(column)
    for service in SERVICES:
        deaths = ", ".join(f"{p} ×{n}" for (s, p), n in sorted(hits.items()) if s == service)
        report.add_row(service, str(chaos.killed[service]), deaths, str(chaos.exits[service]))
    with capsys.disabled():
        Console().print(report)
        Console().print(
            f"distinct events {len(events)}, republished copies skipped by consumers {copies}; "
            + ", ".join(f"{t} {n}" for t, n in effects.items())
        )
