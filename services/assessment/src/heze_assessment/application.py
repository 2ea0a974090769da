"""The assessment service's command handlers and queries, on its event store."""

from __future__ import annotations

import calendar
from datetime import date
from uuid import UUID

from heze_assessment.access import ensure_may_access
from heze_assessment.commands import (
    Apply,
    AssignApplicants,
    ConfirmQualification,
    CorrectScores,
    RecordScores,
    RegisterEvaluationInstitution,
    ReinstateEvaluationInstitution,
    RejectQualification,
    ScheduleSession,
    SetRules,
    SuspendEvaluationInstitution,
    VoidResult,
)
from heze_assessment.domain.application import Application
from heze_assessment.domain.candidate import Candidate
from heze_assessment.domain.conditions import judge
from heze_assessment.domain.evaluation_institution import EvaluationInstitution
from heze_assessment.domain.rulebook import RULEBOOK_ID, RuleBook
from heze_assessment.domain.session import AssessmentSession
from heze_common import clock
from heze_common.auth import Principal
from heze_common.commands import Decision, handles
from heze_common.errors import InvalidInput, Refusal
from heze_common.eventstore import ServiceApplication


def months_after(day: date, months: int) -> date:
    """The same day `months` later (the month's last day where it has no such day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class AssessmentApplication(ServiceApplication):
    def seed(self) -> None:
        if not self.exists(RULEBOOK_ID):
            self.save(RuleBook.with_default())

    # What enrollment told of a trainee (kept by `heze_assessment.consumers`)

    def candidate(self, trainee_id: UUID) -> Candidate:
        candidate_id = Candidate.create_id(trainee_id)
        if self.exists(candidate_id):
            return self.get(Candidate, candidate_id, "candidate")
        return Candidate(trainee_id=trainee_id)

    def trail_streams(self, trainee_id: UUID) -> list[UUID]:
        candidate = self.candidate(trainee_id)
        return [candidate.id, *candidate.application_ids] if self.exists(candidate.id) else []

    # Evaluation institutions and rules

    @handles
    def register_evaluation_institution(
        self, command: RegisterEvaluationInstitution
    ) -> Decision[UUID]:
        existing = EvaluationInstitution.create_id(command.name)
        if self.exists(existing):
            raise Refusal(
                "already_registered",
                f"{command.name} is already registered",
                institution_id=str(existing),
            )
        institution = EvaluationInstitution.register(command.name, command.occupations)
        return Decision(institution.id, institution)

    def evaluation_institution(self, institution_id: UUID) -> EvaluationInstitution:
        return self.get(EvaluationInstitution, institution_id, "evaluation institution")

    @handles
    def suspend_evaluation_institution(
        self, command: SuspendEvaluationInstitution
    ) -> Decision[EvaluationInstitution]:
        institution = self.evaluation_institution(command.institution_id)
        institution.suspend(command.reason)
        return Decision(institution, institution)

    @handles
    def reinstate_evaluation_institution(
        self, command: ReinstateEvaluationInstitution
    ) -> Decision[EvaluationInstitution]:
        institution = self.evaluation_institution(command.institution_id)
        institution.reinstate()
        return Decision(institution, institution)

    def rulebook(self) -> RuleBook:
        return self.get(RuleBook, RULEBOOK_ID, "rulebook")

    @handles
    def set_rules(self, command: SetRules) -> Decision[None]:
        book = self.rulebook()
        book.set_rules(command.occupation_code, command.rules, command.effective_from)
        return Decision(None, book)

    # Applications

    @handles
    def apply(self, command: Apply) -> Decision[Application]:
        """A trainee applies for themself, with the commitment signed."""
        if not command.commitment_signed:
            raise InvalidInput(
                "commitment_not_signed", "the commitment must be signed", field="commitment_signed"
            )
        trainee_id = command.principal.own_trainee_id()
        occupation_code, level = command.occupation_code, command.level
        institution = self.evaluation_institution(command.evaluation_institution_id)
        field = institution.ensure_may_assess(occupation_code)
        candidate = self.candidate(trainee_id)
        for application_id in candidate.application_ids:
            other = self.application(application_id)
            if other.is_open and (other.occupation_code, other.level) == (occupation_code, level):
                raise Refusal(
                    "already_applied",
                    f"an application for {occupation_code} at this level is already open",
                    application_id=str(other.id),
                )
        today = clock.today()
        whose, since, rules = self.rulebook().rules_for(occupation_code, today)
        verdict = judge(rules, level, command.declaration)
        if verdict.route is None:
            raise Refusal(
                "conditions_not_met",
                f"the declaration meets no route of the {level.value} level ({rules.name})",
                field="declaration",
                unmet=verdict.unmet,
            )
        candidate.ensure_not_barred(occupation_code, today)
        if candidate.has_withdrawn_without_completing(occupation_code, level):
            raise Refusal(
                "trainee_withdrawn",
                "the trainee withdrew from this training and has not completed it",
            )
        application = Application(
            trainee_id=trainee_id,
            evaluation_institution_id=command.evaluation_institution_id,
            occupation_code=occupation_code,
            field=field,
            level=level,
            declaration=command.declaration,
            commitment_text=command.commitment_text,
            commitment_signed_at=clock.now(),
            route=verdict.route,
            rules=f"{whose}:{rules.name}",
            rules_effective_from=since,
        )
        candidate.file(application.id)
        application.decide_on_training(candidate)
        return Decision(application, candidate, application)

    def application(self, application_id: UUID) -> Application:
        return self.get(Application, application_id, "application")

    def own_application(self, principal: Principal, application_id: UUID) -> Application:
        """The application, unless the principal is another trainee or evaluation institution."""
        application = self.application(application_id)
        ensure_may_access(principal, application)
        return application

    @handles
    def confirm_qualification(self, command: ConfirmQualification) -> Decision[Application]:
        application = self.own_application(command.principal, command.application_id)
        application.confirm_qualification()
        return Decision(application, application)

    @handles
    def reject_qualification(self, command: RejectQualification) -> Decision[Application]:
        application = self.own_application(command.principal, command.application_id)
        if not command.reason:
            raise InvalidInput("reason_required", "a rejection needs a reason", field="reason")
        application.reject_qualification(command.reason)
        return Decision(application, application)

    @handles
    def void_result(self, command: VoidResult) -> Decision[Application]:
        """Void a result; one voided for a false commitment also bars the applicant from the
        occupation for the months of the rules in force (告知承诺制)."""
        application = self.own_application(command.principal, command.application_id)
        application.void_result(command.reason)
        if not command.false_commitment:
            return Decision(application, application)
        today = clock.today()
        _, _, rules = self.rulebook().rules_for(application.occupation_code, today)
        candidate = self.candidate(application.trainee_id)
        until = months_after(today, rules.false_commitment_bar_months)
        candidate.bar(application.occupation_code, until, application.id, command.reason)
        return Decision(application, application, candidate)

    # Sessions

    @handles
    def schedule_session(self, command: ScheduleSession) -> Decision[AssessmentSession]:
        institution_id = command.principal.organisation_id
        self.evaluation_institution(institution_id).ensure_may_assess(command.occupation_code)
        session = AssessmentSession(
            evaluation_institution_id=institution_id,
            occupation_code=command.occupation_code,
            level=command.level,
            held_on=command.held_on,
            place=command.place,
        )
        return Decision(session, session)

    def session(self, session_id: UUID) -> AssessmentSession:
        return self.get(AssessmentSession, session_id, "session")

    def own_session(self, principal: Principal, session_id: UUID) -> AssessmentSession:
        """The session, unless the principal is another evaluation institution."""
        session = self.session(session_id)
        principal.ensure_acts_for(session.evaluation_institution_id)
        return session

    @handles
    def assign(self, command: AssignApplicants) -> Decision[AssessmentSession]:
        session = self.own_session(command.principal, command.session_id)
        applications = [
            self.application(application_id) for application_id in command.application_ids
        ]
        for application in applications:
            session.assign(application)
        return Decision(session, session, *applications)

    @handles
    def record_scores(self, command: RecordScores) -> Decision[Application]:
        self.own_session(command.principal, command.session_id)
        application = self.application(command.application_id)
        application.record_scores(command.session_id, command.theory_score, command.practical_score)
        return Decision(application, application)

    @handles
    def correct_scores(self, command: CorrectScores) -> Decision[Application]:
        self.own_session(command.principal, command.session_id)
        application = self.application(command.application_id)
        application.correct_scores(
            command.session_id, command.theory_score, command.practical_score, command.reason
        )
        return Decision(application, application)
