from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from certification_builders import PEOPLE

from heze_certification import application as application_module
from heze_certification.main import definition
from heze_certification.settings import CertificationSettings
from heze_common.auth import TokenIssuer
from heze_common.runtime import create_app
from heze_common.testing import Tokens, running, service_settings


@pytest.fixture(autouse=True)
def enrollment_answers_the_claim_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Certification alone, without enrollment: its claim check of a holder's identity is
    answered by the people the builders registered (the real call: tests/end_to_end)."""
    monkeypatch.setattr(application_module, "EnrollmentHolders", lambda *_, **__: PEOPLE)


@pytest.fixture
def certification_settings(
    database_url: str, kafka_bootstrap_servers: str
) -> CertificationSettings:
    return service_settings(
        CertificationSettings,
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        deadline_watch_seconds=0.2,
    )


@pytest.fixture
def tokens(certification_settings: CertificationSettings) -> Tokens:
    return Tokens(TokenIssuer(certification_settings))


@pytest.fixture
def service(certification_settings: CertificationSettings) -> FastAPI:
    return create_app(definition(certification_settings))


@pytest.fixture
async def client(service: FastAPI) -> AsyncIterator[AsyncClient]:
    async with running(service) as http:
        yield http
