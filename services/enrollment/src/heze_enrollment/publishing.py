"""Which domain events the enrollment service publishes, and as what (all others stay private)."""

from __future__ import annotations

from heze_common.outbox import IntegrationMapper, Publication
from heze_contracts import enrollment as contract
from heze_contracts.enums import Producer
from heze_enrollment.domain.institution import Institution
from heze_enrollment.domain.programme import Programme
from heze_enrollment.domain.trainee import Trainee


def institution_accredited(event: Institution.Accredited) -> Publication:
    return Publication(
        contract.InstitutionAccredited,
        contract.InstitutionAccreditedPayload(
            institution_id=event.originator_id,
            directory_number=event.directory_number,
            name=event.name,
            fields=list(event.fields),
            contact_name=event.contact_name,
            contact_phone=event.contact_phone,
            in_city_training_directory=False,
        ),
    )


def scope_changed(event: Institution.ScopeChanged) -> Publication:
    return Publication(
        contract.InstitutionScopeChanged,
        contract.InstitutionScopeChangedPayload(
            institution_id=event.originator_id, fields=list(event.fields)
        ),
    )


def suspended(event: Institution.Suspended) -> Publication:
    return Publication(
        contract.InstitutionSuspended,
        contract.InstitutionSuspendedPayload(
            institution_id=event.originator_id, reason=event.reason
        ),
    )


def reinstated(event: Institution.Reinstated) -> Publication:
    return Publication(
        contract.InstitutionReinstated,
        contract.InstitutionReinstatedPayload(institution_id=event.originator_id),
    )


def programme_published(event: Programme.Published) -> Publication:
    return Publication(
        contract.ProgrammePublished,
        contract.ProgrammePublishedPayload(
            programme_id=event.originator_id,
            institution_id=event.institution_id,
            occupation_code=event.occupation_code,
            field=event.field,
            level=event.level,
            title=event.title,
            capacity=event.capacity,
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            required_hours=dict(event.required_hours),
            completion_pass_mark=event.completion_pass_mark,
            subsidised_plan=event.subsidised_plan,
            in_city_training_directory=event.in_city_training_directory,
        ),
    )


def enrolment_closed(event: Programme.EnrolmentClosed) -> Publication:
    return Publication(
        contract.ProgrammeEnrolmentClosed,
        contract.ProgrammeEnrolmentClosedPayload(
            programme_id=event.originator_id, institution_id=event.institution_id
        ),
    )


def trainee_registered(event: Trainee.Registered) -> Publication:
    return Publication(
        contract.TraineeRegistered,
        contract.TraineeRegisteredPayload(  # what a consumer needs: no name, number or phone
            trainee_id=event.originator_id,
            county=event.county,
            employed=event.employer is not None,
            registered_on=event.registered_on,
        ),
    )


def trainee_enrolled(event: Trainee.Enrolled) -> Publication:
    return Publication(
        contract.TraineeEnrolled,
        contract.TraineeEnrolledPayload(
            trainee_id=event.originator_id,
            programme_id=event.programme_id,
            institution_id=event.institution_id,
            occupation_code=event.occupation_code,
            field=event.field,
            level=event.level,
            subsidised_plan=event.subsidised_plan,
            enrolled_on=event.enrolled_on,
        ),
    )


def training_completed(event: Trainee.Completed) -> Publication:
    return Publication(
        contract.TrainingCompleted,
        contract.TrainingCompletedPayload(
            trainee_id=event.originator_id,
            programme_id=event.programme_id,
            institution_id=event.institution_id,
            occupation_code=event.occupation_code,
            field=event.field,
            level=event.level,
            hours_by_kind=dict(event.hours_by_kind),
            hours_by_mode=dict(event.hours_by_mode),
            total_hours=event.total_hours,
            exam_score=event.exam_score,
            training_certificate_number=event.certificate_number,
            subsidised_plan=event.subsidised_plan,
            completed_on=event.completed_on,
        ),
    )


def trainee_withdrawn(event: Trainee.Withdrew) -> Publication:
    return Publication(
        contract.TraineeWithdrawn,
        contract.TraineeWithdrawnPayload(
            trainee_id=event.originator_id,
            programme_id=event.programme_id,
            institution_id=event.institution_id,
            occupation_code=event.occupation_code,
            level=event.level,
            reason=event.reason,
            withdrawn_on=event.withdrawn_on,
        ),
    )


def person_erased(event: Trainee.Erased) -> Publication:
    return Publication(
        contract.PersonErased,
        contract.PersonErasedPayload(
            trainee_id=event.originator_id,
            grounds=event.grounds,
            erased_on=event.erased_on,
        ),
    )


ENROLLMENT_PUBLICATIONS = IntegrationMapper(
    Producer.ENROLLMENT,
    {
        Institution.Accredited: institution_accredited,
        Institution.ScopeChanged: scope_changed,
        Institution.Suspended: suspended,
        Institution.Reinstated: reinstated,
        Programme.Published: programme_published,
        Programme.EnrolmentClosed: enrolment_closed,
        Trainee.Registered: trainee_registered,
        Trainee.Enrolled: trainee_enrolled,
        Trainee.Completed: training_completed,
        Trainee.Withdrew: trainee_withdrawn,
        Trainee.Erased: person_erased,
    },
)
