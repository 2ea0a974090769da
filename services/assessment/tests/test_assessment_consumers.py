"""The assessment service's application and consumer on the in-memory store (the fast tier):
enrollment's facts handed to the consumer's processing path as the broker would hand them over,
commands on the application, and the integration events its relay would publish."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from uuid import UUID, uuid4

import pytest
from assessment_builders import PROVINCE, an_evaluator, the_trainee

from heze_assessment.commands import (
    Apply,
    AssignApplicants,
    ConfirmQualification,
    RecordScores,
    RegisterEvaluationInstitution,
    RejectQualification,
    ScheduleSession,
    VoidResult,
)
from heze_assessment.domain.application import Status
from heze_assessment.domain.candidate import Candidate
from heze_assessment.domain.conditions import Declaration
from heze_assessment.main import definition
from heze_assessment.settings import AssessmentSettings
from heze_common import clock
from heze_common.consumer import Outcome
from heze_common.errors import Forbidden, InvalidInput, Refusal
from heze_common.testing import InMemoryService
from heze_contracts import IntegrationEvent
from heze_contracts import certification as certified
from heze_contracts import enrollment as enrolled
from heze_contracts.enums import (
    Education,
    Field,
    HourKind,
    HourMode,
    Level,
)
from heze_contracts.topics import dlq_topic

OCCUPATION = "2-02-07-13"
NOW = datetime(2026, 11, 27, 2, tzinfo=UTC)
COMMITMENT = "本人承诺所填报的学历、职称、工作年限等信息真实、准确，如有虚假，愿承担一切后果。"
positions = count(1)


def envelope(event_class: type, payload: object, subject: UUID) -> IntegrationEvent:
    return event_class.build(
        payload,
        position=next(positions),
        occurred_at=NOW,
        origin_id=subject,
        origin_version=1,
        correlation_id=uuid4(),
        causation_id=None,
    )


def registered(trainee_id: UUID) -> IntegrationEvent:
    """A registration as enrollment publishes it: assessment needs nothing of it."""
    return envelope(
        enrolled.TraineeRegistered,
        enrolled.TraineeRegisteredPayload(
            trainee_id=trainee_id, county="牡丹区", employed=False, registered_on=date(2026, 11, 1)
        ),
        trainee_id,
    )


def completed(trainee_id: UUID) -> IntegrationEvent:
    return envelope(
        enrolled.TrainingCompleted,
        enrolled.TrainingCompletedPayload(
            trainee_id=trainee_id,
            programme_id=uuid4(),
            institution_id=uuid4(),
            occupation_code=OCCUPATION,
            field=Field.INTELLIGENT_MANUFACTURING,
            level=Level.JUNIOR,
            hours_by_kind={HourKind.THEORY: Decimal("80.0"), HourKind.PRACTICE: Decimal("48.0")},
            hours_by_mode={HourMode.ONLINE: Decimal("80.0"), HourMode.OFFLINE: Decimal("48.0")},
            total_hours=Decimal("128.0"),
            exam_score=Decimal("88.0"),
            training_certificate_number="HZPX2026-2020713-000007",
            subsidised_plan=True,
            completed_on=date(2026, 11, 20),
        ),
        trainee_id,
    )


def withdrawn(trainee_id: UUID) -> IntegrationEvent:
    return envelope(
        enrolled.TraineeWithdrawn,
        enrolled.TraineeWithdrawnPayload(
            trainee_id=trainee_id,
            programme_id=uuid4(),
            institution_id=uuid4(),
            occupation_code=OCCUPATION,
            level=Level.JUNIOR,
            reason="工作调动",
            withdrawn_on=date(2026, 11, 10),
        ),
        trainee_id,
    )


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def assessment(memory_service: Callable[..., InMemoryService]) -> InMemoryService:
    return memory_service(definition, AssessmentSettings)


def evaluator(service: InMemoryService, name: str = "山东省数字技术人才评价中心") -> UUID:
    return service.application.handle(
        RegisterEvaluationInstitution(
            principal=PROVINCE,
            name=name,
            occupations={OCCUPATION: Field.INTELLIGENT_MANUFACTURING},
        )
    )


def apply(service: InMemoryService, trainee_id: UUID, evaluation_institution_id: UUID):
    return service.application.handle(
        Apply(
            principal=the_trainee(trainee_id),
            evaluation_institution_id=evaluation_institution_id,
            occupation_code=OCCUPATION,
            level=Level.JUNIOR,
            declaration=Declaration(education=Education.BACHELOR, major_relevant=True),
            commitment_text=COMMITMENT,
            commitment_signed=True,
        )
    )


def published_for(service: InMemoryService, trainee_id: UUID) -> list[str]:
    return [e.event_type for e in service.published() if e.subject_id == trainee_id]


@pytest.mark.parametrize(
    "application_first", [True, False], ids=["application-first", "completion-first"]
)
async def test_the_decision_is_the_same_whichever_arrives_first(
    assessment: InMemoryService, application_first: bool
) -> None:
    institution, trainee_id = evaluator(assessment), uuid4()
    assert await assessment.deliver(registered(trainee_id)) == [Outcome.IGNORED]
    if application_first:
        application = apply(assessment, trainee_id, institution)
        assert application.status is Status.AWAITING_TRAINING
        assert await assessment.deliver(completed(trainee_id)) == [Outcome.APPLIED]
    else:
        assert await assessment.deliver(completed(trainee_id)) == [Outcome.APPLIED]
        application = apply(assessment, trainee_id, institution)
    decided = assessment.application.application(application.id)
    assert decided.status is Status.AWAITING_REVIEW
    assert decided.training_certificate_number == "HZPX2026-2020713-000007"
    assert published_for(assessment, trainee_id) == ["AssessmentApplied"]


async def test_a_waiting_application_is_refused_when_the_withdrawal_arrives(
    assessment: InMemoryService,
) -> None:
    institution, trainee_id = evaluator(assessment), uuid4()
    await assessment.deliver(registered(trainee_id))
    waiting = apply(assessment, trainee_id, institution)
    assert waiting.status is Status.AWAITING_TRAINING
    withdrawal = withdrawn(trainee_id)
    assert await assessment.deliver(withdrawal) == [Outcome.APPLIED]
    assert assessment.application.application(waiting.id).status is Status.REFUSED
    with pytest.raises(Refusal) as again:
        apply(assessment, trainee_id, institution)
    assert again.value.code == "trainee_withdrawn"
    rejection = [e for e in assessment.published() if e.subject_id == trainee_id][-1]
    assert rejection.event_type == "QualificationRejected"
    assert rejection.payload.application_id == waiting.id
    # The effect of a consumed message names it as its cause, within the same correlation.
    assert (rejection.causation_id, rejection.correlation_id) == (
        withdrawal.event_id,
        withdrawal.correlation_id,
    )


async def assessed(
    assessment: InMemoryService, trainee_id: UUID, institution: UUID
) -> Callable[[Decimal, Decimal], RecordScores]:
    """The trainee's application confirmed and assigned to a session; what scores it."""
    await assessment.deliver(registered(trainee_id), completed(trainee_id))
    app, me = assessment.application, an_evaluator(institution)
    application_id = apply(assessment, trainee_id, institution).id
    app.handle(ConfirmQualification(principal=me, application_id=application_id))
    session_id = app.handle(
        ScheduleSession(
            principal=me,
            occupation_code=OCCUPATION,
            level=Level.JUNIOR,
            held_on=date(2026, 12, 5),
            place="菏泽学院",
        )
    ).id
    app.handle(
        AssignApplicants(principal=me, session_id=session_id, application_ids=[application_id])
    )

    def scores(theory: Decimal, practical: Decimal) -> RecordScores:
        return RecordScores(
            principal=me,
            session_id=session_id,
            application_id=application_id,
            theory_score=theory,
            practical_score=practical,
        )

    return scores


