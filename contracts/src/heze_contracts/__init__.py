"""Published language of the Heze programme services: integration events, topics, JSON Schemas."""

from heze_contracts.catalogue import CATALOGUE, ContractError, events_of_topic, parse_event
from heze_contracts.envelope import ContractModel, IntegrationEvent, UtcDatetime, derive_event_id
from heze_contracts.topics import (
    ASSESSMENT_EVENTS,
    AUDIT_CHECKPOINTS,
    CERTIFICATION_EVENTS,
    ENROLLMENT_EVENTS,
    PRODUCTION_PARTITIONS,
    SUBSIDY_EVENTS,
    dlq_topic,
    events_topic,
)

__all__ = [
    "ASSESSMENT_EVENTS",
    "AUDIT_CHECKPOINTS",
    "CATALOGUE",
    "CERTIFICATION_EVENTS",
    "ENROLLMENT_EVENTS",
    "PRODUCTION_PARTITIONS",
    "SUBSIDY_EVENTS",
    "ContractError",
    "ContractModel",
    "IntegrationEvent",
    "UtcDatetime",
    "derive_event_id",
    "dlq_topic",
    "events_of_topic",
    "events_topic",
    "parse_event",
]
