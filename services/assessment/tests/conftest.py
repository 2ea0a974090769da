from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from heze_assessment.main import definition
from heze_assessment.settings import AssessmentSettings
from heze_common.auth import TokenIssuer
from heze_common.runtime import create_app
from heze_common.testing import Tokens, running, service_settings


@pytest.fixture
def assessment_settings(database_url: str, kafka_bootstrap_servers: str) -> AssessmentSettings:
    return service_settings(
        AssessmentSettings,
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
    )


@pytest.fixture
def tokens(assessment_settings: AssessmentSettings) -> Tokens:
    return Tokens(TokenIssuer(assessment_settings))


@pytest.fixture
def service(assessment_settings: AssessmentSettings) -> FastAPI:
    return create_app(definition(assessment_settings))


@pytest.fixture
async def client(service: FastAPI) -> AsyncIterator[AsyncClient]:
    async with running(service) as http:
        yield http
