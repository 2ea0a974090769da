"""End to end: the four services as separate processes against PostgreSQL and the broker, the
demo cohort (smaller) driven through them, every trainee checked in every service."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import pytest
from heze_system.demo.cohort import cohort
from heze_system.demo.run import drive
from heze_system.system import RunningSystem

COHORT = 60


def expected_counts(size: int) -> Counter[str]:
    """What the scenario's rules make of the cohort, computed without running anything."""
    counts: Counter[str] = Counter()
    for person in cohort(size):
        if person.flaw:
            continue
        counts["registered"] += 1
        counts["enrolled"] += 1
        if person.number % 41 == 5:
            counts["withdrawn"] += 1
            continue
        if person.number % 37 == 3:
            continue  # fails the completion exam
        counts["completed"] += 1
        counts["applied"] += 1
        counts["assessed"] += 1
        if person.number % 10 == 4:
            continue  # fails the level assessment
        counts["passed"] += 1
        counts["issued"] += 1
    return counts


@pytest.fixture(scope="module")
def system(
    tmp_path_factory: pytest.TempPathFactory, postgres_admin_dsn: str, kafka_bootstrap_servers: str
) -> Iterator[RunningSystem]:
    import uuid

    import psycopg

    prefix = f"e2e_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_admin_dsn, autocommit=True) as admin:
        for service in ("enrollment", "assessment", "certification", "subsidy"):
            admin.execute(f'CREATE DATABASE "{prefix}_{service}"')
    base = postgres_admin_dsn.rpartition("/")[0]
    running = RunningSystem(
        data_dir=tmp_path_factory.mktemp("e2e"),
        base_port=18301,
        database_url_template=f"{base}/{prefix}_{{service}}",
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        environment={
            "KAFKA_TOPIC_PREFIX": f"{prefix}.",
            "KAFKA_SESSION_TIMEOUT_MS": "3000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        },
    )
    with running:
        yield running
    with psycopg.connect(postgres_admin_dsn, autocommit=True) as admin:
        for service in ("enrollment", "assessment", "certification", "subsidy"):
            admin.execute(f'DROP DATABASE IF EXISTS "{prefix}_{service}" WITH (FORCE)')


def test_the_demo_cohort_reaches_its_expected_state_in_every_service(system: RunningSystem) -> None:
    from rich.console import Console

    world, problems, overdue = asyncio.run(drive(system, COHORT, Console(quiet=True)))
    assert problems == []
    expected = expected_counts(COHORT)
    for stage in (
        "registered",
        "enrolled",
        "withdrawn",
        "completed",
        "applied",
        "assessed",
        "passed",
        "issued",
    ):
        assert world.count(stage) == expected[stage], stage
    assert world.count("subsidy paid") == sum(
        1 for j in world.journeys if "issued" in j.stages and j.plan and j.plan.subsidised
    )
    assert world.repeat_claim_refused
    assert world.refusals["invalid_id_number"] == sum(
        p.flaw == "invalid_id_number" for p in cohort(COHORT)
    )
    assert world.refusals["retired"] == sum(p.flaw == "retired" for p in cohort(COHORT))
    assert world.refusals["outside_scope"] == 1
    assert overdue == []
    assert not system.exited()
