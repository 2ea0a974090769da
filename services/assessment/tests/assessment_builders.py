"""Builders shared by the assessment tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

from heze_assessment.domain.application import Application
from heze_assessment.domain.candidate import Candidate
from heze_assessment.domain.conditions import Declaration
from heze_common.auth import Principal
from heze_contracts.enums import Education, Field, Level, Role

OCCUPATION = "2-02-07-13"
QUALIFIED = Declaration(education=Education.BACHELOR, major_relevant=True)
PROVINCE = Principal(role=Role.PROVINCIAL_DEPARTMENT, subject="province-1")


def the_trainee(trainee_id: UUID) -> Principal:
    """A trainee's token: its subject is the trainee id."""
    return Principal(role=Role.TRAINEE, subject=str(trainee_id))


def an_evaluator(institution_id: UUID) -> Principal:
    return Principal(
        role=Role.EVALUATION_INSTITUTION, subject="ev-1", organisation_id=institution_id
    )


def a_candidate(trainee_id: UUID | None = None) -> Candidate:
    return Candidate(trainee_id=trainee_id or uuid4())


def an_application(candidate: Candidate, level: Level = Level.JUNIOR) -> Application:
    application = Application(
        trainee_id=candidate.trainee_id,
        evaluation_institution_id=uuid4(),
        occupation_code=OCCUPATION,
        field=Field.INTELLIGENT_MANUFACTURING,
        level=level,
        declaration=QUALIFIED,
        commitment_text="本人承诺所申报信息真实有效，如有虚假，自愿承担相应责任。",
        commitment_signed_at=datetime(2026, 11, 27, tzinfo=UTC),
        route="junior.bachelor",
        rules="*:智能制造工程技术人员国家职业技术技能标准",
        rules_effective_from=date(2023, 4, 27),
    )
    candidate.file(application.id)
    return application
