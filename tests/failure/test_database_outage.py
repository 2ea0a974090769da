"""PostgreSQL unavailable for a while: commands fail with 503 and a retry hint, nothing is
half-written, and the service recovers by itself when the database returns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from urllib.parse import urlsplit

import psycopg
import pytest

from heze_common.auth import TokenIssuer
from heze_common.runtime import create_app
from heze_common.testing import Tokens, eventually, running, service_settings
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.main import definition
from heze_enrollment.settings import EnrollmentSettings


@pytest.fixture
async def service(
    database_url: str, kafka_bootstrap_servers: str, topic_prefix: str
) -> AsyncIterator[tuple]:
    settings = service_settings(
        EnrollmentSettings,
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_topic_prefix=topic_prefix,
        postgres_connect_timeout=1,
        aggregate_cache_size=0,
    )
    app = create_app(definition(settings))
    async with running(app) as client:
        yield client, Tokens(TokenIssuer(settings)), app


def outage(postgres_admin_dsn: str, database_url: str, *, down: bool) -> None:
    """Refuse (or allow again) every connection to the service's database, and cut the open ones."""
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(postgres_admin_dsn, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if down else "true"}')
        if down:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )


def registration(number: int) -> dict:
    return {
        "name": f"停电测试{number}",
        "id_number": ResidentId.compose("371702", date(1992, 2, 2), 2 * number + 1),
        "phone": "13800000000",
        "education": "bachelor",
        "major": "软件工程",
        "county": "曹县",
        "participant_category": "digital_worker",
    }


async def test_commands_get_503_while_the_database_is_away_and_work_again_after(
    service: tuple, postgres_admin_dsn: str, database_url: str
) -> None:
    client, tokens, app = service

    def me(number: int) -> dict[str, str]:
        return tokens.trainee_verified_as(registration(number)["id_number"], subject="outage")

    assert (await client.post("/trainees", json=registration(1), headers=me(1))).status_code == 201
    head_before = app.state.application.log_head()

    outage(postgres_admin_dsn, database_url, down=True)
    try:
        refused = await client.post("/trainees", json=registration(2), headers=me(2))
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "store_unavailable"
        assert refused.headers["Retry-After"] == "5"
        ready = await client.get("/health/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith(
            "unavailable"
        )
    finally:
        outage(postgres_admin_dsn, database_url, down=False)

    async def recovered() -> bool:  # the pool reconnects by itself, within a retry hint or two
        return (await client.get("/health/ready")).status_code == 200

    await eventually(recovered)
    again = await client.post("/trainees", json=registration(2), headers=me(2))
    assert again.status_code == 201, again.text
    # Nothing half-written: the refused attempt left no event; the retry stored exactly one registration.
    assert app.state.application.log_head() == head_before + 1
