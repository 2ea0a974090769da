"""The certification service's commands: one per request that changes its state, each carrying
the principal who asks (`heze_common.commands`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from heze_certification.domain.policy import PolicyTerms
from heze_common.commands import Command

# A case's stages (the evaluation institution its own cases; the province; the national office)


@dataclass(frozen=True, kw_only=True)
class ReportCase(Command):
    case_id: UUID


@dataclass(frozen=True, kw_only=True)
class ConfirmCase(Command):
    case_id: UUID


@dataclass(frozen=True, kw_only=True)
class ReturnForCorrection(Command):
    case_id: UUID
    reasons: list[str]


@dataclass(frozen=True, kw_only=True)
class ApproveCase(Command):
    case_id: UUID


@dataclass(frozen=True, kw_only=True)
class RejectCase(Command):
    case_id: UUID
    reasons: list[str]


@dataclass(frozen=True, kw_only=True)
class IssueCertificate(Command):
    """Issuance, and the certificate's number drawn for it."""

    case_id: UUID


# Holiday calendars (the province)


@dataclass(frozen=True, kw_only=True)
class LoadCalendar(Command):
    """A year's calendar; `provisional` are the cases the views list with a provisional deadline
    (candidates: each case decides whether its deadline is recomputed)."""

    year: int
    holidays: list[date]
    makeup_workdays: list[date]
    provisional: list[UUID]


# City policy and the talent base (the city bureau)


@dataclass(frozen=True, kw_only=True)
class SetPolicy(Command):
    terms: PolicyTerms
    effective_from: date


@dataclass(frozen=True, kw_only=True)
class FlagOutstanding(Command):
    trainee_id: UUID
    contribution: str
