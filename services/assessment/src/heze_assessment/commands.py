"""The assessment service's commands: one per request that changes its state, each carrying the
principal who asks (`heze_common.commands`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from heze_assessment.domain.conditions import Declaration, RuleSet
from heze_common.commands import Command
from heze_contracts.enums import Field, Level

# Evaluation institutions and application rules (the provincial department)


@dataclass(frozen=True, kw_only=True)
class RegisterEvaluationInstitution(Command):
    name: str
    occupations: dict[str, Field]


@dataclass(frozen=True, kw_only=True)
class SuspendEvaluationInstitution(Command):
    institution_id: UUID
    reason: str


@dataclass(frozen=True, kw_only=True)
class ReinstateEvaluationInstitution(Command):
    institution_id: UUID


@dataclass(frozen=True, kw_only=True)
class SetRules(Command):
    occupation_code: str
    rules: RuleSet
    effective_from: date


# Applications (a trainee for themself; the evaluation institution it was filed with)


@dataclass(frozen=True, kw_only=True)
class Apply(Command):
    """Filed by the trainee the principal is (its subject is the trainee id)."""

    evaluation_institution_id: UUID
    occupation_code: str
    level: Level
    declaration: Declaration
    commitment_text: str
    commitment_signed: bool


@dataclass(frozen=True, kw_only=True)
class ConfirmQualification(Command):
    application_id: UUID


@dataclass(frozen=True, kw_only=True)
class RejectQualification(Command):
    application_id: UUID
    reason: str | None
    """Required; a missing one is refused after the caller's right to the application."""


@dataclass(frozen=True, kw_only=True)
class VoidResult(Command):
    application_id: UUID
    reason: str
    false_commitment: bool = False


# Sessions (the evaluation institution its own)


@dataclass(frozen=True, kw_only=True)
class ScheduleSession(Command):
    """Scheduled by the principal's own evaluation institution."""

    occupation_code: str
    level: Level
    held_on: date
    place: str


@dataclass(frozen=True, kw_only=True)
class AssignApplicants(Command):
    session_id: UUID
    application_ids: list[UUID]


@dataclass(frozen=True, kw_only=True)
class RecordScores(Command):
    session_id: UUID
    application_id: UUID
    theory_score: Decimal
    practical_score: Decimal


@dataclass(frozen=True, kw_only=True)
class CorrectScores(Command):
    session_id: UUID
    application_id: UUID
    theory_score: Decimal
    practical_score: Decimal
    reason: str
