"""Which domain events the assessment service publishes, and as what (all others stay private).

An application waiting for its training proof is not yet published: `AssessmentApplied` goes
out when it is accepted for qualification review.
"""

from __future__ import annotations

from datetime import UTC

from heze_assessment.domain.application import Application
from heze_common.outbox import IntegrationMapper, Publication
from heze_contracts import assessment as contract
from heze_contracts.enums import Producer


def applied(event: Application.Accepted) -> Publication:
    subject = event.subject
    return Publication(
        contract.AssessmentApplied,
        contract.AssessmentAppliedPayload(
            application_id=event.originator_id,
            trainee_id=subject.trainee_id,
            evaluation_institution_id=subject.evaluation_institution_id,
            occupation_code=subject.occupation_code,
            field=subject.field,
            level=subject.level,
            commitment_text=event.commitment_text,
            commitment_signed_at=event.commitment_signed_at.astimezone(UTC),
            applied_at=event.applied_at.astimezone(UTC),
        ),
    )


def confirmed(event: Application.QualificationConfirmed) -> Publication:
    subject = event.subject
    return Publication(
        contract.QualificationConfirmed,
        contract.QualificationConfirmedPayload(
            application_id=event.originator_id,
            trainee_id=subject.trainee_id,
            evaluation_institution_id=subject.evaluation_institution_id,
            occupation_code=subject.occupation_code,
            level=subject.level,
            route=event.route,
            confirmed_at=event.timestamp,
        ),
    )


def rejected(event: Application.QualificationRejected) -> Publication:
    return _rejection(event, "qualification_rejected", event.reason)


def refused(event: Application.Refused) -> Publication:
    return _rejection(event, event.reason_code, event.reason)


def _rejection(
    event: Application.QualificationRejected | Application.Refused, code: str, reason: str
) -> Publication:
    return Publication(
        contract.QualificationRejected,
        contract.QualificationRejectedPayload(
            application_id=event.originator_id,
            trainee_id=event.subject.trainee_id,
            evaluation_institution_id=event.subject.evaluation_institution_id,
            reason_code=code,
            reason=reason,
        ),
    )


def result(event: Application.Scored | Application.ScoreCorrected) -> Publication | None:
    if isinstance(event, Application.ScoreCorrected) and event.passed == event.was_passed:
        return None  # the published outcome stands; the correction stays in the audit trail
    subject = event.subject
    common = {
        "application_id": event.originator_id,
        "trainee_id": subject.trainee_id,
        "evaluation_institution_id": subject.evaluation_institution_id,
        "session_id": event.session_id,
        "occupation_code": subject.occupation_code,
        "field": subject.field,
        "level": subject.level,
        "theory_score": event.theory_score,
        "practical_score": event.practical_score,
        "assessment_ended_on": event.assessed_on,
    }
    if not event.passed:
        return Publication(contract.AssessmentFailed, contract.AssessmentFailedPayload(**common))
    return Publication(contract.AssessmentPassed, contract.AssessmentPassedPayload(**common))


def voided(event: Application.ResultVoided) -> Publication:
    return Publication(
        contract.AssessmentResultVoided,
        contract.AssessmentResultVoidedPayload(
            application_id=event.originator_id,
            trainee_id=event.subject.trainee_id,
            evaluation_institution_id=event.subject.evaluation_institution_id,
            reason=event.reason,
            voided_at=event.timestamp,
        ),
    )


ASSESSMENT_PUBLICATIONS = IntegrationMapper(
    Producer.ASSESSMENT,
    {
        Application.Accepted: applied,
        Application.QualificationConfirmed: confirmed,
        Application.QualificationRejected: rejected,
        Application.Refused: refused,
        Application.Scored: result,
        Application.ScoreCorrected: result,
        Application.ResultVoided: voided,
    },
)
