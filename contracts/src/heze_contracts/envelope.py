"""The envelope every integration event travels in, and the base of every payload."""

import hashlib
from datetime import datetime
from typing import Any, ClassVar, Literal, Self, get_args, get_origin
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, model_validator

from heze_contracts.enums import Producer
from heze_contracts.topics import events_topic
from heze_contracts.values import Count, UtcDatetime

__all__ = [
    "EVENT_ID_NAMESPACE",
    "ContractModel",
    "IntegrationEvent",
    "UtcDatetime",
    "derive_event_id",
]

# Fixed forever: changing it would give every re-published event a new id.
EVENT_ID_NAMESPACE = UUID("6f0c3f7e-2b1a-5d8e-9c47-1e3a5b7d9f20")


class ContractModel(BaseModel):
    """Base of every contract model: unknown fields are errors, instances are immutable.

    Strict: no silent coercion (JSON still carries UUIDs, dates and enums as strings).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True
    )


def derive_event_id(
    producer: Producer, origin_id: UUID, origin_version: int, event_type: str
) -> UUID:
    """The same domain event (aggregate id + version) always maps to the same event id."""
    return uuid5(EVENT_ID_NAMESPACE, f"{producer.value}/{origin_id}/{origin_version}/{event_type}")


class IntegrationEvent(ContractModel):
    """Envelope of a published event; a concrete event narrows `event_type`, `schema_version`
    and `payload`. EVENT_TYPE and SCHEMA_VERSION are read from those Literal annotations;
    PRODUCER and KEY come from class keywords: `class X(IntegrationEvent, producer=..., key=...)`.
    """

    EVENT_TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int]
    PRODUCER: ClassVar[Producer]
    TOPIC: ClassVar[str]
    KEY: ClassVar[str]
    """The payload field whose value is `subject_id`, the Kafka key."""

    event_id: UUID
    event_type: str
    schema_version: int
    occurred_at: UtcDatetime
    producer: Producer
    subject_id: UUID
    correlation_id: UUID
    causation_id: UUID | None
    position: Count
    """The producer's notification id: consumers track it per (producer, partition)."""
    payload: ContractModel

    def __init_subclass__(
        cls, *, producer: Producer | None = None, key: str | None = None, **kwargs: Any
    ):
        super().__init_subclass__(**kwargs)
        if producer is not None:
            cls.PRODUCER = producer
            cls.TOPIC = events_topic(producer)
        if key is not None:
            cls.KEY = key

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        event_type = cls.model_fields["event_type"].annotation
        if get_origin(event_type) is Literal:
            (cls.EVENT_TYPE,) = get_args(event_type)
            (cls.SCHEMA_VERSION,) = get_args(cls.model_fields["schema_version"].annotation)

    @model_validator(mode="after")
    def _matches_declaration(self) -> Self:
        if self.producer is not self.PRODUCER:
            raise ValueError(f"producer must be {self.PRODUCER.value} for {self.EVENT_TYPE}")
        if self.subject_id != getattr(self.payload, self.KEY):
            raise ValueError(f"subject_id must equal payload.{self.KEY} (the Kafka key)")
        return self

    @classmethod
    def build(
        cls,
        payload: ContractModel,
        *,
        position: int,
        occurred_at: datetime,
        origin_id: UUID,
        origin_version: int,
        correlation_id: UUID,
        causation_id: UUID | None,
    ) -> Self:
        """Wrap `payload`, published for version `origin_version` of aggregate `origin_id`."""
        return cls(
            event_id=derive_event_id(cls.PRODUCER, origin_id, origin_version, cls.EVENT_TYPE),
            event_type=cls.EVENT_TYPE,
            schema_version=cls.SCHEMA_VERSION,
            occurred_at=occurred_at,
            producer=cls.PRODUCER,
            subject_id=getattr(payload, cls.KEY),
            correlation_id=correlation_id,
            causation_id=causation_id,
            position=position,
            payload=payload,
        )

    def to_bytes(self) -> bytes:
        """Compact UTF-8 JSON; non-ASCII text is written as is, not \\u-escaped."""
        return self.model_dump_json().encode()

    def content_digest(self) -> str:
        """A digest of everything the event says except where the producer put it (`position`):
        a republished copy has the same one; a different event with the same id (two timelines
        of a producer restored from a backup) has another."""
        said = self.model_dump_json(exclude={"position"}).encode()
        return hashlib.sha256(said).hexdigest()[:32]

    def key_bytes(self) -> bytes:
        return str(self.subject_id).encode("ascii")
