"""Orphaned events: what a producer's topic holds that its own log no longer does.

When a service's database is restored to an earlier point, the events it had published since
are gone from its log but not from its topic, and consumers may have applied them. They cannot
be unapplied; they are found here (every message of the topic whose position the log does not
hold, or holds another event at) and listed for ops, never silently kept as if nothing happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from aiokafka import ConsumerRecord

from heze_common.eventstore import ServiceApplication
from heze_common.metrics import METRICS
from heze_common.outbox import IntegrationMapper
from heze_contracts import IntegrationEvent, parse_event


@dataclass(frozen=True)
class Orphan:
    position: int
    event_id: UUID
    event_type: str
    subject_id: UUID
    occurred_at: datetime


def find_orphans(
    app: ServiceApplication, mapper: IntegrationMapper, records: list[ConsumerRecord]
) -> list[Orphan]:
    """The distinct events on the topic (its `records`) that the service's log does not hold."""
    published: dict[str, IntegrationEvent] = {}
    for record in records:
        event = parse_event(record.value)
        published.setdefault(event.content_digest(), event)
    positions = {event.position for event in published.values()}
    held = _held_digests(app, mapper, positions)
    orphans = [
        Orphan(e.position, e.event_id, e.event_type, e.subject_id, e.occurred_at)
        for digest, e in published.items()
        if held.get(e.position) != digest
    ]
    METRICS.orphaned_events.labels(app.name).set(len(orphans))
    return sorted(orphans, key=lambda orphan: (orphan.position, str(orphan.event_id)))


def _held_digests(
    app: ServiceApplication, mapper: IntegrationMapper, positions: set[int], batch: int = 500
) -> dict[int, str]:
    """What the log publishes at each of `positions`: one pass over the public notifications."""
    held: dict[int, str] = {}
    start, last = 1, max(positions, default=0)
    while start <= last:
        notifications = app.recorder.select_notifications(start, batch, None, mapper.domain_topics)
        if not notifications:
            break
        for notification in notifications:
            if notification.id in positions:
                event = mapper.to_integration_event(
                    app.mapper.to_domain_event(notification), notification.id
                )
                if event is not None:
                    held[notification.id] = event.content_digest()
        start = notifications[-1].id + 1
    return held
