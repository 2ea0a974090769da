from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from faststream.kafka import KafkaBroker

from heze_common.eventstore import ServiceApplication
from heze_common.settings import ServiceSettings
from heze_common.testing import service_settings
from heze_enrollment.settings import EnrollmentSettings


@pytest.fixture
def topic_prefix() -> str:
    """Topics of their own for each test on the shared broker."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def checkpointing_enrollment(
    database_url: str, kafka_bootstrap_servers: str, topic_prefix: str
) -> EnrollmentSettings:
    """Enrollment's settings with a checkpoint of its log signed every 0.2 s."""
    return service_settings(
        EnrollmentSettings,
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_topic_prefix=topic_prefix,
        audit_checkpoint_seconds=0.2,
    )


@pytest.fixture
def upstream_settings(database_url: str, topic_prefix: str) -> ServiceSettings:
    return service_settings(
        ServiceSettings,
        service_name="learners",
        database_url=database_url,
        kafka_topic_prefix=topic_prefix,
    )


@pytest.fixture
def upstream(upstream_settings: ServiceSettings) -> Iterator[ServiceApplication]:
    app = ServiceApplication(upstream_settings)
    yield app
    app.close()


@pytest.fixture
async def kafka_broker(kafka_bootstrap_servers: str) -> AsyncIterator[KafkaBroker]:
    broker = KafkaBroker(kafka_bootstrap_servers, log_level=logging.DEBUG)
    await broker.connect()
    yield broker
    await broker.stop()
