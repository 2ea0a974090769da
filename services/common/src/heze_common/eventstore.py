"""The event-sourced application every service builds on."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import ProcessRecorder, Recording, Tracking
from eventsourcing.utils import get_topic

from heze_common.errors import NotFound
from heze_common.idempotency import deferred_saves
from heze_common.persistence import JsonTranscoder, PydanticMapper
from heze_common.settings import ServiceSettings

A = TypeVar("A")


class ServiceApplication(Application):
    """An `eventsourcing` application whose recorder also keeps tracking records, so that the
    effects of an upstream message and the record of having processed it commit together."""

    env: ClassVar[dict[str, str]] = {
        "MAPPER_TOPIC": get_topic(PydanticMapper),
        "TRANSCODER_TOPIC": get_topic(JsonTranscoder),
    }

    def __init__(self, settings: ServiceSettings, env: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.name = settings.service_name
        super().__init__(env={**settings.eventsourcing_env(), **(env or {})})
        self.recorder: ProcessRecorder

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording]:
        """Save now, unless a keyed command is running: its events wait for its record."""
        held = deferred_saves()
        if held is None:
            return super().save(*objs, **kwargs)
        if kwargs:
            raise TypeError("a keyed command saves aggregates only")
        held.extend(objs)
        return []

    def save_tracked(self, tracking: Tracking, *aggregates: Any) -> None:
        """Store the new events of `aggregates` and the tracking record in one transaction."""
        processing = ProcessingEvent(tracking)
        processing.collect_events(*aggregates)
        self.events.put(processing.events, tracking=processing.tracking)

    def last_tracked(self, tracking_name: str) -> int:
        return self.recorder.max_tracking_id(tracking_name) or 0

    def log_head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def get(self, kind: type[A], aggregate_id: UUID, what: str) -> A:
        """The aggregate of that kind with that id, or 404 `unknown_<what>`."""
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            aggregate = None
        if not isinstance(aggregate, kind):
            raise NotFound(f"unknown_{what.replace(' ', '_')}", f"no {what} with id {aggregate_id}")
        return aggregate
