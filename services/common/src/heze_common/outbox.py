"""The outbox relay: the event store's notification log is the outbox.

The relay reads notifications after its recorded position, translates the public ones into
integration events, publishes them in order (key = subject id), waits for the broker's
acknowledgement of the whole batch, and only then records the new position. Every message is
signed with the service's event key over its exact bytes (heze_common.signing). A crash repeats
at most the unacknowledged batch, with the same deterministic event ids; it never skips one.
When idle it waits for the store's notification of new events (heze_common.wakeups), polling
only as a fallback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import structlog
from eventsourcing.persistence import Notification
from faststream.kafka import KafkaBroker

from heze_common.cancellation import stop_if_cancelled
from heze_common.events import DomainEvent
from heze_common.eventstore import ServiceApplication
from heze_common.failpoints import failpoint
from heze_common.metrics import METRICS
from heze_common.relay_position import RelayPositions
from heze_common.signing import Signer
from heze_common.wakeups import new_events
from heze_contracts import IntegrationEvent
from heze_contracts.enums import Producer

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Publication:
    """What one domain event becomes on the wire: which integration event, with which payload."""

    event_class: type[IntegrationEvent]
    payload: object


Translator = Callable[[DomainEvent], Publication | None]
"""A domain event becomes at most one integration event: consumers track by position, so two
messages from one notification would look like a duplicate of each other."""


class IntegrationMapper:
    """Explicitly maps the domain events a service publishes; all others stay private."""

    def __init__(self, producer: Producer, translators: Mapping[type[DomainEvent], Translator]):
        self.producer = producer
        self.translators = dict(translators)

    @property
    def domain_topics(self) -> list[str]:
        return sorted(event_class.TOPIC for event_class in self.translators)

    def to_integration_event(
        self, domain_event: DomainEvent, position: int
    ) -> IntegrationEvent | None:
        translate = self.translators.get(type(domain_event))
        publication = translate(domain_event) if translate else None
        if publication is None:
            return None
        return publication.event_class.build(
            publication.payload,
            position=position,
            occurred_at=domain_event.timestamp,
            origin_id=domain_event.originator_id,
            origin_version=domain_event.originator_version,
            correlation_id=domain_event.context.correlation_id,
            causation_id=domain_event.context.causation_id,
        )


def message_headers(event: IntegrationEvent, traceparent: str | None) -> dict[str, str]:
    headers = {
        "event_type": event.event_type,
        "schema_version": str(event.schema_version),
        "producer": event.producer.value,
        "event_id": str(event.event_id),
    }
    if traceparent:
        headers["traceparent"] = traceparent
    return headers


class BrokerLostData(RuntimeError):
    """The broker acknowledged an offset at or below one it acknowledged before."""


class OutboxRelay:
    def __init__(
        self,
        app: ServiceApplication,
        mapper: IntegrationMapper,
        broker: KafkaBroker,
        topic: str,
        *,
        batch_size: int = 500,
        idle_seconds: float = 0.1,
        fallback_poll_seconds: float = 5.0,
        max_message_bytes: int = 1_000_000,
        identify_cluster: Callable[[], Awaitable[str]] | None = None,
        prepare_cluster: Callable[[], Awaitable[None]] | None = None,
        signer: Signer | None = None,
    ):
        self.app = app
        self.signer = signer or app.settings.event_signer(mapper.producer.value)
        self.mapper = mapper
        self.broker = broker
        self.topic = topic
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        """How often the idle relay polls while it gets no wake-ups (heze_common.wakeups)."""
        self.fallback_poll_seconds = fallback_poll_seconds
        """How often the idle relay polls while it does: a lost notification waits this long."""
        self.max_message_bytes = max_message_bytes
        self.positions = RelayPositions(app.recorder, create_table=app.settings.create_tables)
        self.identify_cluster = identify_cluster
        self.prepare_cluster = prepare_cluster
        """Creates the topics (with their partitions) on a cluster met for the first time: keys
        must land on the same partitions as before, for consumers' per-partition tracking."""
        self.cluster_id: str | None = None
        self.cluster_check_seconds = 5.0
        self._cluster_checked_at = 0.0
        self._acknowledged_offsets: dict[int, int] = {}

    async def run(self) -> None:
        """Publish forever, woken by the store when events are stored (polling as the fallback);
        broker or database trouble is logged and retried, never skipped."""
        async with new_events(
            self.app.recorder,
            poll_seconds=self.idle_seconds,
            fallback_seconds=self.fallback_poll_seconds,
        ) as wakeup:
            backoff = self.idle_seconds
            while True:
                try:
                    await self._know_the_cluster()
                    published_any = await self.publish_pending()
                    backoff = self.idle_seconds
                except BrokerLostData as lost:
                    log.warning("broker lost data, republishing from the start", detail=str(lost))
                    await asyncio.to_thread(self.positions.save, self.topic, 0, self.cluster_id)
                    self._acknowledged_offsets.clear()
                    self.cluster_id = None  # and ask again which cluster this is
                    continue
                except Exception:
                    stop_if_cancelled()
                    log.exception("relay cycle failed; retrying", topic=self.topic)
                    backoff = min(backoff * 2, 5.0)
                    self.cluster_id = None  # the broker may have been replaced: ask again
                    await asyncio.sleep(backoff)
                    continue
                if not published_any:
                    await wakeup.wait()

    async def _know_the_cluster(self) -> None:
        """Learn (and prepare) the cluster at start, after a failure, and every so often while
        idle, so a replaced broker is noticed before anything is sent to it."""
        if self.identify_cluster is None:
            return
        now = asyncio.get_running_loop().time()
        if (
            self.cluster_id is not None
            and now - self._cluster_checked_at < self.cluster_check_seconds
        ):
            return
        current = await self.identify_cluster()
        if current != self.cluster_id and self.prepare_cluster:
            await self.prepare_cluster()
        self.cluster_id, self._cluster_checked_at = current, now

    async def publish_pending(self) -> bool:
        """Publish one batch; return whether there was anything to read."""
        position, head, notifications = await asyncio.to_thread(self._read_batch)
        if not notifications:
            METRICS.relay_lag.labels(self.app.name).set(max(head - position, 0))
            return False
        await self._publish(notifications)
        failpoint("relay.before_position")
        await asyncio.to_thread(
            self.positions.save, self.topic, notifications[-1].id, self.cluster_id
        )
        METRICS.relay_lag.labels(self.app.name).set(max(head - notifications[-1].id, 0))
        return True

    def _read_batch(self) -> tuple[int, int, list[Notification]]:
        position, published_to = self.positions.load_with_cluster(self.topic)
        if self.cluster_id and published_to and published_to != self.cluster_id:
            # A new cluster (an empty embedded broker, or a Kafka cluster rebuilt after a loss):
            # everything is published again; consumers skip what they already applied.
            log.warning(
                "new broker cluster, republishing from the start",
                was=published_to,
                now=self.cluster_id,
            )
            position = 0
        notifications = self.app.recorder.select_notifications(
            position + 1, self.batch_size, None, self.mapper.domain_topics
        )
        return position, self.app.log_head(), list(notifications)

    async def _publish(self, notifications: list[Notification]) -> None:
        pending = []
        for index, notification in enumerate(notifications):
            if index == len(notifications) // 2:
                failpoint("relay.mid_batch")
            domain_event: DomainEvent = self.app.mapper.to_domain_event(notification)
            event = self.mapper.to_integration_event(domain_event, notification.id)
            if event is None:
                continue
            body = event.to_bytes()
            if len(body) > self.max_message_bytes:
                raise ValueError(
                    f"{event.event_type} at position {notification.id} is {len(body)} bytes,"
                    f" over the {self.max_message_bytes}-byte message limit"
                )
            pending.append(
                await self.broker.publish(
                    body,
                    self.topic,
                    key=event.key_bytes(),
                    headers={
                        **message_headers(event, domain_event.context.traceparent),
                        **self.signer.headers(body),
                    },
                    no_confirm=True,
                )
            )
        for record in await asyncio.gather(*pending):
            self._check_offset(record.partition, record.offset)
        METRICS.events_published.labels(self.app.name).inc(len(pending))

    def _check_offset(self, partition: int, offset: int) -> None:
        previous = self._acknowledged_offsets.get(partition)
        if previous is not None and offset <= previous:
            raise BrokerLostData(
                f"{self.topic}[{partition}] acknowledged offset {offset} after {previous}"
            )
        self._acknowledged_offsets[partition] = offset
