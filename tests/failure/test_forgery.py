"""Forged messages, sent as an anonymous Kafka client with every header set "correctly", on each
consumed topic of each consuming service. Only what a trusted producer signed is believed: every
forgery ends in the DLQ as `bad_signature` with no effect, a replayed genuine message is skipped
as the duplicate it is, and genuine events after the forgeries still apply."""

from __future__ import annotations

import importlib
import json
from collections import Counter
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.tests.samples import build_sample
from heze_common.outbox import message_headers
from heze_common.runtime import create_app
from heze_common.signing import KEY_ID_HEADER, Signer
from heze_common.testing import eventually, publish, read_topic, running, service_settings
from heze_contracts import IntegrationEvent
from tests.failure.test_poison_messages import completed, enrolled

CONSUMERS = {
    "assessment": ["enrollment.events.v1"],
    "certification": ["enrollment.events.v1", "assessment.events.v1"],
    "subsidy": ["enrollment.events.v1", "certification.events.v1"],
}


def plain_headers(event: IntegrationEvent) -> list[tuple[str, bytes]]:
    return [(name, value.encode()) for name, value in message_headers(event, None).items()]


def forgeries(event: IntegrationEvent, genuine_key_id: str) -> list[tuple[bytes, list]]:
    """The ways an outsider can send `event`: unsigned, signed with a key of their own that
    claims the producer's name, and under the producer's real key id with their own signature."""
    body, headers = event.to_bytes(), plain_headers(event)
    impostor = Signer(event.producer.value, Ed25519PrivateKey.generate())
    own_key = [(k, v.encode()) for k, v in impostor.headers(body).items()]
    borrowed_id = [(k, v) for k, v in own_key if k != KEY_ID_HEADER] + [
        (KEY_ID_HEADER, genuine_key_id.encode())
    ]
    return [(body, headers), (body, headers + own_key), (body, headers + borrowed_id)]


@pytest.mark.parametrize("service", sorted(CONSUMERS))
async def test_forged_messages_are_dead_lettered_and_change_nothing(
    service: str, database_url: str, kafka_bootstrap_servers: str, topic_prefix: str
) -> None:
    main = importlib.import_module(f"heze_{service}.main")
    settings = service_settings(
        type(main.definition().settings),
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_topic_prefix=topic_prefix,
    )
    app = create_app(main.definition(settings))
    async with running(app):
        application = app.state.application
        consumer = app.state.consumer
        first, later = uuid4(), uuid4()
        genuine = (enrolled if service == "subsidy" else completed)(first)
        enrollment_topic = topic_prefix + "enrollment.events.v1"
        await publish(kafka_bootstrap_servers, enrollment_topic, genuine)
        await eventually(lambda: bool(application.trail_streams(first)))
        (record,) = await read_topic(kafka_bootstrap_servers, enrollment_topic)
        head_before = application.log_head()

        messages: list[tuple[str, bytes, list]] = []
        for topic in CONSUMERS[service]:
            handled = [
                event_class
                for event_class in consumer.handlers
                if topic_prefix + event_class.TOPIC == topic_prefix + topic
            ]
            assert handled, topic
            producer_name = topic.split(".")[0]
            key_id = settings.trusted_keys().keys
            genuine_key_id = next(k for k, v in key_id.items() if v.signer == producer_name)
            for event_class in handled:
                for body, headers in forgeries(build_sample(event_class), genuine_key_id):
                    messages.append((topic_prefix + topic, body, headers))
            # A huge position, to make the consumer skip every later genuine event as "seen".
            far_ahead = build_sample(handled[0]).model_copy(update={"position": 10**12})
            messages.append((topic_prefix + topic, far_ahead.to_bytes(), plain_headers(far_ahead)))
        # The genuine message replayed with an altered body (its real signature kept), and as is.
        altered = json.loads(record.value)
        altered["payload"]["trainee_id"] = altered["subject_id"] = str(uuid4())
        messages.append((enrollment_topic, json.dumps(altered).encode(), list(record.headers)))
        replayed = (enrollment_topic, record.value, list(record.headers))

        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
        await producer.start()
        try:
            for topic, body, headers in [*messages, replayed]:
                await producer.send_and_wait(topic, body, key=str(first).encode(), headers=headers)
        finally:
            await producer.stop()

        dlq = f"{topic_prefix}{service}.dlq"

        async def all_dead_lettered() -> bool:
            return len(await read_topic(kafka_bootstrap_servers, dlq, idle_ms=200)) >= len(messages)

        await eventually(all_dead_lettered, timeout=120)
        letters = await read_topic(kafka_bootstrap_servers, dlq)
        reasons = Counter(dict(letter.headers)["dlq_reason"].decode() for letter in letters)
        assert reasons == {"bad_signature": len(messages)}
        assert application.log_head() == head_before  # no forgery took any effect

        # Genuine events after the forgeries still apply, on the same partition.
        await publish(
            kafka_bootstrap_servers,
            enrollment_topic,
            (enrolled if service == "subsidy" else completed)(later),
        )
        await eventually(lambda: bool(application.trail_streams(later)), timeout=120)
        assert not application.trail_streams(UUID(altered["subject_id"]))
        assert await read_topic(kafka_bootstrap_servers, dlq) == letters  # the replay: skipped
