"""The broker loses everything in the middle of a run: an empty one takes its place. The relays
see a new cluster and publish their logs again, consumers skip what they already applied, and
the run ends in the same state as an undisturbed one.

Marker `soak`: CI runs a cohort of 24; `HEZE_BROKER_LOSS_TRAINEES=500` runs a longer one."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from heze_common.broker import EmbeddedBroker, read_all
from heze_common.testing import READY_SECONDS
from heze_contracts import parse_event
from heze_contracts.topics import ENROLLMENT_EVENTS
from heze_system.demo.run import drive
from heze_system.system import RunningSystem, postgres_databases

COHORT = int(os.environ.get("HEZE_BROKER_LOSS_TRAINEES", "24"))


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as embedded:
        yield embedded


@pytest.fixture
def system(
    tmp_path: Path, postgres_admin_dsn: str, broker: EmbeddedBroker
) -> Iterator[RunningSystem]:
    with postgres_databases(postgres_admin_dsn, f"loss_{uuid.uuid4().hex[:8]}") as template:
        running = RunningSystem(
            data_dir=tmp_path,
            base_port=18701,
            database_url_template=template,
            kafka_bootstrap_servers=broker.bootstrap_servers,
            environment={"KAFKA_SESSION_TIMEOUT_MS": "3000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500"},
        ).start(ready_timeout=READY_SECONDS)
        try:
            yield running
        finally:
            running.stop()


async def enrolments_published(broker: EmbeddedBroker) -> bool:
    records = await read_all(broker.bootstrap_servers, ENROLLMENT_EVENTS, idle_ms=200)
    return any(parse_event(record.value).event_type == "TraineeEnrolled" for record in records)


@pytest.mark.soak
@pytest.mark.timeout(max(900, COHORT * 3))
async def test_a_run_survives_the_broker_losing_everything(
    system: RunningSystem, broker: EmbeddedBroker
) -> None:
    run = asyncio.create_task(drive(system, COHORT, Console(quiet=True)))
    # Registrations and enrolments are on the broker by now; training goes on.
    deadline = asyncio.get_running_loop().time() + 120
    while not await enrolments_published(broker) and not run.done():
        assert asyncio.get_running_loop().time() < deadline, "no enrolment was published"
        await asyncio.sleep(0.5)
    assert not run.done()
    port = broker.port
    broker.stop()
    replacement = EmbeddedBroker(
        port=port
    ).start()  # empty, with a new cluster id, at the same address
    try:
        world, problems, overdue = await asyncio.wait_for(run, timeout=max(600, COHORT * 3))
    finally:
        replacement.stop()
    assert problems == []
    assert world.count("issued") == sum(1 for j in world.journeys if "passed" in j.stages)
    assert not system.exited()
