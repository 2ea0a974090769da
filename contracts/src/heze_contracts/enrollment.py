"""Integration events published by the enrollment service (topic enrollment.events.v1).

Institution events are keyed by institution_id, programme events by programme_id, trainee
events by trainee_id.
"""

from datetime import date
from typing import Literal, Self
from uuid import UUID

from pydantic import model_validator

from heze_contracts.enums import (
    Education,
    ErasureGrounds,
    Field,
    HourKind,
    HourMode,
    Level,
    ParticipantCategory,
    Producer,
    RetirementGroup,
    Sex,
)
from heze_contracts.envelope import ContractModel, IntegrationEvent
from heze_contracts.values import Count, Fields, Hours, IdNumber, OccupationCode, Phone, Score, Text


class EnrollmentEvent(IntegrationEvent, producer=Producer.ENROLLMENT):
    pass


class InstitutionAccreditedPayload(ContractModel):
    institution_id: UUID
    directory_number: Count | None
    """Number in the ministry's directory as printed (the printed list has gaps)."""
    name: Text
    fields: Fields
    contact_name: Text
    contact_phone: Phone
    in_city_training_directory: bool


class InstitutionAccredited(EnrollmentEvent, key="institution_id"):
    event_type: Literal["InstitutionAccredited"]
    schema_version: Literal[1]
    payload: InstitutionAccreditedPayload


class InstitutionScopeChangedPayload(ContractModel):
    institution_id: UUID
    fields: Fields
    """The whole new scope, not a difference."""


class InstitutionScopeChanged(EnrollmentEvent, key="institution_id"):
    event_type: Literal["InstitutionScopeChanged"]
    schema_version: Literal[1]
    payload: InstitutionScopeChangedPayload


class InstitutionSuspendedPayload(ContractModel):
    institution_id: UUID
    reason: Text


class InstitutionSuspended(EnrollmentEvent, key="institution_id"):
    event_type: Literal["InstitutionSuspended"]
    schema_version: Literal[1]
    payload: InstitutionSuspendedPayload


class InstitutionReinstatedPayload(ContractModel):
    institution_id: UUID


class InstitutionReinstated(EnrollmentEvent, key="institution_id"):
    event_type: Literal["InstitutionReinstated"]
    schema_version: Literal[1]
    payload: InstitutionReinstatedPayload


class ProgrammePublishedPayload(ContractModel):
    """An enrolment notice (招生简章) for one occupation and level."""

    programme_id: UUID
    institution_id: UUID
    occupation_code: OccupationCode
    field: Field
    level: Level
    title: Text
    capacity: Count
    starts_on: date
    ends_on: date
    required_hours: dict[HourKind, Hours]
    completion_pass_mark: Score
    subsidised_plan: bool
    in_city_training_directory: bool

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


class ProgrammePublished(EnrollmentEvent, key="programme_id"):
    event_type: Literal["ProgrammePublished"]
    schema_version: Literal[1]
    payload: ProgrammePublishedPayload


class ProgrammeEnrolmentClosedPayload(ContractModel):
    programme_id: UUID
    institution_id: UUID


class ProgrammeEnrolmentClosed(EnrollmentEvent, key="programme_id"):
    event_type: Literal["ProgrammeEnrolmentClosed"]
    schema_version: Literal[1]
    payload: ProgrammeEnrolmentClosedPayload


class TraineeRegisteredPayload(ContractModel):
    """A registration, with what a consumer needs of the person and nothing more: no name, ID
    number, phone or birth date. Certification asks enrollment for a certificate holder's name
    and ID number when it needs them (`GET /internal/holders/{trainee_id}`, a service call)."""

    trainee_id: UUID
    county: Text
    """Where the person lives: the talent pool is searched by county."""
    employed: bool
    """Whether the person named an employer (some policies require one); not the employer."""
    registered_on: date


class TraineeRegistered(EnrollmentEvent, key="trainee_id"):
    event_type: Literal["TraineeRegistered"]
    schema_version: Literal[2]
    payload: TraineeRegisteredPayload


