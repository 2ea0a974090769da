"""The subsidy service's commands: one per request that changes its state, each carrying the
principal who asks (`heze_common.commands`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from heze_common.commands import Command
from heze_contracts.enums import Level
from heze_subsidy.domain.rules import SubsidyPolicy

# Standards and policy (the city bureau)


@dataclass(frozen=True, kw_only=True)
class SetStandard(Command):
    occupation_code: str
    level: Level
    amount_fen: int
    effective_from: date
    effective_to: date | None


@dataclass(frozen=True, kw_only=True)
class SetPolicy(Command):
    policy: SubsidyPolicy
    effective_from: date


# Claims (a trainee for themself, or an institution for its own programmes' trainees)


@dataclass(frozen=True, kw_only=True)
class FileClaim(Command):
    """`trainee_id` names the trainee an institution claims for; a trainee claims for themself."""

    trainee_id: UUID | None
    programme_id: UUID
    occupation_code: str
    level: Level


@dataclass(frozen=True, kw_only=True)
class DecideClaim(Command):
    """The city bureau decides a waiting claim now, without waiting for the missing facts."""

    claim_id: UUID


@dataclass(frozen=True, kw_only=True)
class RecordPayment(Command):
    claim_id: UUID
    payment_reference: str


# Employer reimbursement (the employer, for its own staff)


@dataclass(frozen=True, kw_only=True)
class RecordReimbursement(Command):
    """Recorded for the principal's own employer."""

    trainee_id: UUID
    programme_id: UUID
    amount_fen: int
