from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient

from heze_common.auth import TokenIssuer
from heze_common.runtime import create_app
from heze_common.testing import Tokens, running, service_settings
from heze_enrollment.main import definition
from heze_enrollment.settings import EnrollmentSettings


@pytest.fixture
def enrollment_settings(database_url: str, kafka_bootstrap_servers: str) -> EnrollmentSettings:
    return service_settings(
        EnrollmentSettings,
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
    )


@pytest.fixture
def tokens(enrollment_settings: EnrollmentSettings) -> Tokens:
    return Tokens(TokenIssuer(enrollment_settings))


@pytest.fixture
async def client(enrollment_settings: EnrollmentSettings) -> AsyncIterator[AsyncClient]:
    async with running(create_app(definition(enrollment_settings))) as http:
        yield http
