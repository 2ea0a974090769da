"""Snapshots of aggregates whose history is long, so loading one reads its latest snapshot and
the few events after it instead of its whole history.

An aggregate opts in with a nested `Snapshot(AggregateSnapshot)` class that has its own topic and
declares `state` as a `SnapshotState` subclass with one field per attribute of the aggregate, and
its application lists it in `snapshotting_intervals` (the `eventsourcing` library then takes a
snapshot every that many events). The state is typed so that it round-trips through the JSON of
the event store; a snapshot is derived data (the events stay the record), and a change of the
aggregate's attributes raises the snapshot's `class_version` with an `upcast_vN_vN+1`, as events do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import BaseAggregate, CanSnapshotAggregate
from eventsourcing.utils import get_topic, register_topic, resolve_topic
from pydantic import BaseModel, ConfigDict

from heze_common.events import DomainEvent


class SnapshotState(BaseModel):
    """An aggregate's attributes at a version; subclasses add one field per attribute."""

    model_config = ConfigDict(extra="forbid")

    created_on: datetime
    modified_on: datetime


class AggregateSnapshot(DomainEvent, CanSnapshotAggregate[UUID]):
    """The state of an aggregate at a version; `topic` names the aggregate's class."""

    topic: str
    state: SnapshotState

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "TOPIC" not in cls.__dict__:
            raise TypeError(
                f"{cls.__qualname__} needs a topic of its own, e.g. TOPIC = '<service>.<Aggregate>"
                ".Snapshot.v1'"
            )
        # Stored snapshots name this topic; the library registers event topics by itself, but
        # not those of snapshot classes, and a fresh process must resolve it to read one.
        register_topic(cls.TOPIC, cls)

    @classmethod
    def take(cls, aggregate: Any) -> AggregateSnapshot:
        state_class: type[SnapshotState] = cls.model_fields["state"].annotation  # type: ignore[assignment]
        attributes = {
            name: value for name, value in vars(aggregate).items() if not name.startswith("_")
        }
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state=state_class(
                created_on=aggregate.created_on, modified_on=aggregate.modified_on, **attributes
            ),
        )

    def mutate(self, _: None) -> BaseAggregate[UUID]:
        aggregate: BaseAggregate[UUID] = object.__new__(resolve_topic(self.topic))
        aggregate.__base_init__(self.originator_id, self.originator_version, self.state.created_on)
        aggregate.modified_on = self.state.modified_on
        for name in type(self.state).model_fields.keys() - {"created_on", "modified_on"}:
            setattr(aggregate, name, getattr(self.state, name))
        return aggregate
