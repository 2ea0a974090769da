"""Builders shared by the certification tests: the upstream facts (assessment's and enrollment's
integration events) as their producers publish them, enrollment's answers to the claim check of
a holder's identity, and the parties who send the commands."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from uuid import UUID, uuid4

from heze_certification.commands import ApproveCase, ConfirmCase, IssueCertificate, ReportCase
from heze_certification.domain.case import CaseStatus, CertificateCase
from heze_certification.holders import HolderIdentity
from heze_common.auth import Principal
from heze_common.commands import Command
from heze_contracts import IntegrationEvent
from heze_contracts import assessment as assessed
from heze_contracts import enrollment as enrolled
from heze_contracts.enums import (
    Field,
    HourKind,
    HourMode,
    Level,
    Role,
)

NAME, ID_NUMBER = "唐三藏", "11010519491231002X"
COUNTY = "东明县"
OCCUPATION = "2-02-07-13"
TODAY = datetime(2026, 9, 24, 2, tzinfo=UTC)
positions = count(1)


class EnrolledPeople:
    """Enrollment's answers to certification's claim check (`HolderDirectory`), in the tests of
    certification alone: the people `registered` and `passed` name."""

    def __init__(self) -> None:
        self.people: dict[UUID, HolderIdentity] = {}

    def enrol(self, trainee_id: UUID, name: str, id_number: str) -> None:
        self.people[trainee_id] = HolderIdentity(name, id_number)

    def identity_of(self, trainee_id: UUID) -> HolderIdentity:
        return self.people[trainee_id]


PEOPLE = EnrolledPeople()

PROVINCE = Principal(role=Role.PROVINCIAL_DEPARTMENT, subject="province-1")
NATIONAL = Principal(role=Role.NATIONAL_OFFICE, subject="national-1")
CITY = Principal(role=Role.CITY_BUREAU, subject="city-1")


def evaluation_institution(institution_id: UUID) -> Principal:
    return Principal(
        role=Role.EVALUATION_INSTITUTION, subject="ev-1", organisation_id=institution_id
    )


def next_step(case: CertificateCase) -> Command | None:
    """The command that takes the case one stage forward, from the party whose turn it is."""
    own_evaluator = evaluation_institution(case.subject.evaluation_institution_id)
    match case.status:
        case CaseStatus.AWAITING_REPORT:
            return ReportCase(principal=own_evaluator, case_id=case.id)
        case CaseStatus.AWAITING_CONFIRMATION:
            return ConfirmCase(principal=PROVINCE, case_id=case.id)
        case CaseStatus.AWAITING_APPROVAL:
            return ApproveCase(principal=NATIONAL, case_id=case.id)
        case CaseStatus.AWAITING_ISSUANCE:
            return IssueCertificate(principal=own_evaluator, case_id=case.id)
    return None


def envelope(event_class: type, payload: object, subject: UUID) -> IntegrationEvent:
    return event_class.build(
        payload,
        position=next(positions),
        occurred_at=TODAY,
        origin_id=subject,
        origin_version=1,
        correlation_id=uuid4(),
        causation_id=None,
    )


def registered(
    trainee_id: UUID, name: str = NAME, id_number: str = ID_NUMBER, county: str = COUNTY
) -> IntegrationEvent:
    """The registration of a person enrollment knows as `name`, `id_number` (which the event
    does not carry)."""
    PEOPLE.enrol(trainee_id, name, id_number)
    return envelope(
        enrolled.TraineeRegistered,
        enrolled.TraineeRegisteredPayload(
            trainee_id=trainee_id, county=county, employed=True, registered_on=date(2026, 3, 1)
        ),
        trainee_id,
    )


def completed(
    trainee_id: UUID,
    programme_id: UUID | None = None,
    completed_on: date = date(2026, 6, 30),
    total_hours: Decimal = Decimal("128.0"),
) -> IntegrationEvent:
    return envelope(
        enrolled.TrainingCompleted,
        enrolled.TrainingCompletedPayload(
            trainee_id=trainee_id,
            programme_id=programme_id or uuid4(),
            institution_id=uuid4(),
            occupation_code=OCCUPATION,
            field=Field.INTELLIGENT_MANUFACTURING,
            level=Level.JUNIOR,
            hours_by_kind={HourKind.THEORY: total_hours - 48, HourKind.PRACTICE: Decimal("48.0")},
            hours_by_mode={HourMode.ONLINE: total_hours - 60, HourMode.OFFLINE: Decimal("60.0")},
            total_hours=total_hours,
            exam_score=Decimal("91.0"),
            training_certificate_number="HZPX2026-2020713-000009",
            subsidised_plan=True,
            completed_on=completed_on,
        ),
        trainee_id,
    )


def enrollment_facts(trainee_id: UUID) -> list[IntegrationEvent]:
    return [registered(trainee_id), completed(trainee_id)]


def passed(
    trainee_id: UUID,
    application_id: UUID,
    evaluator: UUID,
    name: str = NAME,
    level: Level = Level.JUNIOR,
    ended_on: date = date(2026, 9, 10),
) -> IntegrationEvent:
    """A pass of the trainee; enrollment knows them as `name` unless they registered already."""
    PEOPLE.people.setdefault(trainee_id, HolderIdentity(name, ID_NUMBER))
    return envelope(
        assessed.AssessmentPassed,
        assessed.AssessmentPassedPayload(
            application_id=application_id,
            trainee_id=trainee_id,
            evaluation_institution_id=evaluator,
            session_id=uuid4(),
            occupation_code=OCCUPATION,
            field=Field.INTELLIGENT_MANUFACTURING,
            level=level,
            theory_score=Decimal("81.0"),
            practical_score=Decimal("77.5"),
            assessment_ended_on=ended_on,
        ),
        trainee_id,
    )


def voided(trainee_id: UUID, application_id: UUID, evaluator: UUID) -> IntegrationEvent:
    return envelope(
        assessed.AssessmentResultVoided,
        assessed.AssessmentResultVoidedPayload(
            application_id=application_id,
            trainee_id=trainee_id,
            evaluation_institution_id=evaluator,
            reason="承诺事项核查不实",
            voided_at=TODAY,
        ),
        trainee_id,
    )