class TraineeRegisteredV1Payload(ContractModel):
    """A registration as version 1 published it, with the person's data in plaintext. No
    longer published; read only in messages already on the topic."""

    trainee_id: UUID
    name: Text
    id_number: IdNumber
    sex: Sex
    birth_date: date
    phone: Phone
    education: Education
    major: Text
    employer: Text | None
    county: Text
    participant_category: ParticipantCategory
    registered_on: date
    registered_by_institution_id: UUID | None
    """Null when the trainee registered directly with the city bureau."""
    retirement_group: RetirementGroup | None
    """Asked of women only: it decides their statutory retirement age."""

    @model_validator(mode="after")
    def _retirement_group_for_women(self) -> Self:
        if self.retirement_group is not None and self.sex is not Sex.FEMALE:
            raise ValueError("retirement_group applies to women only")
        return self


class TraineeRegisteredV1(EnrollmentEvent, key="trainee_id"):
    event_type: Literal["TraineeRegistered"]
    schema_version: Literal[1]
    payload: TraineeRegisteredV1Payload


class TraineeEnrolledPayload(ContractModel):
    trainee_id: UUID
    programme_id: UUID
    institution_id: UUID
    occupation_code: OccupationCode
    field: Field
    level: Level
    subsidised_plan: bool
    enrolled_on: date


class TraineeEnrolled(EnrollmentEvent, key="trainee_id"):
    event_type: Literal["TraineeEnrolled"]
    schema_version: Literal[1]
    payload: TraineeEnrolledPayload


class TrainingCompletedPayload(ContractModel):
    """Required hours done and completion exam passed: the training-hours proof of a level."""

    trainee_id: UUID
    programme_id: UUID
    institution_id: UUID
    occupation_code: OccupationCode
    field: Field
    level: Level
    hours_by_kind: dict[HourKind, Hours]
    hours_by_mode: dict[HourMode, Hours]
    total_hours: Hours
    exam_score: Score
    training_certificate_number: Text
    subsidised_plan: bool
    completed_on: date

    @model_validator(mode="after")
    def _hours_add_up(self) -> Self:
        # Every logged hour has one kind and one mode, so both splits sum to the total.
        for split in ("hours_by_kind", "hours_by_mode"):
            if sum(getattr(self, split).values()) != self.total_hours:
                raise ValueError(f"{split} must add up to total_hours")
        return self


class TrainingCompleted(EnrollmentEvent, key="trainee_id"):
    event_type: Literal["TrainingCompleted"]
    schema_version: Literal[1]
    payload: TrainingCompletedPayload


class TraineeWithdrawnPayload(ContractModel):
    trainee_id: UUID
    programme_id: UUID
    institution_id: UUID
    occupation_code: OccupationCode
    level: Level
    reason: Text
    withdrawn_on: date


class TraineeWithdrawn(EnrollmentEvent, key="trainee_id"):
    event_type: Literal["TraineeWithdrawn"]
    schema_version: Literal[1]
    payload: TraineeWithdrawnPayload


class PersonErasedPayload(ContractModel):
    """A person's data erased: every service holding a copy of it deletes that person's key.
    Only the id: neither who the person was nor why."""

    trainee_id: UUID
    grounds: ErasureGrounds
    """On the city bureau's decision (`request`) or at the end of the retention period."""
    erased_on: date


class PersonErased(EnrollmentEvent, key="trainee_id"):
    event_type: Literal["PersonErased"]
    schema_version: Literal[1]
    payload: PersonErasedPayload


EVENTS = (
    InstitutionAccredited,
    InstitutionScopeChanged,
    InstitutionSuspended,
    InstitutionReinstated,
    ProgrammePublished,
    ProgrammeEnrolmentClosed,
    TraineeRegisteredV1,
    TraineeRegistered,
    TraineeEnrolled,
    TrainingCompleted,
    TraineeWithdrawn,
    PersonErased,
)
