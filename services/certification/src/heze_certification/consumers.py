"""What the certification service does with the upstream facts it consumes.

- A trainee registered (enrollment): their talent record learns where they live and whether they
  have an employer from the event, and their name and ID number from enrollment (a claim check:
  the event does not carry them).
- A training completed (enrollment): its hours are credited as the year's continuing education.
- An assessment passed (assessment): a certificate case opens, once per application.
- An assessment result voided (assessment): its case is revoked, and an issued certificate
  leaves the trainee's talent record.
- A person erased (enrollment): their key here is deleted, and their talent record and cases
  record it; a certificate keeps what its retention rule keeps (number, occupation, level,
  dates and the keyed hash of the name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from heze_certification.application import CertificationApplication
from heze_certification.domain.case import CaseSubject, CertificateCase
from heze_common import clock
from heze_common.events import Aggregate
from heze_contracts import IntegrationEvent
from heze_contracts import assessment as assessed
from heze_contracts import enrollment as enrolled


def on_trainee_registered(
    application: CertificationApplication,
    event: enrolled.TraineeRegistered | enrolled.TraineeRegisteredV1,
) -> list[Aggregate]:
    """Version 1 carried the person in plaintext; its name and number are not read from it
    either, so both versions learn the same way."""
    person = event.payload
    employed = (
        person.employed
        if isinstance(person, enrolled.TraineeRegisteredPayload)
        else person.employer is not None
    )
    identity = application.holders.identity_of(person.trainee_id)
    if identity is None:
        return []  # erased before this was read: their erasure follows on the topic
    record = application.talent_record(person.trainee_id)
    record.learn_person(identity.name, identity.id_number, person.county, employed, clock.today())
    return [record]


def on_training_completed(
    application: CertificationApplication, event: enrolled.TrainingCompleted
) -> list[Aggregate]:
    training = event.payload
    record = application.talent_record(training.trainee_id)
    record.credit_hours(
        training.completed_on.year, training.total_hours, training.programme_id, clock.today()
    )
    return [record]


def on_assessment_passed(
    application: CertificationApplication,
    event: assessed.AssessmentPassed | assessed.AssessmentPassedV1,
) -> list[Aggregate]:
    result = event.payload
    if application.exists(CertificateCase.id_for(result.application_id)):
        return []
    subject = CaseSubject(
        trainee_id=result.trainee_id,
        application_id=result.application_id,
        evaluation_institution_id=result.evaluation_institution_id,
        occupation_code=result.occupation_code,
        field=result.field,
        level=result.level,
    )
    holder_name = application.holder_name(result.trainee_id)
    return [CertificateCase.open(subject, holder_name, result.assessment_ended_on)]


def on_result_voided(
    application: CertificationApplication, event: assessed.AssessmentResultVoided
) -> list[Aggregate]:
    voided = event.payload
    case_id = CertificateCase.id_for(voided.application_id)
    if not application.exists(case_id):
        return []  # a result without a case (failed, or voided before it passed)
    case = application.case(case_id)
    case.void_assessment(voided.reason)
    changed: list[Aggregate] = [case]
    if case.certificate_number:
        record = application.talent_record(case.trainee_id)
        record.note_revocation(case.certificate_number)
        changed.append(record)
    return changed


def on_person_erased(
    application: CertificationApplication, event: enrolled.PersonErased
) -> list[Aggregate]:
    return application.erase_person(event.payload.trainee_id, event.payload.erased_on)


def handlers(
    application: CertificationApplication,
) -> dict[type[IntegrationEvent], Callable[..., Iterable[Aggregate]]]:
    return {
        enrolled.TraineeRegistered: partial(on_trainee_registered, application),
        enrolled.TraineeRegisteredV1: partial(on_trainee_registered, application),
        enrolled.TrainingCompleted: partial(on_training_completed, application),
        assessed.AssessmentPassed: partial(on_assessment_passed, application),
        assessed.AssessmentPassedV1: partial(on_assessment_passed, application),
        assessed.AssessmentResultVoided: partial(on_result_voided, application),
        enrolled.PersonErased: partial(on_person_erased, application),
    }
