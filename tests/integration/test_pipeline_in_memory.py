"""All four services on the in-memory store (the fast tier): one trainee from registration to a
paid subsidy, each service's published events handed to the consumers that subscribe to them,
as the relays and the broker would; then every log republished from the start (a broker that
lost everything), which changes nothing anywhere."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from heze_assessment.commands import (
    Apply,
    AssignApplicants,
    ConfirmQualification,
    RecordScores,
    RegisterEvaluationInstitution,
    ScheduleSession,
)
from heze_assessment.domain.application import Status
from heze_assessment.domain.conditions import Declaration
from heze_assessment.main import definition as assessment_definition
from heze_assessment.settings import AssessmentSettings
from heze_certification.commands import ApproveCase, ConfirmCase, IssueCertificate, ReportCase
from heze_certification.domain.case import CaseStatus, CertificateCase
from heze_certification.holders import HolderIdentity
from heze_certification.main import definition as certification_definition
from heze_certification.settings import CertificationSettings
from heze_common import clock
from heze_common.auth import Principal
from heze_common.consumer import Outcome
from heze_common.testing import InMemoryService
from heze_contracts.enums import (
    Education,
    Field,
    HourKind,
    HourMode,
    Level,
    ParticipantCategory,
    Role,
)
from heze_enrollment.commands import (
    Complete,
    Enrol,
    LogSession,
    PublishProgramme,
    RecordExam,
    RegisterTrainee,
    SetHourRequirement,
)
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.application import EnrollmentApplication
from heze_enrollment.domain.institution import Institution
from heze_enrollment.main import definition as enrollment_definition
from heze_enrollment.settings import EnrollmentSettings
from heze_subsidy.commands import FileClaim, RecordPayment
from heze_subsidy.domain.claim import ClaimStatus
from heze_subsidy.main import definition as subsidy_definition
from heze_subsidy.settings import SubsidySettings

LDU = Institution.create_id("鲁东大学")  # intelligent manufacturing
OCCUPATION = "2-02-07-13"
CITY_BUREAU = Principal(subject="city-officer", role=Role.CITY_BUREAU)
PROVINCE = Principal(subject="province-officer", role=Role.PROVINCIAL_DEPARTMENT)
NATIONAL_OFFICE = Principal(subject="national-officer", role=Role.NATIONAL_OFFICE)
LDU_STAFF = Principal(subject="registrar", role=Role.TRAINING_INSTITUTION, organisation_id=LDU)


class EnrollmentAnswers:
    """Certification's claim check of a holder's identity, answered by the enrollment
    application of this test as its `/internal/holders` endpoint answers the real call."""

    def __init__(self, enrollment: EnrollmentApplication):
        self.enrollment = enrollment

    def identity_of(self, trainee_id: UUID) -> HolderIdentity:
        trainee = self.enrollment.trainee(trainee_id)
        return HolderIdentity(trainee.name, trainee.id_number)


def at(day: date) -> clock.frozen_at:  # type: ignore[valid-type]
    return clock.frozen_at(datetime(day.year, day.month, day.day, 2, tzinfo=UTC))


async def test_a_trainee_reaches_a_paid_subsidy_through_all_four_services_and_a_replay_changes_nothing(
    memory_service: Callable[..., InMemoryService],
) -> None:
    enrollment = memory_service(enrollment_definition, EnrollmentSettings)
    assessment = memory_service(assessment_definition, AssessmentSettings)
    certification = memory_service(certification_definition, CertificationSettings)
    subsidy = memory_service(subsidy_definition, SubsidySettings)
    certification.application.holders = EnrollmentAnswers(enrollment.application)
    consumers = {
        enrollment: (assessment, certification, subsidy),
        assessment: (certification,),
        certification: (subsidy,),
        subsidy: (),
    }

    delivered: list[Outcome] = []

    async def relay(producer: InMemoryService) -> list[Outcome]:
        batch = producer.relay()
        outcomes = [o for consumer in consumers[producer] for o in await consumer.receive(batch)]
        delivered.extend(outcomes)
        return outcomes

    with at(date(2026, 11, 2)):
        app = enrollment.application
        app.handle(
            SetHourRequirement(
                principal=CITY_BUREAU,
                code=OCCUPATION,
                level=Level.JUNIOR,
                hours={HourKind.THEORY: Decimal(4), HourKind.PRACTICE: Decimal(2)},
                effective_from=date(2026, 1, 1),
            )
        )
        programme_id = app.handle(
            PublishProgramme(
                principal=LDU_STAFF,
                occupation_code=OCCUPATION,
                level=Level.JUNIOR,
                title="智能制造工程技术人员（初级）",
                capacity=10,
                starts_on=date(2026, 11, 1),
                ends_on=date(2027, 1, 31),
                required_hours=None,
                completion_pass_mark=Decimal(60),
                subsidised_plan=True,
                in_city_training_directory=True,
            )
        )
        trainee_id = app.handle(
            RegisterTrainee(
                principal=LDU_STAFF,
                name="学员一",
                id_number=ResidentId.compose("371702", date(1994, 3, 3), 3),
                sex=None,
                birth_date=None,
                phone="13800000000",
                education=Education.BACHELOR,
                major="机械设计制造及其自动化",
                employer=None,
                county="巨野县",
                participant_category=ParticipantCategory.DIGITAL_WORKER,
                draws_pension=False,
                retirement_group=None,
                person_consents=True,
            )
        )
        app.handle(Enrol(principal=LDU_STAFF, trainee_id=trainee_id, programme_id=programme_id))
    with at(date(2026, 11, 27)):
        for day, hours, kind, mode in (
            (date(2026, 11, 10), 4, HourKind.THEORY, HourMode.ONLINE),
            (date(2026, 11, 11), 2, HourKind.PRACTICE, HourMode.OFFLINE),
        ):
            app.handle(
                LogSession(
                    principal=LDU_STAFF,
                    trainee_id=trainee_id,
                    programme_id=programme_id,
                    day=day,
                    hours=Decimal(hours),
                    kind=kind,
                    mode=mode,
                )
            )
        app.handle(
            RecordExam(
                principal=LDU_STAFF,
                trainee_id=trainee_id,
                programme_id=programme_id,
                score=Decimal(75),
            )
        )
        completed = app.handle(
            Complete(principal=LDU_STAFF, trainee_id=trainee_id, programme_id=programme_id)
        )
        training_certificate = completed.enrolment(programme_id).certificate_number
        assert Outcome.DEAD_LETTERED not in await relay(enrollment)

    with at(date(2026, 12, 5)):
        app = assessment.application
        evaluator = app.handle(
            RegisterEvaluationInstitution(
                principal=PROVINCE,
                name="山东省智能制造评价中心",
                occupations={OCCUPATION: Field.INTELLIGENT_MANUFACTURING},
            )
        )
        assessor = Principal(
            subject="assessor", role=Role.EVALUATION_INSTITUTION, organisation_id=evaluator
        )
        application = app.handle(
            Apply(
                principal=Principal(subject=str(trainee_id), role=Role.TRAINEE),
                evaluation_institution_id=evaluator,
                occupation_code=OCCUPATION,
                level=Level.JUNIOR,
                declaration=Declaration(education=Education.BACHELOR, major_relevant=True),
                commitment_text="本人承诺申报信息真实。",
                commitment_signed=True,
            )
        )
        assert application.status is Status.AWAITING_REVIEW  # the completion arrived first
        assert application.training_certificate_number == training_certificate
        app.handle(ConfirmQualification(principal=assessor, application_id=application.id))
        session = app.handle(
            ScheduleSession(
                principal=assessor,
                occupation_code=OCCUPATION,
                level=Level.JUNIOR,
                held_on=date(2026, 12, 5),
                place="菏泽学院",
            )
        )
        app.handle(
            AssignApplicants(
                principal=assessor, session_id=session.id, application_ids=[application.id]
            )
        )
        app.handle(
            RecordScores(
                principal=assessor,
                session_id=session.id,
                application_id=application.id,
                theory_score=Decimal(81),
                practical_score=Decimal("77.5"),
            )
        )
        assert app.application(application.id).status is Status.PASSED
        assert Outcome.DEAD_LETTERED not in await relay(assessment)

    with at(date(2026, 12, 10)):
        app = certification.application
        case_id = CertificateCase.id_for(application.id)
        assert app.case(case_id).holder_name == "学员一"
        app.handle(ReportCase(principal=assessor, case_id=case_id))
        app.handle(ConfirmCase(principal=PROVINCE, case_id=case_id))
        app.handle(ApproveCase(principal=NATIONAL_OFFICE, case_id=case_id))
        certificate = app.handle(
            IssueCertificate(principal=assessor, case_id=case_id)
        ).certificate_number
        record = app.talent_record(trainee_id)
        assert record.in_pool and record.hours_by_year == {2026: Decimal("6.0")}
        assert Outcome.DEAD_LETTERED not in await relay(certification)

    with at(date(2026, 12, 20)):
        app = subsidy.application
        claim = app.handle(
            FileClaim(
                principal=Principal(subject=str(trainee_id), role=Role.TRAINEE),
                trainee_id=None,
                programme_id=programme_id,
                occupation_code=OCCUPATION,
                level=Level.JUNIOR,
            )
        )
        assert (claim.status, claim.amount_fen) == (ClaimStatus.APPROVED, 150_000)
        app.handle(
            RecordPayment(
                principal=CITY_BUREAU, claim_id=claim.id, payment_reference="HZCZ-2026-0001"
            )
        )

    published = {
        service.settings.service_name: [
            e.event_type for e in service.published() if e.subject_id == trainee_id
        ]
        for service in consumers
    }
    assert published == {
        "enrollment": ["TraineeRegistered", "TraineeEnrolled", "TrainingCompleted"],
        "assessment": ["AssessmentApplied", "QualificationConfirmed", "AssessmentPassed"],
        "certification": [
            "ContinuingEducationHoursCredited",
            "CertificateDataReported",
            "ProvinceConfirmed",
            "NationalApproved",
            "CertificateIssued",
            "TalentPoolAdmitted",
        ],
        "subsidy": ["SubsidyApplied", "SubsidyApproved", "SubsidyPaid"],
    }
    issued = next(
        e for e in certification.published() if e.event_type == "CertificateIssued"
    ).payload
    assert issued.certificate_number == certificate

    # The broker lost everything: every relay publishes its whole log again.
    heads = {service: service.application.log_head() for service in consumers}
    first_time = Counter(delivered)
    assert first_time[Outcome.APPLIED] >= 7 and Outcome.DEAD_LETTERED not in first_time
    delivered.clear()
    with at(date(2026, 12, 21)):
        for producer in consumers:
            producer.relay_position = 0
            await relay(producer)
    # Each message applied the first time is recognised as a duplicate, each ignored one ignored.
    assert Counter(delivered) == Counter(
        {
            Outcome.DUPLICATE: first_time[Outcome.APPLIED],
            Outcome.IGNORED: first_time[Outcome.IGNORED],
        }
    )
    assert {service: service.application.log_head() for service in consumers} == heads
    assert subsidy.application.claim(claim.id).status is ClaimStatus.PAID
    assert certification.application.case(case_id).status is CaseStatus.ISSUED
