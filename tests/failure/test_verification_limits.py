"""Public certificate verification behind a real uvicorn (`python -m heze_certification.main
serve`): a client cannot escape its limit by sending `X-Forwarded-For` unless the peer is a proxy
the configuration names (`FORWARDED_ALLOW_IPS`), and behind a configured proxy each forwarded
client has its own allowance."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from heze_common.testing import fresh_database, service_process

LIMIT = 10
VERIFY = "/public/certificates/verify"


@pytest.fixture
def certification(
    request: pytest.FixtureRequest,
    postgres_admin_dsn: str,
    kafka_bootstrap_servers: str,
    tmp_path: Path,
) -> Iterator[str]:
    """A certification process; `request.param` is its FORWARDED_ALLOW_IPS."""
    with fresh_database(postgres_admin_dsn, "test_verify") as database_url:
        environment = {
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:10]}.",
            "DATA_DIR": str(tmp_path),
            "VERIFY_REQUESTS_PER_MINUTE": str(LIMIT),
            "FORWARDED_ALLOW_IPS": request.param,
        }
        log = tmp_path / "certification.log"
        with service_process("certification", environment, log) as served:
            yield served.url


def early_in_a_minute() -> None:
    """The limit counts per clock minute: a test's requests must fall in one."""
    while time.time() % 60 > 40:
        time.sleep(0.5)


def verifications(url: str, count: int, *, rotate_forwarded_for: bool) -> list[int]:
    statuses = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for n in range(count):
            headers = {"X-Forwarded-For": f"203.0.113.{n + 1}"} if rotate_forwarded_for else {}
            params = {"number": f"HZSZ2026-2020713-J-{n + 1:06d}", "name": "随便一个名字"}
            statuses.append(client.get(VERIFY, params=params, headers=headers).status_code)
    return statuses


@pytest.mark.parametrize("certification", [""], indirect=True)
def test_rotating_x_forwarded_for_does_not_escape_the_limit(certification: str) -> None:
    early_in_a_minute()
    statuses = verifications(certification, LIMIT + 5, rotate_forwarded_for=True)
    assert statuses == [200] * LIMIT + [429] * 5


@pytest.mark.parametrize("certification", ["127.0.0.1"], indirect=True)
def test_behind_a_configured_proxy_each_forwarded_client_has_its_own_allowance(
    certification: str,
) -> None:
    early_in_a_minute()
    assert verifications(certification, LIMIT + 5, rotate_forwarded_for=True) == [200] * (LIMIT + 5)
    with httpx.Client(base_url=certification, timeout=30) as client:  # one forwarded client
        same = {"X-Forwarded-For": "198.51.100.7"}
        params = {"number": "HZSZ2026-2020713-J-000001", "name": "某人"}
        statuses = [
            client.get(VERIFY, params=params, headers=same).status_code for _ in range(LIMIT + 1)
        ]
    assert statuses == [200] * LIMIT + [429]
