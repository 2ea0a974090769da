"""Which domain events the subsidy service publishes, and as what (all others stay private)."""

from __future__ import annotations

from heze_common.outbox import IntegrationMapper, Publication
from heze_contracts import subsidy as contract
from heze_contracts.enums import Producer
from heze_subsidy.domain.claim import Claim


def applied(event: Claim.Filed) -> Publication:
    return Publication(
        contract.SubsidyApplied,
        contract.SubsidyAppliedPayload(
            claim_id=event.originator_id,
            trainee_id=event.trainee_id,
            programme_id=event.programme_id,
            occupation_code=event.occupation_code,
            level=event.level,
            applied_at=event.timestamp,
            applied_by_role=event.applied_by_role,
        ),
    )


def approved(event: Claim.Approved) -> Publication:
    return Publication(
        contract.SubsidyApproved,
        contract.SubsidyApprovedPayload(
            claim_id=event.originator_id,
            trainee_id=event.trainee_id,
            amount_fen=event.amount_fen,
            standard_id=event.standard.standard_id,
            decided_on=event.decided_on,
        ),
    )


def rejected(event: Claim.Rejected) -> Publication:
    return Publication(
        contract.SubsidyRejected,
        contract.SubsidyRejectedPayload(
            claim_id=event.originator_id,
            trainee_id=event.trainee_id,
            reason_code=event.reason_code,
            reason=event.reason,
            decided_on=event.decided_on,
        ),
    )


def paid(event: Claim.Paid) -> Publication:
    return Publication(
        contract.SubsidyPaid,
        contract.SubsidyPaidPayload(
            claim_id=event.originator_id,
            trainee_id=event.trainee_id,
            amount_fen=event.amount_fen,
            payment_reference=event.payment_reference,
            paid_on=event.paid_on,
        ),
    )


SUBSIDY_PUBLICATIONS = IntegrationMapper(
    Producer.SUBSIDY,
    {Claim.Filed: applied, Claim.Approved: approved, Claim.Rejected: rejected, Claim.Paid: paid},
)
