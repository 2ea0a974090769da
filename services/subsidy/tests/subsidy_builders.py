"""Principals shared by the subsidy tests, as their tokens would name them."""

from __future__ import annotations

from uuid import UUID

from heze_common.auth import Principal
from heze_contracts.enums import Role

CITY_BUREAU = Principal(subject="city-officer", role=Role.CITY_BUREAU)


def trainee(trainee_id: UUID) -> Principal:
    """A trainee's token names their trainee id as its subject."""
    return Principal(subject=str(trainee_id), role=Role.TRAINEE)


def institution_staff(institution_id: UUID) -> Principal:
    return Principal(
        subject="registrar", role=Role.TRAINING_INSTITUTION, organisation_id=institution_id
    )


def employer_staff(employer_id: UUID) -> Principal:
    return Principal(subject="hr-officer", role=Role.EMPLOYER, organisation_id=employer_id)
