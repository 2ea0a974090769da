"""The certification service's application and consumer on the in-memory store (the fast
tier): assessment's and enrollment's facts handed to the consumer's processing path as the broker
would hand them over, a case's stages on the application, and the integration events its relay
would publish."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from uuid import UUID, uuid4

import pytest

from heze_certification.domain.case import CaseStatus, CertificateCase
from heze_certification.main import definition
from heze_certification.settings import CertificationSettings
from heze_common import clock
from heze_common.consumer import Outcome
from heze_common.errors import Refusal
from heze_common.testing import InMemoryService
from heze_contracts import IntegrationEvent
from heze_contracts import assessment as assessed
from heze_contracts import enrollment as enrolled
from heze_contracts.enums import (
    Education,
    Field,
    HourKind,
    HourMode,
    Level,
    ParticipantCategory,
    Sex,
)

NAME, ID_NUMBER = "唐三藏", "11010519491231002X"
OCCUPATION = "2-02-07-13"
TODAY = datetime(2026, 9, 24, 2, tzinfo=UTC)
positions = count(1)


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


def enrollment_facts(trainee_id: UUID) -> list[IntegrationEvent]:
    return [
        envelope(
            enrolled.TraineeRegistered,
            enrolled.TraineeRegisteredPayload(
                trainee_id=trainee_id,
                name=NAME,
                id_number=ID_NUMBER,
                sex=Sex.FEMALE,
                birth_date=date(1949, 12, 31),
                phone="13712345678",
                education=Education.MASTER,
                major="控制科学与工程",
                employer="菏泽某智能装备有限公司",
                county="东明县",
                participant_category=ParticipantCategory.DIGITAL_WORKER,
                registered_on=date(2026, 3, 1),
                registered_by_institution_id=None,
                retirement_group=None,
            ),
            trainee_id,
        ),
        envelope(
            enrolled.TrainingCompleted,
            enrolled.TrainingCompletedPayload(
                trainee_id=trainee_id,
                programme_id=uuid4(),
                institution_id=uuid4(),
                occupation_code=OCCUPATION,
                field=Field.INTELLIGENT_MANUFACTURING,
                level=Level.JUNIOR,
                hours_by_kind={
                    HourKind.THEORY: Decimal("80.0"),
                    HourKind.PRACTICE: Decimal("48.0"),
                },
                hours_by_mode={HourMode.ONLINE: Decimal("60.0"), HourMode.OFFLINE: Decimal("68.0")},
                total_hours=Decimal("128.0"),
                exam_score=Decimal("91.0"),
                training_certificate_number="HZPX2026-2020713-000009",
                subsidised_plan=True,
                completed_on=date(2026, 6, 30),
            ),
            trainee_id,
        ),
    ]


def passed(trainee_id: UUID, application_id: UUID, evaluator: UUID) -> IntegrationEvent:
    return envelope(
        assessed.AssessmentPassed,
        assessed.AssessmentPassedPayload(
            application_id=application_id,
            trainee_id=trainee_id,
            evaluation_institution_id=evaluator,
            session_id=uuid4(),
            holder=assessed.Holder(
                name=NAME, id_number=ID_NUMBER, sex=Sex.FEMALE, birth_date=date(1949, 12, 31)
            ),
            occupation_code=OCCUPATION,
            field=Field.INTELLIGENT_MANUFACTURING,
            level=Level.JUNIOR,
            theory_score=Decimal("81.0"),
            practical_score=Decimal("77.5"),
            assessment_ended_on=date(2026, 9, 10),
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


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(TODAY):
        yield


@pytest.fixture
def certification(memory_service: Callable[..., InMemoryService]) -> InMemoryService:
    return memory_service(definition, CertificationSettings)


async def test_a_certificate_from_pass_to_revocation(certification: InMemoryService) -> None:
    app = certification.application
    trainee_id, application_id, evaluator = uuid4(), uuid4(), uuid4()
    assert await certification.deliver(passed(trainee_id, application_id, evaluator)) == [
        Outcome.APPLIED
    ]
    assert await certification.deliver(*enrollment_facts(trainee_id)) == [Outcome.APPLIED] * 2
    case_id = CertificateCase.id_for(application_id)
    assert app.case(case_id).status is CaseStatus.AWAITING_REPORT
    with pytest.raises(Refusal) as early:
        app.confirm(case_id)
    assert early.value.code == "wrong_stage"

    app.report(case_id)
    reported = app.case(case_id)
    assert (reported.due_on, reported.due_is_provisional) == (date(2026, 10, 15), False)
    app.return_for_correction(case_id, ["身份证号与照片不符"])
    assert app.case(case_id).status is CaseStatus.AWAITING_REPORT
    app.report(case_id)
    app.confirm(case_id)
    assert app.case(case_id).status is CaseStatus.AWAITING_APPROVAL
    app.approve(case_id)
    assert app.case(case_id).due_on == date(2026, 10, 24)
    number = app.issue(case_id)
    assert number == "HZSZ2026-2020713-J-000001"
    record = app.talent_record(trainee_id)
    assert record.in_pool and record.county == "东明县"
    assert record.hours_by_year == {2026: Decimal("128.0")}

    assert await certification.deliver(voided(trainee_id, application_id, evaluator)) == [
        Outcome.APPLIED
    ]
    assert app.case(case_id).status is CaseStatus.REVOKED
    assert not app.talent_record(trainee_id).in_pool

    events = certification.published()
    assert sorted(e.event_type for e in events) == sorted(
        [
            "ContinuingEducationHoursCredited",
            "CertificateDataReported",
            "ProvinceReturned",
            "CertificateDataReported",
            "ProvinceConfirmed",
            "NationalApproved",
            "CertificateIssued",
            "TalentPoolAdmitted",
            "CertificateRevoked",
        ]
    )
    issued = next(e for e in events if e.event_type == "CertificateIssued").payload
    assert (issued.certificate_number, issued.holder_name, issued.trainee_id) == (
        number,
        NAME,
        trainee_id,
    )


async def test_a_pass_delivered_again_or_republished_opens_no_second_case(
    certification: InMemoryService,
) -> None:
    trainee_id, application_id, evaluator = uuid4(), uuid4(), uuid4()
    fact = passed(trainee_id, application_id, evaluator)
    assert await certification.deliver(fact) == [Outcome.APPLIED]
    head = certification.application.log_head()
    assert await certification.deliver(fact) == [Outcome.DUPLICATE]
    # The same result under a new position (published again by a rebuilt producer log): the
    # handler sees the case is open and changes nothing.
    again = passed(trainee_id, application_id, evaluator)
    assert await certification.deliver(again) == [Outcome.APPLIED]
    assert certification.application.log_head() == head
    certification.application.read_models.catch_up()
    assert certification.application.deadlines.cases_by_trainee[trainee_id] == [
        CertificateCase.id_for(application_id)
    ]


async def test_a_breach_is_recorded_and_published_once_however_often_the_watcher_runs(
    certification: InMemoryService,
) -> None:
    trainee_id, evaluator = uuid4(), uuid4()
    await certification.deliver(passed(trainee_id, uuid4(), evaluator))
    with clock.frozen_at(datetime(2026, 10, 20, 2, tzinfo=UTC)):  # the report was due 10 October
        rounds = [certification.application.detect_breaches() for _ in range(5)]
    assert rounds == [1, 0, 0, 0, 0]
    breaches = [e.payload for e in certification.published() if e.event_type == "DeadlineBreached"]
    assert [(b.stage.value, b.due_on, b.days_late, b.trainee_id) for b in breaches] == [
        ("report_to_province", date(2026, 10, 10), 10, trainee_id)
    ]


async def test_a_result_voided_before_its_case_exists_is_applied_and_opens_nothing(
    certification: InMemoryService,
) -> None:
    trainee_id, application_id, evaluator = uuid4(), uuid4(), uuid4()
    head = certification.application.log_head()
    assert await certification.deliver(voided(trainee_id, application_id, evaluator)) == [
        Outcome.APPLIED
    ]
    assert certification.application.log_head() == head
    assert not certification.application.exists(CertificateCase.id_for(application_id))
    assert certification.dead_letters == []
