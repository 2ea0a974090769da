"""Who may read or act on a trainee's record: the trainee themself, the institutions that
registered (with their consent) or train them, their county's bureau, the city bureau and
auditors."""

from __future__ import annotations

from heze_common.auth import Principal
from heze_common.errors import Forbidden
from heze_contracts.enums import Role
from heze_enrollment.domain.counties import county_id
from heze_enrollment.domain.trainee import Trainee


def may_read(principal: Principal, trainee: Trainee) -> bool:
    match principal.role:
        case Role.CITY_BUREAU | Role.AUDITOR:
            return True
        case Role.COUNTY_BUREAU:
            return principal.organisation_id == county_id(trainee.county)
        case Role.TRAINING_INSTITUTION:
            return principal.organisation_id in trainee.registrant_institution_ids or any(
                record.institution_id == principal.organisation_id
                for record in trainee.enrolments.values()
            )
        case Role.TRAINEE:
            return is_self(principal, trainee)
    return False


def is_self(principal: Principal, trainee: Trainee) -> bool:
    return principal.role is Role.TRAINEE and principal.subject in (
        trainee.account,
        str(trainee.id),
    )


def ensure_may_read(principal: Principal, trainee: Trainee) -> None:
    if not may_read(principal, trainee):
        raise Forbidden("not_your_trainee", "this trainee's record belongs to someone else")
