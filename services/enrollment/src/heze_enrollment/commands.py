"""The enrollment service's commands: one per request that changes its state, each carrying the
principal who asks (`heze_common.commands`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from heze_common.commands import Command
from heze_contracts.enums import (
    Education,
    Field,
    HourKind,
    HourMode,
    Level,
    ParticipantCategory,
    RetirementGroup,
    Sex,
)

# Reference data (the city bureau)


@dataclass(frozen=True, kw_only=True)
class DefineOccupation(Command):
    code: str
    field: Field
    name: str
    effective_from: date


@dataclass(frozen=True, kw_only=True)
class SetHourRequirement(Command):
    code: str
    level: Level
    hours: dict[HourKind, Decimal]
    effective_from: date


# The institutions directory (the city bureau)


@dataclass(frozen=True, kw_only=True)
class AccreditInstitution(Command):
    directory_number: int | None
    name: str
    fields: list[Field]
    contact_name: str
    contact_phone: str


@dataclass(frozen=True, kw_only=True)
class ChangeScope(Command):
    institution_id: UUID
    fields: list[Field]


@dataclass(frozen=True, kw_only=True)
class SuspendInstitution(Command):
    institution_id: UUID
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReinstateInstitution(Command):
    institution_id: UUID


@dataclass(frozen=True, kw_only=True)
class ListInCityDirectory(Command):
    institution_id: UUID
    listed: bool


# Programmes (an institution its own; the city bureau the city's plan)


@dataclass(frozen=True, kw_only=True)
class PublishProgramme(Command):
    """Published by the principal's own institution."""

    occupation_code: str
    level: Level
    title: str
    capacity: int
    starts_on: date
    ends_on: date
    required_hours: dict[HourKind, Decimal] | None
    completion_pass_mark: Decimal
    subsidised_plan: bool
    in_city_training_directory: bool


@dataclass(frozen=True, kw_only=True)
class CloseEnrolment(Command):
    programme_id: UUID


@dataclass(frozen=True, kw_only=True)
class ChangeCityPlan(Command):
    programme_id: UUID
    subsidised_plan: bool
    in_city_training_directory: bool


# Trainees (a trainee themself, or an institution for its own programmes)


@dataclass(frozen=True, kw_only=True)
class RegisterTrainee(Command):
    """A trainee registers the identity their sign-in verified; an institution registers a
    person who consented to it."""

    name: str
    id_number: str
    sex: Sex | None
    birth_date: date | None
    phone: str
    education: Education
    major: str
    employer: str | None
    county: str
    participant_category: ParticipantCategory
    draws_pension: bool
    retirement_group: RetirementGroup | None
    person_consents: bool = False


@dataclass(frozen=True, kw_only=True)
class Enrol(Command):
    trainee_id: UUID
    programme_id: UUID


@dataclass(frozen=True, kw_only=True)
class Withdraw(Command):
    trainee_id: UUID
    programme_id: UUID
    reason: str


@dataclass(frozen=True, kw_only=True)
class LogSession(Command):
    trainee_id: UUID
    programme_id: UUID
    day: date
    hours: Decimal
    kind: HourKind
    mode: HourMode


@dataclass(frozen=True, kw_only=True)
class RecordExam(Command):
    trainee_id: UUID
    programme_id: UUID
    score: Decimal


@dataclass(frozen=True, kw_only=True)
class Complete(Command):
    """Completion, and the training certificate's number drawn for it."""

    trainee_id: UUID
    programme_id: UUID


# Personal data (the city bureau)


@dataclass(frozen=True, kw_only=True)
class EraseTrainee(Command):
    """Erase a person's data in every service; the reason is kept and may not name them."""

    trainee_id: UUID
    reason: str


@dataclass(frozen=True, kw_only=True)
class SetRetentionPeriod(Command):
    days: int
    effective_from: date