async def test_a_full_assessment_publishes_the_pass_naming_no_one_and_the_voiding(
    assessment: InMemoryService,
) -> None:
    institution, trainee_id = evaluator(assessment), uuid4()
    app = assessment.application
    scores = await assessed(assessment, trainee_id, institution)
    application_id = app.handle(scores(Decimal("78.5"), Decimal(82))).id
    assert app.application(application_id).status is Status.PASSED
    with pytest.raises(Refusal) as twice:
        app.handle(scores(Decimal(90), Decimal(90)))
    assert twice.value.code == "already_scored"
    app.handle(
        VoidResult(principal=PROVINCE, application_id=application_id, reason="学历证书核查不实")
    )

    events = [e for e in assessment.published() if e.subject_id == trainee_id]
    assert [e.event_type for e in events] == [
        "AssessmentApplied",
        "QualificationConfirmed",
        "AssessmentPassed",
        "AssessmentResultVoided",
    ]
    assert [e.position for e in events] == sorted(e.position for e in events)
    passed = events[2].payload
    assert passed.trainee_id == trainee_id and "holder" not in passed.model_dump()
    assert passed.assessment_ended_on == date(2026, 12, 5)
    assert str(passed.theory_score) == "78.5"


async def test_an_evaluation_institution_acts_only_on_its_own_applications_and_sessions(
    assessment: InMemoryService,
) -> None:
    institution, other, trainee_id = (
        evaluator(assessment),
        evaluator(assessment, "另一评价机构"),
        uuid4(),
    )
    await assessment.deliver(registered(trainee_id), completed(trainee_id))
    app, me, stranger = assessment.application, an_evaluator(institution), an_evaluator(other)
    application_id = apply(assessment, trainee_id, institution).id
    session_id = app.handle(
        ScheduleSession(
            principal=me,
            occupation_code=OCCUPATION,
            level=Level.JUNIOR,
            held_on=date(2026, 12, 5),
            place="菏泽学院",
        )
    ).id
    head = app.log_head()
    for command in (
        ConfirmQualification(principal=stranger, application_id=application_id),
        # Not theirs is said before the missing reason.
        RejectQualification(principal=stranger, application_id=application_id, reason=None),
        AssignApplicants(
            principal=stranger, session_id=session_id, application_ids=[application_id]
        ),
    ):
        with pytest.raises(Forbidden) as refused:
            app.handle(command)
        assert refused.value.code == "other_organisation"
    with pytest.raises(InvalidInput) as unreasoned:
        app.handle(RejectQualification(principal=me, application_id=application_id, reason=None))
    assert (unreasoned.value.code, unreasoned.value.field) == ("reason_required", "reason")
    assert app.log_head() == head
    assert app.application(application_id).status is Status.AWAITING_REVIEW


