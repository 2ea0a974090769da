"""The event-sourced application every service builds on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, get_type_hints
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import Mapper, ProcessRecorder, Tracking
from eventsourcing.utils import get_topic

from heze_common.commands import Command, Decision
from heze_common.errors import NotFound
from heze_common.idempotency import IdempotencyKey
from heze_common.person_keys import MemoryPersonKeys, PersonalData, PostgresPersonKeys
from heze_common.persistence import JsonTranscoder, PydanticMapper
from heze_common.settings import ServiceSettings

A = TypeVar("A")


class ServiceApplication(Application):
    """An `eventsourcing` application that runs one command per call (`handle`), and whose
    recorder also keeps tracking records, so that the effects of an upstream message and the
    record of having processed it commit together."""

    command_handlers: ClassVar[dict[type[Command], Callable[[Any, Any], Decision[Any]]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.command_handlers = {
            **cls.command_handlers,
            **{
                get_type_hints(method)["command"]: method
                for method in vars(cls).values()
                if getattr(method, "handles_command", False)
            },
        }

    env: ClassVar[dict[str, str]] = {
        "MAPPER_TOPIC": get_topic(PydanticMapper),
        "TRANSCODER_TOPIC": get_topic(JsonTranscoder),
    }

    def __init__(
        self,
        settings: ServiceSettings,
        env: dict[str, str] | None = None,
        *,
        personal_data: bool | None = None,
    ) -> None:
        """`personal_data` says, for a plain ServiceApplication reading a service's store (a
        rebuild worker, a benchmark), whether that service's events hold personal fields."""
        self.settings = settings
        if personal_data is not None:
            self.holds_personal_data = personal_data
        self.name = settings.service_name
        super().__init__(env={**settings.eventsourcing_env(), **(env or {})})
        self.recorder: ProcessRecorder

    holds_personal_data: ClassVar[bool] = False
    """Whether the service's events hold personal fields: then it keeps a key per person
    (heze_common.person_keys) and needs its person master key."""

    def construct_mapper(self) -> Mapper[UUID]:
        """The mapper, with the people's data keys beside the events (heze_common.person_keys)."""
        mapper = super().construct_mapper()
        if not self.holds_personal_data:
            return mapper
        master = self.settings.person_master_keys()
        datastore = getattr(self.factory, "datastore", None)
        keys = (
            MemoryPersonKeys(master)
            if datastore is None
            else PostgresPersonKeys(master, datastore, create_table=self.settings.create_tables)
        )
        self.personal_data = PersonalData(keys)
        assert isinstance(mapper, PydanticMapper)
        mapper.personal_data = self.personal_data
        return mapper

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    def handle(self, command: Command, key: IdempotencyKey | None = None) -> Any:
        """Run one command: its handler decides, and what it changed is saved at once, with the
        record of the request's idempotency key when it has one. A repeat of a keyed request
        gets the first answer from that record and changes nothing."""
        recorded = None if key is None else key.recorded(self)
        if recorded is not None:
            return recorded.outcome(self)
        handler = self.command_handlers.get(type(command))
        if handler is None:
            raise TypeError(f"{type(self).__name__} has no handler for {type(command).__name__}")
        decision = handler(self, command)
        self.save(*decision.changed, *([] if key is None else [key.record(decision.result)]))
        return decision.result

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
