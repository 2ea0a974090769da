"""The broker loses everything in the middle of a run: an empty one takes its place. The relays
see a new cluster and publish their logs again, consumers skip what they already applied, and
the run ends in the same state as an undisturbed one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from heze_common.broker import EmbeddedBroker
from heze_system.demo.run import drive
from heze_system.system import RunningSystem, postgres_databases

COHORT = 24


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as embedded:
        yield embedded


@pytest.fixture
def system(
    tmp_path: Path, postgres_admin_dsn: str, broker: EmbeddedBroker
) -> Iterator[RunningSystem]:
    with postgres_databases(postgres_admin_dsn, f"loss_{uuid.uuid4().hex[:8]}") as template:
        with RunningSystem(
            data_dir=tmp_path,
            base_port=18701,
            database_url_template=template,
            kafka_bootstrap_servers=broker.bootstrap_servers,
            environment={"KAFKA_SESSION_TIMEOUT_MS": "3000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500"},
        ) as running:
            yield running


async def test_a_run_survives_the_broker_losing_everything(
    system: RunningSystem, broker: EmbeddedBroker
) -> None:
    run = asyncio.create_task(drive(system, COHORT, Console(quiet=True)))
    await asyncio.sleep(4)  # registrations and enrolments are published by now; training goes on
    assert not run.done()
    port = broker.port
    broker.stop()
    replacement = EmbeddedBroker(
        port=port
    ).start()  # empty, with a new cluster id, at the same address
    try:
        world, problems, overdue = await asyncio.wait_for(run, timeout=600)
    finally:
        replacement.stop()
    assert problems == []
    assert world.count("issued") == sum(1 for j in world.journeys if "passed" in j.stages)
    assert not system.exited()