async def test_redelivered_facts_are_recognised_and_change_nothing(
    assessment: InMemoryService,
) -> None:
    institution, trainee_id = evaluator(assessment), uuid4()
    facts = [withdrawn(trainee_id), completed(trainee_id)]
    assert await assessment.deliver(*facts) == [Outcome.APPLIED, Outcome.APPLIED]
    application_id = apply(assessment, trainee_id, institution).id
    head = assessment.application.log_head()
    candidate_version = assessment.application.candidate(trainee_id).version

    # A consumer redelivering after a rebalance, then a relay republishing its whole log.
    assert await assessment.deliver(facts[1]) == [Outcome.DUPLICATE]
    assert await assessment.deliver(*facts) == [Outcome.DUPLICATE, Outcome.DUPLICATE]
    assert assessment.application.log_head() == head
    assert assessment.application.candidate(trainee_id).version == candidate_version
    assert assessment.application.application(application_id).status is Status.AWAITING_REVIEW


async def test_a_commitment_found_false_bars_the_applicant_for_the_rules_months(
    assessment: InMemoryService,
) -> None:
    institution, app = evaluator(assessment), assessment.application
    barred, voided_only = uuid4(), uuid4()
    for trainee_id, false_commitment in ((barred, True), (voided_only, False)):
        scores = await assessed(assessment, trainee_id, institution)
        application_id = app.handle(scores(Decimal(80), Decimal(80))).id
        app.handle(
            VoidResult(
                principal=PROVINCE,
                application_id=application_id,
                reason="承诺事项核查不实",
                false_commitment=false_commitment,
            )
        )
    with pytest.raises(Refusal) as refused:
        apply(assessment, barred, institution)
    assert refused.value.code == "barred_from_applying"
    assert refused.value.details == {"until": "2029-11-27"}  # 36 months, the example rules
    assert apply(assessment, voided_only, institution).status is Status.AWAITING_REVIEW
    [bar] = [e for e in app.events.get(app.candidate(barred).id) if isinstance(e, Candidate.Barred)]
    assert (bar.occupation_code, bar.reason) == (OCCUPATION, "承诺事项核查不实")
    with clock.frozen_at(datetime(2029, 11, 27, 2, tzinfo=UTC)):  # the bar has run out
        assert apply(assessment, barred, institution).status is Status.AWAITING_REVIEW


async def test_bad_messages_are_dead_lettered_and_the_next_good_one_is_applied(
    assessment: InMemoryService,
) -> None:
    trainee_id = uuid4()
    good = completed(trainee_id)
    issued = envelope(
        certified.CertificateIssued,
        certified.CertificateIssuedPayload(
            case_id=uuid4(),
            trainee_id=trainee_id,
            certificate_number="HZSZ2026-2020713-J-000001",
            occupation_code=OCCUPATION,
            field=Field.INTELLIGENT_MANUFACTURING,
            level=Level.JUNIOR,
            evaluation_institution_id=uuid4(),
            issued_on=date(2026, 11, 27),
        ),
        trainee_id,
    )
    head = assessment.application.log_head()
    poison = [
        assessment.record(good, value=b"{not json"),
        assessment.record(good, headers={"event_type": "TrainingCompleted"}),
        assessment.record(good, signed=False),
        # certification's event on enrollment's topic: a forged producer
        assessment.record(issued, topic=enrolled.TrainingCompleted.TOPIC),
    ]
    for record in poison:
        assert await assessment.process(record) is Outcome.DEAD_LETTERED
    assert [letter.reason for letter in assessment.dead_letters] == [
        "invalid_json",
        "missing_headers",
        "bad_signature",
        "forged_producer",
    ]
    assert {letter.topic for letter in assessment.dead_letters} == {dlq_topic("assessment")}
    assert assessment.application.log_head() == head

    assert await assessment.deliver(good) == [Outcome.APPLIED]
    assert assessment.application.candidate(trainee_id).proofs  # the completion was applied


async def test_enrollment_events_without_a_handler_are_ignored(
    assessment: InMemoryService,
) -> None:
    programme = envelope(
        enrolled.ProgrammeEnrolmentClosed,
        enrolled.ProgrammeEnrolmentClosedPayload(programme_id=uuid4(), institution_id=uuid4()),
        uuid4(),
    )
    head = assessment.application.log_head()
    assert await assessment.deliver(programme) == [Outcome.IGNORED]
    assert assessment.application.log_head() == head
    assert assessment.dead_letters == []
