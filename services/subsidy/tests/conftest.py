from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from heze_common.auth import TokenIssuer
from heze_common.runtime import create_app
from heze_common.testing import Tokens, running, service_settings
from heze_subsidy.main import definition
from heze_subsidy.settings import SubsidySettings


@pytest.fixture
def subsidy_settings(database_url: str, kafka_bootstrap_servers: str) -> SubsidySettings:
    return service_settings(
        SubsidySettings,
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
    )


@pytest.fixture
def tokens(subsidy_settings: SubsidySettings) -> Tokens:
    return Tokens(TokenIssuer(subsidy_settings))


@pytest.fixture
def service(subsidy_settings: SubsidySettings) -> FastAPI:
    return create_app(definition(subsidy_settings))


@pytest.fixture
async def client(service: FastAPI) -> AsyncIterator[AsyncClient]:
    async with running(service) as http:
        yield http
