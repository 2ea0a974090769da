"""Read models of the subsidy service: claims per trainee, programme and institution;
payments per month; reimbursements per employer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from heze_common.projection import Projection
from heze_subsidy.domain.beneficiary import Beneficiary
from heze_subsidy.domain.claim import Claim
from heze_subsidy.domain.reimbursement import Reimbursement


@dataclass(frozen=True)
class Payment:
    claim_id: UUID
    trainee_id: UUID
    amount_fen: int
    payment_reference: str
    paid_on: date


class ClaimIndex(Projection):
    def __init__(self) -> None:
        self.by_trainee: dict[UUID, list[UUID]] = {}
        self.by_programme: dict[UUID, list[UUID]] = {}
        self.institution_of_programme: dict[UUID, UUID] = {}
        self.payments_by_month: dict[str, list[Payment]] = {}

    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        return {
            Claim.Filed: self._filed,
            Claim.Paid: self._paid,
            Beneficiary.EnrolmentLearnt: lambda e: self.institution_of_programme.__setitem__(
                e.programme_id, e.institution_id
            ),
        }

    def _filed(self, event: Claim.Filed) -> None:
        self.by_trainee.setdefault(event.trainee_id, []).append(event.originator_id)
        self.by_programme.setdefault(event.programme_id, []).append(event.originator_id)

    def _paid(self, event: Claim.Paid) -> None:
        self.payments_by_month.setdefault(f"{event.paid_on:%Y-%m}", []).append(
            Payment(
                event.originator_id,
                event.trainee_id,
                event.amount_fen,
                event.payment_reference,
                event.paid_on,
            )
        )

    def claims_of_institution(self, institution_id: UUID) -> list[UUID]:
        return [
            claim_id
            for programme_id, claims in self.by_programme.items()
            if self.institution_of_programme.get(programme_id) == institution_id
            for claim_id in claims
        ]


class Reimbursements(Projection):
    def __init__(self) -> None:
        self.by_employer: dict[UUID, list[Reimbursement.Recorded]] = {}

    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        return {
            Reimbursement.Recorded: lambda e: self.by_employer.setdefault(e.employer_id, []).append(
                e
            )
        }
