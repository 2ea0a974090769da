"""The certification service's application and consumer on the in-memory store (the fast
tier): assessment's and enrollment's facts handed to the consumer's processing path as the broker
would hand them over, a case's stages on the application, and the integration events its relay
would publish."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from certification_builders import (
    NAME,
    NATIONAL,
    PROVINCE,
    TODAY,
    enrollment_facts,
    evaluation_institution,
    passed,
    voided,
)

from heze_certification.commands import (
    ApproveCase,
    ConfirmCase,
    IssueCertificate,
    ReportCase,
    ReturnForCorrection,
)
from heze_certification.domain.case import CaseStatus, CertificateCase
from heze_certification.main import definition
from heze_certification.settings import CertificationSettings
from heze_common import clock
from heze_common.consumer import Outcome
from heze_common.errors import Refusal
from heze_common.testing import InMemoryService


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
        app.handle(ConfirmCase(principal=PROVINCE, case_id=case_id))
    assert early.value.code == "wrong_stage"

    with pytest.raises(Refusal) as not_theirs:
        app.handle(ReportCase(principal=evaluation_institution(uuid4()), case_id=case_id))
    assert not_theirs.value.code == "other_organisation"
    me = evaluation_institution(evaluator)
    app.handle(ReportCase(principal=me, case_id=case_id))
    reported = app.case(case_id)
    assert (reported.due_on, reported.due_is_provisional) == (date(2026, 10, 15), False)
    app.handle(
        ReturnForCorrection(principal=PROVINCE, case_id=case_id, reasons=["身份证号与照片不符"])
    )
    assert app.case(case_id).status is CaseStatus.AWAITING_REPORT
    app.handle(ReportCase(principal=me, case_id=case_id))
    app.handle(ConfirmCase(principal=PROVINCE, case_id=case_id))
    assert app.case(case_id).status is CaseStatus.AWAITING_APPROVAL
    app.handle(ApproveCase(principal=NATIONAL, case_id=case_id))
    assert app.case(case_id).due_on == date(2026, 10, 24)
    number = app.handle(IssueCertificate(principal=me, case_id=case_id)).certificate_number
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
    assert (issued.certificate_number, issued.trainee_id) == (number, trainee_id)
    assert app.case(issued.case_id).holder_name == NAME  # from enrollment, not from the broker
    assert not any(NAME in e.model_dump_json() for e in events)


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


async def test_a_breach_is_recorded_and_published_once_however_often_the_watcher_runs(
    certification: InMemoryService,
) -> None:
    trainee_id, application_id, evaluator = uuid4(), uuid4(), uuid4()
    await certification.deliver(passed(trainee_id, application_id, evaluator))
    # The watcher's rounds, each handed the case as overdue (the views find it so: see
    # test_views.py); the case itself records its breach once.
    case_ids = [CertificateCase.id_for(application_id)]
    with clock.frozen_at(datetime(2026, 10, 20, 2, tzinfo=UTC)):  # the report was due 10 October
        rounds = [certification.application.record_breaches(case_ids) for _ in range(5)]
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
