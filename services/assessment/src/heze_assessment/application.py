"""Commands and queries of the assessment service, on its event store."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from heze_assessment.domain.application import Application
from heze_assessment.domain.candidate import Candidate
from heze_assessment.domain.conditions import Declaration, RuleSet, judge
from heze_assessment.domain.evaluation_institution import EvaluationInstitution
from heze_assessment.domain.rulebook import RULEBOOK_ID, RuleBook
from heze_assessment.domain.session import AssessmentSession
from heze_common import clock
from heze_common.errors import Refusal
from heze_common.events import Aggregate
from heze_common.eventstore import ServiceApplication
from heze_contracts import enrollment as upstream
from heze_contracts.enums import Field, Level


class AssessmentApplication(ServiceApplication):
    def seed(self) -> None:
        if not self.exists(RULEBOOK_ID):
            self.save(RuleBook.with_default())

    # Upstream facts (consumers)

    def candidate(self, trainee_id: UUID) -> Candidate:
        candidate_id = Candidate.create_id(trainee_id)
        if self.exists(candidate_id):
            return self.get(Candidate, candidate_id, "candidate")
        return Candidate(trainee_id=trainee_id)

    def on_trainee_registered(self, event: upstream.TraineeRegistered) -> Iterable[Aggregate]:
        person = event.payload
        candidate = self.candidate(person.trainee_id)
        candidate.learn_holder(person.name, person.id_number, person.sex, person.birth_date)
        return [candidate]

    def on_training_completed(self, event: upstream.TrainingCompleted) -> Iterable[Aggregate]:
        training = event.payload
        candidate = self.candidate(training.trainee_id)
        candidate.record_completion(
            training.occupation_code,
            training.level,
            training.training_certificate_number,
            training.completed_on,
        )
        return [candidate, *self._decide_waiting(candidate)]

    def on_trainee_withdrawn(self, event: upstream.TraineeWithdrawn) -> Iterable[Aggregate]:
        withdrawal = event.payload
        candidate = self.candidate(withdrawal.trainee_id)
        candidate.record_withdrawal(withdrawal.occupation_code, withdrawal.level)
        return [candidate, *self._decide_waiting(candidate)]

    def _decide_waiting(self, candidate: Candidate) -> list[Application]:
        decided = []
        for application_id in candidate.application_ids:
            application = self.get(Application, application_id, "application")
            application.decide_on_training(candidate)
            decided.append(application)
        return decided

    def trail_streams(self, trainee_id: UUID) -> list[UUID]:
        candidate = self.candidate(trainee_id)
        return [candidate.id, *candidate.application_ids] if self.exists(candidate.id) else []

    def upstream_handlers(self) -> dict[type, Any]:
        return {
            upstream.TraineeRegistered: self.on_trainee_registered,
            upstream.TrainingCompleted: self.on_training_completed,
            upstream.TraineeWithdrawn: self.on_trainee_withdrawn,
        }

    # Evaluation institutions and rules

    def register_evaluation_institution(self, name: str, occupations: dict[str, Field]) -> UUID:
        existing = EvaluationInstitution.create_id(name)
        if self.exists(existing):
            raise Refusal(
                "already_registered", f"{name} is already registered", institution_id=str(existing)
            )
        institution = EvaluationInstitution.register(name, occupations)
        self.save(institution)
        return institution.id

    def evaluation_institution(self, institution_id: UUID) -> EvaluationInstitution:
        return self.get(EvaluationInstitution, institution_id, "evaluation institution")

    def suspend_evaluation_institution(self, institution_id: UUID, reason: str) -> None:
        institution = self.evaluation_institution(institution_id)
        institution.suspend(reason)
        self.save(institution)

    def reinstate_evaluation_institution(self, institution_id: UUID) -> None:
        institution = self.evaluation_institution(institution_id)
        institution.reinstate()
        self.save(institution)

    def rulebook(self) -> RuleBook:
        return self.get(RuleBook, RULEBOOK_ID, "rulebook")

    def set_rules(self, occupation_code: str, rules: RuleSet, effective_from: date) -> None:
        book = self.rulebook()
        book.set_rules(occupation_code, rules, effective_from)
        self.save(book)

    # Applications

    def apply(
        self,
        *,
        trainee_id: UUID,
        evaluation_institution_id: UUID,
        occupation_code: str,
        level: Level,
        declaration: Declaration,
        commitment_text: str,
    ) -> Application:
        institution = self.evaluation_institution(evaluation_institution_id)
        field = institution.ensure_may_assess(occupation_code)
        candidate = self.candidate(trainee_id)
        for application_id in candidate.application_ids:
            other = self.get(Application, application_id, "application")
            if other.is_open and (other.occupation_code, other.level) == (occupation_code, level):
                raise Refusal(
                    "already_applied",
                    f"an application for {occupation_code} at this level is already open",
                    application_id=str(other.id),
                )
        today = clock.today()
        whose, since, rules = self.rulebook().rules_for(occupation_code, today)
        verdict = judge(rules, level, declaration)
        if verdict.route is None:
            raise Refusal(
                "conditions_not_met",
                f"the declaration meets no route of the {level.value} level ({rules.name})",
                field="declaration",
                unmet=verdict.unmet,
            )
        if candidate.has_withdrawn_without_completing(occupation_code, level):
            raise Refusal(
                "trainee_withdrawn",
                "the trainee withdrew from this training and has not completed it",
            )
        application = Application(
            trainee_id=trainee_id,
            evaluation_institution_id=evaluation_institution_id,
            occupation_code=occupation_code,
            field=field,
            level=level,
            declaration=declaration,
            commitment_text=commitment_text,
            commitment_signed_at=clock.now(),
            route=verdict.route,
            rules=f"{whose}:{rules.name}",
            rules_effective_from=since,
        )
        candidate.file(application.id)
        application.decide_on_training(candidate)
        self.save(candidate, application)
        return application

    def application(self, application_id: UUID) -> Application:
        return self.get(Application, application_id, "application")

    def confirm_qualification(self, application_id: UUID) -> None:
        application = self.application(application_id)
        application.confirm_qualification()
        self.save(application)

    def reject_qualification(self, application_id: UUID, reason: str) -> None:
        application = self.application(application_id)
        application.reject_qualification(reason)
        self.save(application)

    def void_result(self, application_id: UUID, reason: str) -> None:
        application = self.application(application_id)
        application.void_result(reason)
        self.save(application)

    # Sessions

    def schedule_session(
        self,
        evaluation_institution_id: UUID,
        occupation_code: str,
        level: Level,
        held_on: date,
        place: str,
    ) -> UUID:
        self.evaluation_institution(evaluation_institution_id).ensure_may_assess(occupation_code)
        session = AssessmentSession(
            evaluation_institution_id=evaluation_institution_id,
            occupation_code=occupation_code,
            level=level,
            held_on=held_on,
            place=place,
        )
        self.save(session)
        return session.id

    def session(self, session_id: UUID) -> AssessmentSession:
        return self.get(AssessmentSession, session_id, "session")

    def assign(self, session_id: UUID, application_ids: list[UUID]) -> None:
        session = self.session(session_id)
        applications = [self.application(application_id) for application_id in application_ids]
        for application in applications:
            session.assign(application)
        self.save(session, *applications)

    def record_scores(
        self, session_id: UUID, application_id: UUID, theory: Decimal, practical: Decimal
    ) -> None:
        application = self.application(application_id)
        holder = self.candidate(application.trainee_id).holder
        application.record_scores(session_id, theory, practical, holder)
        self.save(application)

    def correct_scores(
        self,
        session_id: UUID,
        application_id: UUID,
        theory: Decimal,
        practical: Decimal,
        reason: str,
    ) -> None:
        application = self.application(application_id)
        holder = self.candidate(application.trainee_id).holder
        application.correct_scores(session_id, theory, practical, reason, holder)
        self.save(application)
