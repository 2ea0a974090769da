"""Builders shared by the enrollment tests: valid aggregates with overridable details."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from heze_common.auth import Principal
from heze_common.testing import verified_identity
from heze_common.errors import Refusal
from heze_contracts.enums import (
    Education,
    Field,
    HourKind,
    HourMode,
    Level,
    ParticipantCategory,
    RetirementGroup,
    Role,
    Sex,
)
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.programme import Programme
from heze_enrollment.domain.trainee import Trainee

TODAY = date(2026, 11, 27)
THEORY, PRACTICE = HourKind.THEORY, HourKind.PRACTICE
ONLINE, OFFLINE = HourMode.ONLINE, HourMode.OFFLINE


CITY_BUREAU = Principal(subject="city-officer", role=Role.CITY_BUREAU)


def institution_staff(institution_id: UUID) -> Principal:
    return Principal(
        subject="registrar", role=Role.TRAINING_INSTITUTION, organisation_id=institution_id
    )


def trainee_account(account: str, verified_id_number: str | None = None) -> Principal:
    """A trainee's principal; with `verified_id_number`, its token vouching for that identity."""
    return Principal(
        subject=account,
        role=Role.TRAINEE,
        verified_identity=verified_identity(verified_id_number) if verified_id_number else None,
    )


@contextmanager
def refusal(code: str, field: str | None = None) -> Iterator[None]:
    """The block is refused with this code (and names this field)."""
    with pytest.raises(Refusal) as refused:
        yield
    assert refused.value.code == code, refused.value.message
    if field is not None:
        assert refused.value.field == field


def a_trainee(id_number: str | None = None, **overrides: object) -> Trainee:
    identity = ResidentId.parse(id_number or ResidentId.compose("371702", date(1995, 6, 15), 123))
    values: dict = dict(
        trainee_id=uuid4(),
        name="王小明",
        identity=identity,
        declared_sex=None,
        declared_birth_date=None,
        phone="13800000000",
        education=Education.BACHELOR,
        major="计算机科学与技术",
        employer=None,
        county="牡丹区",
        participant_category=ParticipantCategory.DIGITAL_WORKER,
        draws_pension=False,
        retirement_group=None if identity.sex is Sex.MALE else RetirementGroup.FEMALE_55,
        registered_on=TODAY,
        registered_by_institution_id=None,
        account="acct",
    )
    values.update(overrides)
    return Trainee.register(**values)


def a_programme(capacity: int = 2, **overrides: object) -> Programme:
    values: dict = dict(
        institution_id=uuid4(),
        occupation_code="2-02-10-11",
        field=Field.BIG_DATA,
        level=Level.JUNIOR,
        title="大数据工程技术人员（初级）",
        capacity=capacity,
        starts_on=date(2026, 11, 1),
        ends_on=date(2027, 1, 31),
        required_hours={THEORY: Decimal("8.0"), PRACTICE: Decimal("4.0")},
        minimum=None,
        completion_pass_mark=Decimal(60),
        subsidised_plan=True,
        in_city_training_directory=True,
    )
    values.update(overrides)
    return Programme.publish(**values)
