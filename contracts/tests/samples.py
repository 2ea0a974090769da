"""One valid sample of every catalogued event, built the way a producing service builds it
(for the contract tests, and for tests that need an event of every type)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from heze_contracts import IntegrationEvent
from heze_contracts import assessment as a
from heze_contracts import certification as c
from heze_contracts import enrollment as e
from heze_contracts import subsidy as s
from heze_contracts.enums import (
    ErasureGrounds,
    CertificateStage,
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

TRAINEE = UUID("00000000-0000-4000-8000-000000000001")
INSTITUTION = UUID("00000000-0000-4000-8000-000000000002")
PROGRAMME = UUID("00000000-0000-4000-8000-000000000003")
APPLICATION = UUID("00000000-0000-4000-8000-000000000004")
EVALUATOR = UUID("00000000-0000-4000-8000-000000000005")
CASE = UUID("00000000-0000-4000-8000-000000000006")
CLAIM = UUID("00000000-0000-4000-8000-000000000007")
NAME = "𠀀王小明"  # an astral-plane character: it must survive as 4 UTF-8 bytes
REASON = "材料不全"
AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
AI = "2-02-10-09"

_study = dict(
    trainee_id=TRAINEE, programme_id=PROGRAMME, institution_id=INSTITUTION, occupation_code=AI
)
_application = dict(
    application_id=APPLICATION, trainee_id=TRAINEE, evaluation_institution_id=EVALUATOR
)
_result = dict(
    _application,
    session_id=UUID("00000000-0000-4000-8000-000000000008"),
    occupation_code=AI,
    field=Field.ARTIFICIAL_INTELLIGENCE,
    level=Level.JUNIOR,
    theory_score=Decimal("78.5"),
    practical_score=Decimal("60"),
    assessment_ended_on=date(2025, 2, 20),
)
_case = dict(case_id=CASE, trainee_id=TRAINEE)

PAYLOADS = {
    e.InstitutionAccredited: e.InstitutionAccreditedPayload(
        institution_id=INSTITUTION,
        directory_number=1,
        name="中国石油大学(华东)",
        fields=[Field.BIG_DATA, Field.BLOCKCHAIN],
        contact_name="唐莉",
        contact_phone="0532-86980900",
        in_city_training_directory=True,
    ),
    e.InstitutionScopeChanged: e.InstitutionScopeChangedPayload(
        institution_id=INSTITUTION, fields=[Field.BIG_DATA]
    ),
    e.InstitutionSuspended: e.InstitutionSuspendedPayload(
        institution_id=INSTITUTION, reason=REASON
    ),
    e.InstitutionReinstated: e.InstitutionReinstatedPayload(institution_id=INSTITUTION),
    e.ProgrammePublished: e.ProgrammePublishedPayload(
        programme_id=PROGRAMME,
        institution_id=INSTITUTION,
        occupation_code=AI,
        field=Field.ARTIFICIAL_INTELLIGENCE,
        level=Level.JUNIOR,
        title="人工智能工程技术人员(初级)培训",
        capacity=50,
        starts_on=date(2025, 1, 6),
        ends_on=date(2025, 2, 14),
        required_hours={HourKind.THEORY: Decimal("64"), HourKind.PRACTICE: Decimal("32.5")},
        completion_pass_mark=Decimal("60"),
        subsidised_plan=True,
        in_city_training_directory=True,
    ),
    e.ProgrammeEnrolmentClosed: e.ProgrammeEnrolmentClosedPayload(
        programme_id=PROGRAMME, institution_id=INSTITUTION
    ),
    e.TraineeRegistered: e.TraineeRegisteredPayload(
        trainee_id=TRAINEE, county="牡丹区", employed=False, registered_on=date(2025, 1, 2)
    ),
    e.TraineeRegisteredV1: e.TraineeRegisteredV1Payload(
        trainee_id=TRAINEE,
        name=NAME,
        id_number="11010519491231002X",
        sex=Sex.FEMALE,
        birth_date=date(1949, 12, 31),
        phone="13800000000",
        education=Education.BACHELOR,
        major="计算机科学与技术",
        employer=None,
        county="牡丹区",
        participant_category=ParticipantCategory.DIGITAL_WORKER,
        registered_on=date(2025, 1, 2),
        registered_by_institution_id=INSTITUTION,
        retirement_group=RetirementGroup.FEMALE_55,
    ),
    e.TraineeEnrolled: e.TraineeEnrolledPayload(
        **_study,
        field=Field.ARTIFICIAL_INTELLIGENCE,
        level=Level.JUNIOR,
        subsidised_plan=True,
        enrolled_on=date(2025, 1, 3),
    ),
    e.TrainingCompleted: e.TrainingCompletedPayload(
        **_study,
        field=Field.ARTIFICIAL_INTELLIGENCE,
        level=Level.JUNIOR,
        hours_by_kind={HourKind.THEORY: Decimal("64"), HourKind.PRACTICE: Decimal("32.5")},
        hours_by_mode={HourMode.ONLINE: Decimal("40"), HourMode.OFFLINE: Decimal("56.5")},
        total_hours=Decimal("96.5"),
        exam_score=Decimal("88"),
        training_certificate_number="HZ-2025-0001",
        subsidised_plan=True,
        completed_on=date(2025, 2, 14),
    ),
    e.TraineeWithdrawn: e.TraineeWithdrawnPayload(
        **_study, level=Level.JUNIOR, reason=REASON, withdrawn_on=date(2025, 1, 20)
    ),
    e.PersonErased: e.PersonErasedPayload(
        trainee_id=TRAINEE, grounds=ErasureGrounds.REQUEST, erased_on=date(2026, 3, 2)
    ),
    a.AssessmentApplied: a.AssessmentAppliedPayload(
        **_application,
        occupation_code=AI,
        field=Field.ARTIFICIAL_INTELLIGENCE,
        level=Level.JUNIOR,
        commitment_text="本人承诺所填报信息真实有效",
        commitment_signed_at=AT,
        applied_at=AT,
    ),
    a.QualificationConfirmed: a.QualificationConfirmedPayload(
        **_application,
        occupation_code=AI,
        level=Level.JUNIOR,
        route="bachelor_degree",
        confirmed_at=AT,
    ),
    a.QualificationRejected: a.QualificationRejectedPayload(
        **_application, reason_code="missing_training_hours", reason=REASON
    ),
    a.AssessmentPassed: a.AssessmentPassedPayload(**_result),
    a.AssessmentPassedV1: a.AssessmentPassedV1Payload(
        **_result,
        holder=a.Holder(
            name=NAME, id_number="11010519491231002X", sex=Sex.FEMALE, birth_date=date(1949, 12, 31)
        ),
    ),
    a.AssessmentFailed: a.AssessmentFailedPayload(**_result),
    a.AssessmentResultVoided: a.AssessmentResultVoidedPayload(
        **_application, reason=REASON, voided_at=AT
    ),
    c.CertificateDataReported: c.CertificateDataReportedPayload(
        **_case,
        application_id=APPLICATION,
        evaluation_institution_id=EVALUATOR,
        occupation_code=AI,
        field=Field.ARTIFICIAL_INTELLIGENCE,
        level=Level.JUNIOR,
        reported_at=AT,
        confirmation_due_on=date(2025, 3, 14),
        due_is_provisional=False,
    ),
    c.ProvinceConfirmed: c.ProvinceConfirmedPayload(**_case, confirmed_at=AT),
    c.ProvinceReturned: c.ProvinceReturnedPayload(
        **_case, reasons=[REASON, "照片不清晰"], returned_at=AT
    ),
    c.NationalApproved: c.NationalApprovedPayload(
        **_case, approved_at=AT, issue_due_on=date(2025, 3, 31)
    ),
    c.NationalRejected: c.NationalRejectedPayload(**_case, reasons=[REASON], rejected_at=AT),
    c.CertificateIssued: c.CertificateIssuedPayload(
        **_case,
        certificate_number="DTE-2025-000001",
        occupation_code=AI,
        field=Field.ARTIFICIAL_INTELLIGENCE,
        level=Level.JUNIOR,
        evaluation_institution_id=EVALUATOR,
        issued_on=date(2025, 4, 1),
    ),
    c.CertificateIssuedV1: c.CertificateIssuedV1Payload(
        **_case,
        certificate_number="DTE-2025-000001",
        holder_name=NAME,
        occupation_code=AI,
        field=Field.ARTIFICIAL_INTELLIGENCE,
        level=Level.JUNIOR,
        evaluation_institution_id=EVALUATOR,
        issued_on=date(2025, 4, 1),
    ),
    c.CertificateRevoked: c.CertificateRevokedPayload(
        **_case, certificate_number="DTE-2025-000001", reason=REASON, revoked_at=AT
    ),
    c.DeadlineBreached: c.DeadlineBreachedPayload(
        **_case,
        evaluation_institution_id=EVALUATOR,
        stage=CertificateStage.PROVINCE_CONFIRMATION,
        due_on=date(2025, 3, 14),
        detected_on=date(2025, 3, 17),
        days_late=1,
    ),
    c.DeadlineChanged: c.DeadlineChangedPayload(
        **_case,
        stage=CertificateStage.PROVINCE_CONFIRMATION,
        previous_due_on=date(2027, 2, 12),
        due_on=date(2027, 2, 19),
        due_is_provisional=False,
    ),
    c.ContinuingEducationHoursCredited: c.ContinuingEducationHoursCreditedPayload(
        trainee_id=TRAINEE,
        year=2025,
        hours=Decimal("96.5"),
        source_programme_id=PROGRAMME,
        credited_on=date(2025, 2, 15),
    ),
    c.TalentPoolAdmitted: c.TalentPoolAdmittedPayload(
        trainee_id=TRAINEE,
        certificate_number="DTE-2025-000001",
        field=Field.ARTIFICIAL_INTELLIGENCE,
        level=Level.JUNIOR,
        county="牡丹区",
        admitted_on=date(2025, 4, 2),
    ),
    s.SubsidyApplied: s.SubsidyAppliedPayload(
        claim_id=CLAIM,
        trainee_id=TRAINEE,
        programme_id=PROGRAMME,
        occupation_code=AI,
        level=Level.JUNIOR,
        applied_at=AT,
        applied_by_role=Role.TRAINEE,
    ),
    s.SubsidyApproved: s.SubsidyApprovedPayload(
        claim_id=CLAIM,
        trainee_id=TRAINEE,
        amount_fen=150_000,
        standard_id=UUID("00000000-0000-4000-8000-000000000009"),
        decided_on=date(2025, 4, 10),
    ),
    s.SubsidyRejected: s.SubsidyRejectedPayload(
        claim_id=CLAIM,
        trainee_id=TRAINEE,
        reason_code="subsidised_within_year",
        reason=REASON,
        decided_on=date(2025, 4, 10),
    ),
    s.SubsidyPaid: s.SubsidyPaidPayload(
        claim_id=CLAIM,
        trainee_id=TRAINEE,
        amount_fen=150_000,
        payment_reference="PAY-20250420-1",
        paid_on=date(2025, 4, 20),
    ),
}


ORIGIN_ID = UUID("00000000-0000-4000-8000-00000000000a")
ORIGIN_VERSION = 3


def build_sample(event: type[IntegrationEvent]) -> IntegrationEvent:
    return event.build(
        PAYLOADS[event],
        position=42,
        occurred_at=AT,
        origin_id=ORIGIN_ID,
        origin_version=ORIGIN_VERSION,
        correlation_id=UUID("00000000-0000-4000-8000-00000000000b"),
        causation_id=None,
    )
