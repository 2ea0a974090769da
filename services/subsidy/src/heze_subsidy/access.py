"""Whose claims a caller may file and read: a trainee their own (their token's subject is their
trainee id), an institution those for its own programmes' trainees, the city bureau and
auditors all."""

from __future__ import annotations

from uuid import UUID

from heze_common.auth import Principal
from heze_common.errors import Forbidden, InvalidInput
from heze_common.views import ViewReader
from heze_contracts.enums import Role
from heze_subsidy.domain.claim import Claim


def claimed_trainee_id(principal: Principal, named: UUID | None) -> UUID:
    """The trainee a claim is for: a trainee claims only for themself, an institution names
    the trainee (whether it may claim for them is the application's to decide)."""
    if principal.role is Role.TRAINEE:
        if named not in (None, principal.trainee_id):
            raise Forbidden("not_your_claim", "a trainee claims only for themself")
        return principal.own_trainee_id()
    if named is None:
        raise InvalidInput(
            "trainee_id_required",
            "an institution names the trainee it claims for",
            field="trainee_id",
        )
    return named


async def ensure_may_read(views: ViewReader, principal: Principal, claim: Claim) -> None:
    if principal.role is Role.TRAINEE and principal.subject != str(claim.trainee_id):
        raise Forbidden("not_your_claim", "a trainee reads only their own claims")
    if principal.role is Role.TRAINING_INSTITUTION:
        row = await views.fetchrow(
            "SELECT institution_id FROM programmes WHERE programme_id = $1", claim.programme_id
        )
        if row is None or row["institution_id"] != principal.organisation_id:
            raise Forbidden(
                "not_your_trainee", "an institution reads only claims for its own programmes"
            )
