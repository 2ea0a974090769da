"""Pydantic domain events for `eventsourcing` aggregates, with explicit versioned topics.

Every event class declares `TOPIC = "<service>.<Aggregate>.<Event>.v<N>"`; stored history names
these topics, never module paths, so moving code cannot orphan it. An event that changes shape
raises `class_version` and gains `upcast_v1_v2(state)` (a staticmethod on the dict of stored state).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import BaseAggregate, CanInitAggregate, CanMutateAggregate
from pydantic import BaseModel, ConfigDict, Field

from heze_common import clock


class EventContext(BaseModel):
    """Why an event happened: who acted, in answer to what, within which trace."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    correlation_id: UUID = Field(default_factory=uuid4)
    causation_id: UUID | None = None
    actor: str | None = None
    traceparent: str | None = None


_current_context: ContextVar[EventContext | None] = ContextVar("event_context", default=None)


def current_context() -> EventContext:
    return _current_context.get() or EventContext()


@contextmanager
def event_context(context: EventContext) -> Iterator[EventContext]:
    """Every domain event created inside the block carries `context`."""
    token = _current_context.set(context)
    try:
        yield context
    finally:
        _current_context.reset(token)


class DomainEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    TOPIC: ClassVar[str]
    class_version: ClassVar[int] = 1
    personal_fields: ClassVar[tuple[str, ...]] = ()
    """Fields stored sealed under their person's own key (heze_common.person_keys): None once
    the person is erased, so each is typed to allow None. Nothing can be sealed for an erased
    person (`ErasedPerson`): an event about them holds None in each."""
    person_path: ClassVar[tuple[str, ...]] = ()
    """Where the event names the person its personal fields belong to; empty: the aggregate."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    context: EventContext = Field(default_factory=current_context)

    @staticmethod
    def create_timestamp() -> datetime:
        return clock.now()


class Aggregate(BaseAggregate[UUID]):
    """Base of every aggregate: declare `TOPIC` on the class and on each of its events."""

    @staticmethod
    def create_id(*_: Any, **__: Any) -> UUID:
        return uuid4()

    class Event(DomainEvent, CanMutateAggregate[UUID]):
        pass


class AggregateCreated(Aggregate.Event, CanInitAggregate[UUID]):
    """Base of the event that creates an aggregate (kept off `Aggregate` so that subclasses
    are not handed an inherited `Created` class without a topic of its own)."""

    originator_topic: str
