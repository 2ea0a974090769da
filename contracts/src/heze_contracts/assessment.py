"""Integration events of the assessment service (assessment.events.v1), keyed by trainee_id."""

from datetime import date
from typing import Literal
from uuid import UUID

from heze_contracts.enums import Field, Level, Producer, Sex
from heze_contracts.envelope import ContractModel, IntegrationEvent
from heze_contracts.values import Code, IdNumber, OccupationCode, Score, Text, UtcDatetime


class AssessmentEvent(IntegrationEvent, producer=Producer.ASSESSMENT, key="trainee_id"):
    pass


class AssessmentAppliedPayload(ContractModel):
    """An application under the notification-commitment system (告知承诺制)."""

    application_id: UUID
    trainee_id: UUID
    evaluation_institution_id: UUID
    occupation_code: OccupationCode
    field: Field
    level: Level
    commitment_text: Text
    """The commitment as signed: a false declaration later voids the result."""
    commitment_signed_at: UtcDatetime
    applied_at: UtcDatetime


class AssessmentApplied(AssessmentEvent):
    event_type: Literal["AssessmentApplied"]
    schema_version: Literal[1]
    payload: AssessmentAppliedPayload


class QualificationConfirmedPayload(ContractModel):
    application_id: UUID
    trainee_id: UUID
    evaluation_institution_id: UUID
    occupation_code: OccupationCode
    level: Level
    route: Text
    """Which application condition of the standard was met."""
    confirmed_at: UtcDatetime


class QualificationConfirmed(AssessmentEvent):
    event_type: Literal["QualificationConfirmed"]
    schema_version: Literal[1]
    payload: QualificationConfirmedPayload


class QualificationRejectedPayload(ContractModel):
    application_id: UUID
    trainee_id: UUID
    evaluation_institution_id: UUID
    reason_code: Code
    reason: Text


class QualificationRejected(AssessmentEvent):
    event_type: Literal["QualificationRejected"]
    schema_version: Literal[1]
    payload: QualificationRejectedPayload


class Holder(ContractModel):
    """The person a certificate would name, as version 1 carried them in plaintext."""

    name: Text
    id_number: IdNumber
    sex: Sex
    birth_date: date


class AssessmentPassedPayload(ContractModel):
    """A pass, naming the trainee by id only: certification learns the holder's name and ID
    number from enrollment, not from the broker."""

    application_id: UUID
    trainee_id: UUID
    evaluation_institution_id: UUID
    session_id: UUID
    occupation_code: OccupationCode
    field: Field
    level: Level
    theory_score: Score
    practical_score: Score
    assessment_ended_on: date
    """Starts the 30-day deadline for reporting certificate data to the province."""


class AssessmentPassed(AssessmentEvent):
    event_type: Literal["AssessmentPassed"]
    schema_version: Literal[2]
    payload: AssessmentPassedPayload


class AssessmentPassedV1Payload(ContractModel):
    """A pass as version 1 published it, with the holder in plaintext (read only in messages
    already on the topic)."""

    application_id: UUID
    trainee_id: UUID
    evaluation_institution_id: UUID
    session_id: UUID
    holder: Holder
    occupation_code: OccupationCode
    field: Field
    level: Level
    theory_score: Score
    practical_score: Score
    assessment_ended_on: date
    """Starts the 30-day deadline for reporting certificate data to the province."""


class AssessmentPassedV1(AssessmentEvent):
    event_type: Literal["AssessmentPassed"]
    schema_version: Literal[1]
    payload: AssessmentPassedV1Payload


class AssessmentFailedPayload(ContractModel):
    application_id: UUID
    trainee_id: UUID
    evaluation_institution_id: UUID
    session_id: UUID
    occupation_code: OccupationCode
    field: Field
    level: Level
    theory_score: Score
    practical_score: Score
    assessment_ended_on: date


class AssessmentFailed(AssessmentEvent):
    event_type: Literal["AssessmentFailed"]
    schema_version: Literal[1]
    payload: AssessmentFailedPayload


class AssessmentResultVoidedPayload(ContractModel):
    application_id: UUID
    trainee_id: UUID
    evaluation_institution_id: UUID
    reason: Text
    voided_at: UtcDatetime


class AssessmentResultVoided(AssessmentEvent):
    event_type: Literal["AssessmentResultVoided"]
    schema_version: Literal[1]
    payload: AssessmentResultVoidedPayload


EVENTS = (
    AssessmentApplied,
    QualificationConfirmed,
    QualificationRejected,
    AssessmentPassedV1,
    AssessmentPassed,
    AssessmentFailed,
    AssessmentResultVoided,
)
