"""Assessment sessions: an occupation and level, a date and place, the applicants assigned."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from heze_assessment.domain.application import Application
from heze_common.errors import Refusal
from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import Level


class AssessmentSession(Aggregate):
    TOPIC = "assessment.AssessmentSession"

    class Scheduled(AggregateCreated):
        TOPIC = "assessment.AssessmentSession.Scheduled.v1"
        evaluation_institution_id: UUID
        occupation_code: str
        level: Level
        held_on: date
        place: str

    class ApplicantAssigned(Aggregate.Event):
        TOPIC = "assessment.AssessmentSession.ApplicantAssigned.v1"
        application_id: UUID

        def apply(self, session: AssessmentSession) -> None:
            session.application_ids.append(self.application_id)

    @event(Scheduled)
    def __init__(
        self,
        evaluation_institution_id: UUID,
        occupation_code: str,
        level: Level,
        held_on: date,
        place: str,
    ) -> None:
        self.evaluation_institution_id = evaluation_institution_id
        self.occupation_code = occupation_code
        self.level = level
        self.held_on = held_on
        self.place = place
        self.application_ids: list[UUID] = []

    def assign(self, application: Application) -> None:
        if application.evaluation_institution_id != self.evaluation_institution_id:
            raise Refusal(
                "other_institution", "the application was made to another evaluation institution"
            )
        if (application.occupation_code, application.level) != (self.occupation_code, self.level):
            raise Refusal(
                "wrong_session",
                "the session is for another occupation or level",
                field="application_ids",
            )
        application.assign(self.id, self.held_on)
        self.trigger_event(self.ApplicantAssigned, application_id=application.id)
