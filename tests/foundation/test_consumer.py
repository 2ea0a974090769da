"""The idempotent consumer against real PostgreSQL and the real broker."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from faststream.kafka import KafkaBroker
from opentelemetry.trace import SpanKind

from heze_common.broker import ensure_topics
from heze_common.consumer import IdempotentConsumer, subscribe
from heze_common.dlq import DeadLetter, dead_letters, redrive
from heze_common.events import EventContext, event_context
from heze_common.eventstore import ServiceApplication
from heze_common.outbox import OutboxRelay
from heze_common.settings import ServiceSettings
from heze_common.signing import OPERATOR, EmbeddedKeyring, Signer
from heze_common.testing import eventually, read_topic, service_settings, signed_headers
from heze_common.tracing import configure_tracing, continue_trace, current_traceparent
from heze_contracts import parse_event
from tests.foundation.sample import LEARNER_MAPPER, Learner, Tally, TallyApplication

configure_tracing("foundation-tests")

LEARNERS = 40
WITHDRAWN = 25


@pytest.fixture
def downstream(second_database_url: str, topic_prefix: str) -> Iterator[TallyApplication]:
    settings = service_settings(
        ServiceSettings,
        service_name=f"tally-{topic_prefix.strip('.')}",
        database_url=second_database_url,
        kafka_topic_prefix=topic_prefix,
    )
    app = TallyApplication(settings)
    yield app
    app.close()


@pytest.fixture
async def consuming(
    downstream: TallyApplication, kafka_bootstrap_servers: str
) -> AsyncIterator[IdempotentConsumer]:
    broker = KafkaBroker(kafka_bootstrap_servers, log_level=logging.DEBUG)
    consumer = IdempotentConsumer(downstream, downstream.handlers(), broker, downstream.settings)
    await ensure_topics(kafka_bootstrap_servers, [*consumer.topics, consumer.dlq_topic], 6)
    subscribe(broker, consumer)
    await broker.start()
    yield consumer
    await broker.stop()


def store_learners(app: ServiceApplication) -> list[Learner]:
    learners = [
        Learner(name=f"李{number}号", id_number="440524188001010014") for number in range(LEARNERS)
    ]
    for learner in learners[:WITHDRAWN]:
        learner.withdraw("家庭原因")
    learners[-1].withdraw("always fails")
    app.save(*learners)
    return learners


async def caught_up(bootstrap: str, group: str, topic: str) -> bool:
    """Whether the consumer group has committed past every record on the topic."""
    ends: dict[int, int] = {}
    for record in await read_topic(bootstrap, topic, idle_ms=200):
        ends[record.partition] = record.offset + 1
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await probe.start()
    try:
        for partition, end in ends.items():
            if (await probe.committed(TopicPartition(topic, partition)) or 0) < end:
                return False
        return True
    finally:
        await probe.stop()


def tally_state(app: TallyApplication, learners: list[Learner]) -> dict:
    state = {}
    for learner in learners:
        tally: Tally = app.repository.get(Tally.create_id(learner.id))
        state[learner.id] = (tally.name, tally.withdrawals, tally.version)
    return state


async def test_duplicates_and_a_republished_topic_change_nothing(
    upstream: ServiceApplication,
    downstream: TallyApplication,
    consuming: IdempotentConsumer,
    kafka_broker: KafkaBroker,
    kafka_bootstrap_servers: str,
) -> None:
    (topic,) = consuming.topics
    group = downstream.settings.service_name
    learners = await asyncio.to_thread(store_learners, upstream)
    relay = OutboxRelay(upstream, LEARNER_MAPPER, kafka_broker, topic)
    while await relay.publish_pending():
        pass
    expected_events = LEARNERS + WITHDRAWN  # a tally per learner, a count per withdrawal

    async def all_applied() -> bool:
        return downstream.log_head() >= expected_events and await caught_up(
            kafka_bootstrap_servers, group, topic
        )

    await eventually(all_applied)
    state_after_one_delivery = tally_state(downstream, learners)
    head_after_one_delivery = downstream.log_head()

    # The same message delivered again.
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await producer.start()
    try:
        for record in (await read_topic(kafka_bootstrap_servers, topic))[:10]:
            await producer.send_and_wait(
                topic, record.value, key=record.key, headers=list(record.headers)
            )
    finally:
        await producer.stop()
    await eventually(lambda: caught_up(kafka_bootstrap_servers, group, topic))

    # The whole topic published again from the start, as after a broker that lost its data.
    await asyncio.to_thread(relay.positions.save, topic, 0)
    while await relay.publish_pending():
        pass
    await eventually(lambda: caught_up(kafka_bootstrap_servers, group, topic))

    assert downstream.log_head() == head_after_one_delivery
    assert tally_state(downstream, learners) == state_after_one_delivery
    assert all(
        withdrawals == ["家庭原因"]
        for _, withdrawals, _ in list(state_after_one_delivery.values())[:WITHDRAWN]
    )


async def test_poison_messages_go_to_the_dead_letter_topic_and_the_rest_flows(
    upstream: ServiceApplication,
    downstream: TallyApplication,
    consuming: IdempotentConsumer,
    kafka_broker: KafkaBroker,
    kafka_bootstrap_servers: str,
) -> None:
    (topic,) = consuming.topics
    learners = await asyncio.to_thread(store_learners, upstream)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await producer.start()
    try:
        # Ahead of the valid messages on the same partition as the first learner's.
        key = str(learners[0].id).encode()
        headers = [("event_type", b"TraineeRegistered"), ("producer", b"enrollment")]
        for body in (b"{not json", b'{"event_type": "TraineeRegistered"}'):
            # Signed: a genuine producer's bug, not a forgery (that is test_forgery's case).
            await producer.send_and_wait(
                topic, body, key=key, headers=headers + signed_headers("enrollment", body)
            )
    finally:
        await producer.stop()
    relay = OutboxRelay(upstream, LEARNER_MAPPER, kafka_broker, topic)
    while await relay.publish_pending():
        pass

    async def everything_else_applied() -> bool:
        return downstream.log_head() >= LEARNERS + WITHDRAWN

    await eventually(everything_else_applied)

    async def three_dead_letters() -> bool:
        return len(await read_topic(kafka_bootstrap_servers, consuming.dlq_topic, idle_ms=200)) >= 3

    await eventually(three_dead_letters)
    letters = await read_topic(kafka_bootstrap_servers, consuming.dlq_topic)
    reasons = sorted(dict(letter.headers)["dlq_reason"].decode() for letter in letters)
    assert reasons == ["handler_failed", "invalid_json", "not_an_envelope"]
    assert b"{not json" in [letter.value for letter in letters]
    failed = next(
        letter for letter in letters if dict(letter.headers)["dlq_reason"] == b"handler_failed"
    )
    assert "always fails" in failed.value.decode()
    assert b"RuntimeError" in dict(failed.headers)["dlq_error"]
    # The learner whose withdrawal failed still has its tally, without the withdrawal.
    tally: Tally = downstream.repository.get(Tally.create_id(learners[-1].id))
    assert tally.withdrawals == []


async def test_trace_context_flows_from_command_through_kafka_to_downstream_effects(
    upstream: ServiceApplication,
    downstream: TallyApplication,
    consuming: IdempotentConsumer,
    kafka_broker: KafkaBroker,
    kafka_bootstrap_servers: str,
) -> None:
    (topic,) = consuming.topics
    with continue_trace(None, "POST /learners", SpanKind.SERVER):
        context = EventContext(actor="trainee:t1", traceparent=current_traceparent())
        with event_context(context):
            learner = Learner(name="赵六", id_number="11010519491231002X")
    upstream.save(learner)
    trace_id = context.traceparent.split("-")[1]
    relay = OutboxRelay(upstream, LEARNER_MAPPER, kafka_broker, topic)
    while await relay.publish_pending():
        pass

    (record,) = await read_topic(kafka_bootstrap_servers, topic)
    assert dict(record.headers)["traceparent"].decode().split("-")[1] == trace_id

    await eventually(lambda: asyncio.to_thread(lambda: downstream.log_head() >= 1))
    (opened,) = downstream.events.get(Tally.create_id(learner.id))
    assert opened.context.traceparent.split("-")[1] == trace_id
    assert opened.context.traceparent != context.traceparent  # a span of its own, same trace
    assert opened.context.correlation_id == context.correlation_id
    assert opened.context.causation_id == parse_event(record.value).event_id


async def published_with_one_dead_letter(
    upstream: ServiceApplication,
    consuming: IdempotentConsumer,
    kafka_broker: KafkaBroker,
    kafka_bootstrap_servers: str,
) -> tuple[list[Learner], DeadLetter]:
    """The learners published; the withdrawal whose handler always fails is dead-lettered."""
    (topic,) = consuming.topics
    learners = await asyncio.to_thread(store_learners, upstream)
    relay = OutboxRelay(upstream, LEARNER_MAPPER, kafka_broker, topic)
    while await relay.publish_pending():
        pass

    async def one_dead_letter() -> bool:
        return len(await dead_letters(kafka_bootstrap_servers, consuming.dlq_topic)) == 1

    await eventually(one_dead_letter)
    (letter,) = await dead_letters(kafka_bootstrap_servers, consuming.dlq_topic)
    return learners, letter


async def test_a_dead_letter_is_re_driven_once_its_cause_is_fixed(
    upstream: ServiceApplication,
    downstream: TallyApplication,
    consuming: IdempotentConsumer,
    kafka_broker: KafkaBroker,
    kafka_bootstrap_servers: str,
) -> None:
    (topic,) = consuming.topics
    learners, letter = await published_with_one_dead_letter(
        upstream, consuming, kafka_broker, kafka_bootstrap_servers
    )
    assert (letter.reason, letter.original_topic, letter.event_type) == (
        "handler_failed",
        topic,
        "TraineeWithdrawn",
    )

    downstream.handler_bug_fixed = True
    assert await redrive(kafka_bootstrap_servers, [letter]) == 1

    def withdrawal_applied() -> bool:
        tally: Tally = downstream.repository.get(Tally.create_id(learners[-1].id))
        return tally.withdrawals == ["always fails"]

    await eventually(withdrawal_applied)
    assert (
        await redrive(kafka_bootstrap_servers, [letter]) == 1
    )  # a second re-drive changes nothing
    await eventually(
        lambda: caught_up(kafka_bootstrap_servers, downstream.settings.service_name, topic)
    )
    tally: Tally = downstream.repository.get(Tally.create_id(learners[-1].id))
    assert tally.withdrawals == ["always fails"]


async def test_a_corrected_dead_letter_counts_only_signed_by_a_trusted_operator(
    upstream: ServiceApplication,
    downstream: TallyApplication,
    consuming: IdempotentConsumer,
    kafka_broker: KafkaBroker,
    kafka_bootstrap_servers: str,
) -> None:
    (topic,) = consuming.topics
    learners, letter = await published_with_one_dead_letter(
        upstream, consuming, kafka_broker, kafka_bootstrap_servers
    )
    corrected = json.loads(letter.value)
    corrected["payload"]["reason"] = "更正后的原因"
    body = json.dumps(corrected, ensure_ascii=False).encode()

    with pytest.raises(ValueError, match="operator"):
        await redrive(kafka_bootstrap_servers, [letter], body)
    # An operator nobody trusts: refused like any forgery.
    stranger = Signer("operator", Ed25519PrivateKey.generate())
    await redrive(kafka_bootstrap_servers, [letter], body, stranger)

    async def refused() -> bool:
        letters = await dead_letters(kafka_bootstrap_servers, consuming.dlq_topic)
        return [d.reason for d in letters] == ["handler_failed", "bad_signature"]

    await eventually(refused, timeout=120)
    # The operator of the trust list: applied, and the effect says who re-drove it.
    operator = EmbeddedKeyring(downstream.settings.data_dir).signer(OPERATOR)
    await redrive(kafka_bootstrap_servers, [letter], body, operator)

    def applied() -> bool:
        tally: Tally = downstream.repository.get(Tally.create_id(learners[-1].id))
        return tally.withdrawals == ["更正后的原因"]

    await eventually(applied, timeout=120)
    last = list(downstream.events.get(Tally.create_id(learners[-1].id)))[-1]
    assert last.context.actor == "redrive:operator enrollment:TraineeWithdrawn"
