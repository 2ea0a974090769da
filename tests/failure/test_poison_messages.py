"""Poison and hostile messages on every consumed topic of every consuming service: each lands in
the service's DLQ with a reason, nothing crashes, and the messages after them still flow."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaProducer

from heze_common.runtime import create_app
from heze_common.testing import (
    eventually,
    publish,
    read_topic,
    running,
    service_settings,
    signed_headers,
)
from heze_contracts import IntegrationEvent
from heze_contracts.assessment import AssessmentFailed, AssessmentFailedPayload
from heze_contracts.enrollment import (
    TraineeEnrolled,
    TraineeEnrolledPayload,
    TraineeRegistered,
    TraineeRegisteredPayload,
    TrainingCompleted,
    TrainingCompletedPayload,
)
from heze_contracts.enums import Field, HourKind, HourMode, Level

positions = count(1)
E = TypeVar("E", bound=IntegrationEvent)
CONSUMERS = {
    "assessment": ["enrollment.events.v1"],
    "certification": ["enrollment.events.v1", "assessment.events.v1"],
    "subsidy": ["enrollment.events.v1", "certification.events.v1"],
}
EXPECTED = [
    "forged_producer",
    "invalid_json",
    "missing_headers",
    "oversized",
    "unknown_event_type",
    "unsupported_schema_version",
]


def published(event_class: type[E], payload: Any, trainee_id: UUID) -> E:
    """`payload` in its envelope, as its producer's relay publishes it now."""
    return event_class.build(
        payload,
        position=next(positions),
        occurred_at=datetime.now(UTC),
        origin_id=trainee_id,
        origin_version=next(positions),
        correlation_id=uuid4(),
        causation_id=None,
    )


def registered(trainee_id: UUID) -> TraineeRegistered:
    return published(
        TraineeRegistered,
        TraineeRegisteredPayload(
            trainee_id=trainee_id, county="牡丹区", employed=False, registered_on=date(2026, 1, 5)
        ),
        trainee_id,
    )


def enrolled(trainee_id: UUID) -> TraineeEnrolled:
    return published(
        TraineeEnrolled,
        TraineeEnrolledPayload(
            trainee_id=trainee_id,
            programme_id=uuid4(),
            institution_id=uuid4(),
            occupation_code="2-02-10-11",
            field=Field.BIG_DATA,
            level=Level.JUNIOR,
            subsidised_plan=True,
            enrolled_on=date(2026, 3, 1),
        ),
        trainee_id,
    )


def completed(trainee_id: UUID) -> TrainingCompleted:
    hours = {HourKind.THEORY: Decimal(80), HourKind.PRACTICE: Decimal(48)}
    return published(
        TrainingCompleted,
        TrainingCompletedPayload(
            trainee_id=trainee_id,
            programme_id=uuid4(),
            institution_id=uuid4(),
            occupation_code="2-02-10-11",
            field=Field.BIG_DATA,
            level=Level.JUNIOR,
            hours_by_kind=hours,
            hours_by_mode={HourMode.ONLINE: Decimal(60), HourMode.OFFLINE: Decimal(68)},
            total_hours=Decimal(128),
            exam_score=Decimal(90),
            training_certificate_number="HZPX2026-2021011-000001",
            subsidised_plan=True,
            completed_on=date(2026, 6, 30),
        ),
        trainee_id,
    )


def forged(trainee_id: UUID) -> AssessmentFailed:
    return published(
        AssessmentFailed,
        AssessmentFailedPayload(
            application_id=uuid4(),
            trainee_id=trainee_id,
            evaluation_institution_id=uuid4(),
            session_id=uuid4(),
            occupation_code="2-02-10-11",
            field=Field.BIG_DATA,
            level=Level.JUNIOR,
            theory_score=Decimal("10.0"),
            practical_score=Decimal("10.0"),
            assessment_ended_on=date(2026, 5, 1),
        ),
        trainee_id,
    )


def poison(topic: str, key: bytes) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    producer = topic.split(".")[-3]
    headers = [("event_type", b"TraineeRegistered"), ("producer", producer.encode())]
    envelope = json.loads(registered(uuid4()).to_bytes())
    return [
        (b"{oops", headers),
        (json.dumps({**envelope, "schema_version": 99}).encode(), headers),
        (json.dumps({**envelope, "event_type": "TraineeTeleported"}).encode(), headers),
        (b"x" * 5000, headers),
        (registered(uuid4()).to_bytes(), []),
        # An event of another producer, claiming this topic's producer in its headers.
        (
            forged(uuid4()).to_bytes(),
            [("event_type", b"AssessmentFailed"), ("producer", producer.encode())],
        )
        if producer != "assessment"
        else (
            registered(uuid4()).to_bytes(),
            [("event_type", b"TraineeRegistered"), ("producer", b"assessment")],
        ),
    ]


@pytest.mark.parametrize("service", sorted(CONSUMERS))
async def test_poison_goes_to_the_dead_letter_topic_and_the_rest_flows(
    service: str, database_url: str, kafka_bootstrap_servers: str, topic_prefix: str
) -> None:
    main = importlib.import_module(f"heze_{service}.main")
    settings = service_settings(
        type(main.definition().settings),
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_topic_prefix=topic_prefix,
        max_message_bytes=4096,
    )
    app = create_app(main.definition(settings))
    async with running(app):
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
        await producer.start()
        trainee_id = uuid4()
        try:
            for topic in CONSUMERS[service]:
                for body, headers in poison(topic_prefix + topic, str(trainee_id).encode()):
                    # Signed by the topic's producer: a genuine producer's bug, not a forgery
                    # (tests/failure/test_forgery.py sends those).
                    signature = signed_headers(topic.split(".")[0], body) if headers else []
                    await producer.send_and_wait(
                        topic_prefix + topic,
                        body,
                        key=str(trainee_id).encode(),
                        headers=headers + signature,
                    )
        finally:
            await producer.stop()
        # After the poison, on the same partition: a genuine event the service must still apply.
        genuine = enrolled(trainee_id) if service == "subsidy" else completed(trainee_id)
        await publish(kafka_bootstrap_servers, topic_prefix + "enrollment.events.v1", genuine)
        dlq = f"{topic_prefix}{service}.dlq"
        expected = sorted(EXPECTED * len(CONSUMERS[service]))

        async def all_dead_lettered() -> bool:
            return len(await read_topic(kafka_bootstrap_servers, dlq, idle_ms=200)) >= len(expected)

        await eventually(all_dead_lettered)
        letters = await read_topic(kafka_bootstrap_servers, dlq)
        assert sorted(dict(letter.headers)["dlq_reason"].decode() for letter in letters) == expected
        assert b"{oops" in [letter.value for letter in letters]

        def genuine_applied() -> bool:
            return bool(app.state.application.trail_streams(trainee_id))

        await eventually(genuine_applied)
