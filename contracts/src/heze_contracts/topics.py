"""Kafka topic names: one events topic per producing service, one dead-letter topic per consumer."""

from heze_contracts.enums import Producer

ENROLLMENT_EVENTS = "enrollment.events.v1"
ASSESSMENT_EVENTS = "assessment.events.v1"
CERTIFICATION_EVENTS = "certification.events.v1"
SUBSIDY_EVENTS = "subsidy.events.v1"
AUDIT_CHECKPOINTS = "audit.checkpoints"

PRODUCTION_PARTITIONS = 6

_EVENTS_TOPICS = {
    Producer.ENROLLMENT: ENROLLMENT_EVENTS,
    Producer.ASSESSMENT: ASSESSMENT_EVENTS,
    Producer.CERTIFICATION: CERTIFICATION_EVENTS,
    Producer.SUBSIDY: SUBSIDY_EVENTS,
}


def events_topic(producer: Producer) -> str:
    return _EVENTS_TOPICS[producer]


def dlq_topic(service: str) -> str:
    """Where `service` parks the messages it could not process."""
    return f"{service}.dlq"
