"""The idempotent consumer: upstream integration event -> commands -> new domain events, saved
with a tracking record in ONE transaction. The Kafka offset is committed only after the
database commit. Only a message signed by a trusted key is believed (heze_common.signing); any
other is dead-lettered as `bad_signature` and has no effect.

A message is recognised by what it says, not by where the producer put it: its tracking
record is named by the producer, the event id and a digest of the event (everything but the
position), so a duplicate (a redelivery, a topic republished after the broker lost its data, a
replay) is skipped, while positions play no part. A producer whose database was restored to an
earlier point reuses positions, and even event ids (they derive from aggregate id and version):
its new events still differ in what they say (time, payload, correlation), so they are applied,
and no position anyone makes up can make a consumer skip a genuine event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any

import structlog
from aiokafka import ConsumerRecord, TopicPartition
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, Tracking
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.middlewares import AckPolicy
from opentelemetry.trace import SpanKind

from heze_common.cancellation import stop_if_cancelled
from heze_common.events import EventContext, event_context
from heze_common.eventstore import ServiceApplication
from heze_common.failpoints import failpoint
from heze_common.metrics import METRICS
from heze_common.settings import ServiceSettings
from heze_common.signing import BadSignature, Voucher
from heze_common.tracing import continue_trace, current_traceparent
from heze_contracts import ContractError, IntegrationEvent, parse_event
from heze_contracts.topics import dlq_topic

log = structlog.get_logger(__name__)

Handler = Callable[[Any], Iterable[Any]]
"""Turns one upstream integration event into aggregates carrying their new domain events."""

TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
REQUIRED_HEADERS = ("event_type", "producer")


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DEAD_LETTERED = "dead_lettered"


class DeadLetter(Exception):
    """A message that cannot be processed: it goes to the DLQ with this reason."""

    def __init__(self, code: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class IdempotentConsumer:
    def __init__(
        self,
        app: ServiceApplication,
        handlers: Mapping[type[IntegrationEvent], Handler],
        broker: KafkaBroker,
        settings: ServiceSettings,
    ):
        self.app = app
        self.handlers = dict(handlers)
        self.broker = broker
        self.settings = settings
        prefix = settings.kafka_topic_prefix
        self.topic_producers = {
            prefix + event_class.TOPIC: event_class.PRODUCER for event_class in handlers
        }
        self.dlq_topic = prefix + dlq_topic(settings.service_name)
        self.trusted = settings.trusted_keys()

    @property
    def topics(self) -> list[str]:
        return sorted(self.topic_producers)

    async def process(self, record: ConsumerRecord) -> Outcome:
        try:
            event, voucher = self._admit(record)
        except DeadLetter as letter:
            await self._dead_letter(record, letter)
            return Outcome.DEAD_LETTERED
        handler = self.handlers.get(type(event))
        if handler is None:
            return Outcome.IGNORED
        tracking = Tracking(receipt_name(event), 1)
        headers = _headers(record)
        failures = 0
        while True:
            try:
                with continue_trace(
                    headers.get("traceparent"), f"consume {event.event_type}", SpanKind.CONSUMER
                ):
                    applied = await asyncio.to_thread(
                        self._apply, handler, event, tracking, voucher
                    )
                return Outcome.APPLIED if applied else Outcome.DUPLICATE
            except TRANSIENT_ERRORS as error:
                # The database or network is away: wait for it, never skip the message.
                log.warning(
                    "consumer waiting for infrastructure", error=str(error), topic=record.topic
                )
                await asyncio.sleep(min(self.settings.consumer_retry_backoff_seconds * 10, 5.0))
            except Exception as error:  # a handler bug or a conflict that does not resolve
                stop_if_cancelled()
                failures += 1
                if failures >= self._attempts_allowed(error):
                    await self._dead_letter(record, DeadLetter("handler_failed", repr(error)))
                    return Outcome.DEAD_LETTERED
                await asyncio.sleep(self.settings.consumer_retry_backoff_seconds * failures)

    def _attempts_allowed(self, error: Exception) -> int:
        # An IntegrityError is a concurrent write to the same aggregate (or a duplicate tracking
        # record written by another instance): re-running the handler resolves it.
        if isinstance(error, IntegrityError):
            return self.settings.consumer_max_attempts * 4
        return self.settings.consumer_max_attempts

    def _admit(self, record: ConsumerRecord) -> tuple[IntegrationEvent, Voucher]:
        body: bytes = record.value or b""
        if len(body) > self.settings.max_message_bytes:
            raise DeadLetter(
                "oversized",
                f"{len(body)} bytes, over the {self.settings.max_message_bytes}-byte limit",
            )
        headers = _headers(record)
        missing = [name for name in REQUIRED_HEADERS if name not in headers]
        if missing:
            raise DeadLetter("missing_headers", f"missing header(s): {', '.join(missing)}")
        try:
            voucher = self.trusted.verify(body, headers)
        except BadSignature as error:
            raise DeadLetter("bad_signature", str(error)) from error
        try:
            event = parse_event(body)
        except ContractError as error:
            raise DeadLetter(error.code, error.detail) from error
        expected_producer = self.topic_producers.get(record.topic)
        if event.producer != expected_producer or headers["producer"] != event.producer.value:
            raise DeadLetter(
                "forged_producer",
                f"{event.event_type} claims producer {event.producer.value!r} (header"
                f" {headers['producer']!r}) on topic {record.topic!r}, which only"
                f" {expected_producer and expected_producer.value!r} publishes to",
            )
        if headers["event_type"] != event.event_type:
            raise DeadLetter(
                "header_mismatch",
                f"header event_type {headers['event_type']!r} but body is {event.event_type!r}",
            )
        try:
            self.trusted.vouches_for(voucher, event.producer, event.occurred_at)
        except BadSignature as error:
            raise DeadLetter("bad_signature", str(error)) from error
        return event, voucher

    def _apply(
        self, handler: Handler, event: IntegrationEvent, tracking: Tracking, voucher: Voucher
    ) -> bool:
        if self.app.last_tracked(tracking.application_name):
            return False
        cause = f"{event.producer.value}:{event.event_type}"
        context = EventContext(
            correlation_id=event.correlation_id,
            causation_id=event.event_id,
            # A corrected dead letter is the operator's word, not the producer's: say whose.
            actor=f"redrive:{voucher.redriven_by} {cause}" if voucher.redriven_by else cause,
            traceparent=current_traceparent(),
        )
        with event_context(context):
            aggregates = list(handler(event))
        failpoint("consumer.mid_handler")
        self.app.save_tracked(tracking, *aggregates)
        return True

    async def _dead_letter(self, record: ConsumerRecord, letter: DeadLetter) -> None:
        headers = {
            **_headers(record),
            "dlq_reason": letter.code,
            "dlq_error": letter.detail[:2000],
            "dlq_consumer": self.settings.service_name,
            "original_topic": record.topic,
            "original_partition": str(record.partition),
            "original_offset": str(record.offset),
        }
        while True:
            try:
                await self.broker.publish(
                    record.value or b"", self.dlq_topic, key=record.key, headers=headers
                )
                break
            except Exception as error:  # the DLQ write must succeed before the offset moves on
                stop_if_cancelled()
                log.warning("dead-letter publish failed; retrying", error=str(error))
                await asyncio.sleep(1.0)
        METRICS.dead_letters.labels(self.settings.service_name, letter.code).inc()
        log.warning(
            "message dead-lettered",
            reason=letter.code,
            detail=letter.detail,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )


def receipt_name(event: IntegrationEvent) -> str:
    """The tracking name of a message: producer, event id and a digest of all it says but the
    position. One record per message; a second with the same name is a duplicate."""
    return f"{event.producer.value}/{event.event_id}/{event.content_digest()}"


def _headers(record: ConsumerRecord) -> dict[str, str]:
    return {name: value.decode("utf-8", "replace") for name, value in (record.headers or ())}


async def _raw_body(message: Any) -> bytes:
    return message.body


def subscribe(broker: KafkaBroker, consumer: IdempotentConsumer) -> None:
    """Attach the consumer to the broker as one FastStream subscriber over its upstream topics."""
    if not consumer.topics:
        return
    settings = consumer.settings
    subscriber = broker.subscriber(
        *consumer.topics,
        group_id=settings.service_name,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        decoder=_raw_body,
        title=f"{settings.service_name}-upstream",
        description="Upstream integration events, applied idempotently",
    )

    @subscriber
    async def on_upstream_event(body: bytes, message: KafkaMessage) -> None:
        record: ConsumerRecord = message.raw_message  # type: ignore[assignment]
        outcome = await consumer.process(record)
        failpoint("consumer.before_ack")
        await message.ack()
        METRICS.messages_consumed.labels(settings.service_name, record.topic, outcome.value).inc()
        partition = TopicPartition(record.topic, record.partition)
        highwater = message.consumer.highwater(partition)  # type: ignore[attr-defined]
        if highwater is not None:
            METRICS.consumer_lag.labels(settings.service_name, record.topic, record.partition).set(
                max(highwater - record.offset - 1, 0)
            )
