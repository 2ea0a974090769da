"""A producer's database restored from a backup, the way deploy/README.md tells ops to: a cohort
goes through the four service processes on PostgreSQL, the enrollment database is dumped, a
second cohort goes through, enrollment is stopped and its database restored from the dump (the
second cohort's history there is lost), and a third cohort registers. Enrollment's new events
reuse the positions and even the event ids of the lost ones; every one of them must still reach
every service and take effect exactly once, and the lost timeline's events that had been
applied downstream are listed as orphaned.

Marker `soak`: CI runs cohorts of 8; `HEZE_RESTORE_TRAINEES=100` runs larger ones."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from rich.console import Console

from heze_common.auth import TokenIssuer
from heze_common.broker import read_all
from heze_common.postgres_server import binaries
from heze_common.settings import ServiceSettings
from heze_common.testing import READY_SECONDS
from heze_contracts import parse_event
from heze_contracts.enums import Role
from heze_contracts.topics import (
    ASSESSMENT_EVENTS,
    CERTIFICATION_EVENTS,
    ENROLLMENT_EVENTS,
    SUBSIDY_EVENTS,
)
from heze_system.demo.run import drive
from heze_system.orphans import orphans_with_effects
from heze_system.system import SERVICES, RunningSystem, postgres_databases

COHORT = int(os.environ.get("HEZE_RESTORE_TRAINEES", "8"))
KEPT, LOST, AFTER = 1, 2, 3
"""Seeds of the three cohorts: before the dump, lost by the restore, after it."""


@pytest.fixture
def system(tmp_path: Path, postgres_admin_dsn: str) -> Iterator[RunningSystem]:
    with postgres_databases(postgres_admin_dsn, f"restore_{uuid.uuid4().hex[:8]}") as template:
        running = RunningSystem(
            data_dir=tmp_path / "data",
            base_port=18761,
            database_url_template=template,
            environment={"KAFKA_SESSION_TIMEOUT_MS": "3000", "KAFKA_HEARTBEAT_INTERVAL_MS": "500"},
        ).start(ready_timeout=READY_SECONDS)
        try:
            yield running
        finally:
            running.stop()


def client_tool(name: str, url: str) -> str:
    """`pg_dump` or `pg_restore` of the server's own major version: the embedded server's come
    with its wheel; an older server's (the local one, here) are on the PATH. A newer pg_dump
    writes settings an older server rejects."""
    with psycopg.connect(url) as connection:
        version = int(connection.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]
    if version // 10000 == 18:
        return str(binaries() / name)
    found = shutil.which(name)
    assert found, f"{name} for PostgreSQL {version // 10000} is not on the PATH"
    return found


def restore(system: RunningSystem, postgres_admin_dsn: str, dump: Path) -> None:
    """Drop the enrollment database and restore it from `dump`, with enrollment stopped."""
    url = system.database_url("enrollment")
    name = url.rpartition("/")[2]
    system.kill("enrollment")
    with psycopg.connect(postgres_admin_dsn, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [client_tool("pg_restore", url), "--no-owner", "--dbname", url, str(dump)], check=True
    )
    system.restart("enrollment", ready_timeout=READY_SECONDS)


async def distinct_events(system: RunningSystem, topic: str) -> dict[tuple, object]:
    """The events on a topic, one per distinct content (republished copies collapse)."""
    events = {}
    for record in await read_all(system.kafka_bootstrap_servers or "", topic, idle_ms=300):
        event = parse_event(record.value)
        events[(event.event_id, event.model_dump_json(exclude={"position"}))] = event
    return events


def orphaned_events(report: list[dict]) -> list[dict]:
    return [orphan for orphan in report if orphan["producer"] == "enrollment"]


@pytest.mark.soak
@pytest.mark.timeout(max(1800, COHORT * 60))
async def test_after_a_producer_restore_every_new_event_takes_effect_once(
    system: RunningSystem, postgres_admin_dsn: str, tmp_path: Path
) -> None:
    quiet = Console(quiet=True)
    kept, problems, _ = await drive(system, COHORT, quiet, seed=KEPT)
    assert problems == []
    dump = tmp_path / "enrollment.dump"
    enrollment_url = system.database_url("enrollment")
    pg_dump = client_tool("pg_dump", enrollment_url)
    subprocess.run([pg_dump, "--format=custom", "--file", str(dump), enrollment_url], check=True)
    lost, problems, _ = await drive(system, COHORT, quiet, seed=LOST)
    assert problems == []

    restore(system, postgres_admin_dsn, dump)
    after, problems, _ = await drive(system, COHORT, quiet, seed=AFTER)
    assert problems == []  # every new trainee in its expected state in every service

    # Enrollment's new events reused positions of the lost ones: the test is only worth
    # something if they did.
    enrollment = await distinct_events(system, ENROLLMENT_EVENTS)
    lost_ids = {j.trainee_id for j in lost.journeys if j.trainee_id}
    new_ids = {j.trainee_id for j in after.journeys if j.trainee_id}
    positions = defaultdict(set)
    for event in enrollment.values():
        subject = str(event.subject_id)
        positions["lost" if subject in lost_ids else "new" if subject in new_ids else "kept"].add(
            event.position
        )
    assert positions["lost"] & positions["new"], "the restore reused no position"

    # Each effect exactly once for the new cohort.
    effects: Counter[str] = Counter()
    for topic in (ASSESSMENT_EVENTS, CERTIFICATION_EVENTS, SUBSIDY_EVENTS):
        for event in (await distinct_events(system, topic)).values():
            if str(getattr(event.payload, "trainee_id", "")) in new_ids:
                effects[event.event_type] += 1
    passed = sum(1 for j in after.journeys if "passed" in j.stages)
    assert effects["AssessmentPassed"] == passed
    assert effects["CertificateIssued"] == sum(1 for j in after.journeys if j.certificate)
    assert effects["CertificateIssued"] == passed
    approved = sum(1 for j in after.journeys if "subsidy approved" in j.stages)
    assert effects["SubsidyApproved"] == approved

    # The lost timeline's events that were applied downstream are listed as orphaned, with
    # what they caused; nothing of the kept or the new cohort is.
    issuer = TokenIssuer(ServiceSettings(service_name="test", data_dir=system.data_dir))
    urls = {service: system.url(service) for service in SERVICES}
    report = await orphans_with_effects(urls, issuer.mint(Role.AUDITOR))
    orphaned = {orphan["subject_id"] for orphan in report if orphan["producer"] == "enrollment"}
    assert lost_ids <= orphaned
    assert not orphaned & (new_ids | {j.trainee_id for j in kept.journeys})
    caused = {
        (orphan["event_type"], effect["service"])
        for orphan in report
        for effect in orphan["effects"]
    }
    assert ("TrainingCompleted", "assessment") in caused
    assert ("TraineeRegistered", "certification") in caused
    metrics = httpx.get(f"{system.url('enrollment')}/metrics", timeout=30).text
    assert (
        f'heze_orphaned_events{{service="enrollment"}} {float(len(orphaned_events(report)))}'
        in metrics
    )
