"""Which domain events the certification service publishes, and as what (all others stay private)."""

from __future__ import annotations

from heze_certification.domain.case import CertificateCase as Case
from heze_certification.domain.talent import TalentRecord
from heze_common.outbox import IntegrationMapper, Publication
from heze_contracts import certification as contract
from heze_contracts.enums import Producer


def reported(event: Case.Reported) -> Publication:
    subject = event.subject
    return Publication(
        contract.CertificateDataReported,
        contract.CertificateDataReportedPayload(
            case_id=event.originator_id,
            trainee_id=subject.trainee_id,
            application_id=subject.application_id,
            evaluation_institution_id=subject.evaluation_institution_id,
            occupation_code=subject.occupation_code,
            field=subject.field,
            level=subject.level,
            reported_at=event.timestamp,
            confirmation_due_on=event.due_on,
            due_is_provisional=event.due_is_provisional,
        ),
    )


def confirmed(event: Case.ProvinceConfirmed) -> Publication:
    return Publication(
        contract.ProvinceConfirmed,
        contract.ProvinceConfirmedPayload(
            case_id=event.originator_id,
            trainee_id=event.subject.trainee_id,
            confirmed_at=event.timestamp,
        ),
    )


def returned(event: Case.ProvinceReturned) -> Publication:
    return Publication(
        contract.ProvinceReturned,
        contract.ProvinceReturnedPayload(
            case_id=event.originator_id,
            trainee_id=event.subject.trainee_id,
            reasons=list(event.reasons),
            returned_at=event.timestamp,
        ),
    )


def approved(event: Case.NationalApproved) -> Publication:
    return Publication(
        contract.NationalApproved,
        contract.NationalApprovedPayload(
            case_id=event.originator_id,
            trainee_id=event.subject.trainee_id,
            approved_at=event.timestamp,
            issue_due_on=event.due_on,
        ),
    )


def rejected(event: Case.NationalRejected) -> Publication:
    return Publication(
        contract.NationalRejected,
        contract.NationalRejectedPayload(
            case_id=event.originator_id,
            trainee_id=event.subject.trainee_id,
            reasons=list(event.reasons),
            rejected_at=event.timestamp,
        ),
    )


def issued(event: Case.Issued) -> Publication:
    subject = event.subject
    return Publication(
        contract.CertificateIssued,
        contract.CertificateIssuedPayload(
            case_id=event.originator_id,
            trainee_id=subject.trainee_id,
            certificate_number=event.certificate_number,
            occupation_code=subject.occupation_code,
            field=subject.field,
            level=subject.level,
            evaluation_institution_id=subject.evaluation_institution_id,
            issued_on=event.issued_on,
        ),
    )


def revoked(event: Case.Revoked) -> Publication:
    return Publication(
        contract.CertificateRevoked,
        contract.CertificateRevokedPayload(
            case_id=event.originator_id,
            trainee_id=event.subject.trainee_id,
            certificate_number=event.certificate_number,
            reason=event.reason,
            revoked_at=event.timestamp,
        ),
    )


def breached(event: Case.DeadlineBreached) -> Publication:
    return Publication(
        contract.DeadlineBreached,
        contract.DeadlineBreachedPayload(
            case_id=event.originator_id,
            trainee_id=event.subject.trainee_id,
            evaluation_institution_id=event.subject.evaluation_institution_id,
            stage=event.stage,
            due_on=event.due_on,
            detected_on=event.detected_on,
            days_late=event.days_late,
        ),
    )


def deadline_changed(event: Case.DeadlineChanged) -> Publication:
    return Publication(
        contract.DeadlineChanged,
        contract.DeadlineChangedPayload(
            case_id=event.originator_id,
            trainee_id=event.subject.trainee_id,
            stage=event.stage,
            previous_due_on=event.previous_due_on,
            due_on=event.due_on,
            due_is_provisional=event.due_is_provisional,
        ),
    )


def hours_credited(event: TalentRecord.HoursCredited) -> Publication:
    return Publication(
        contract.ContinuingEducationHoursCredited,
        contract.ContinuingEducationHoursCreditedPayload(
            trainee_id=event.trainee_id,
            year=event.year,
            hours=event.hours,
            source_programme_id=event.source_programme_id,
            credited_on=event.credited_on,
        ),
    )


def admitted(event: TalentRecord.AdmittedToPool) -> Publication:
    return Publication(
        contract.TalentPoolAdmitted,
        contract.TalentPoolAdmittedPayload(
            trainee_id=event.trainee_id,
            certificate_number=event.certificate_number,
            field=event.field,
            level=event.level,
            county=event.county,
            admitted_on=event.admitted_on,
        ),
    )


CERTIFICATION_PUBLICATIONS = IntegrationMapper(
    Producer.CERTIFICATION,
    {
        Case.Reported: reported,
        Case.ProvinceConfirmed: confirmed,
        Case.ProvinceReturned: returned,
        Case.NationalApproved: approved,
        Case.NationalRejected: rejected,
        Case.Issued: issued,
        Case.Revoked: revoked,
        Case.DeadlineBreached: breached,
        Case.DeadlineChanged: deadline_changed,
        TalentRecord.HoursCredited: hours_credited,
        TalentRecord.AdmittedToPool: admitted,
    },
)
