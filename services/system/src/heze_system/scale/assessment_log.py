"""The assessment service's log: evaluation institutions, candidates, applications and
sessions."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from heze_assessment.domain.application import Application
from heze_assessment.domain.candidate import Candidate
from heze_assessment.domain.conditions import judge
from heze_assessment.domain.evaluation_institution import EvaluationInstitution
from heze_assessment.domain.session import AssessmentSession
from heze_common import clock
from heze_contracts.enums import (
    Field,
    Level,
    Role,
)
from heze_enrollment.domain.occupations import SEED_OCCUPATIONS
from heze_system.demo.cohort import Person
from heze_system.demo.scenario import COMMITMENT
from heze_system.scale.base import (
    DECLARATION,
    EVALUATOR_IDS,
    EVALUATORS,
    FIRST_INTAKE,
    PRACTICE_DAYS,
    THEORY_DAYS,
    LogBuilder,
    Write,
    WriteRequest,
    acting,
    completes,
    passes_assessment,
    rejected_in_review,
    trainee_id,
    training_certificate,
    withdraws,
)


class AssessmentLog(LogBuilder):
    """Candidates (who they are, their training proof), applications under the commitment
    system (a third filed during the training and accepted when the proof arrives, refused for
    those who withdrew), qualification review (one in 53 rejected), a session per cohort, scores
    (one in ten fails), now and then a correction.
    Open: applications accepted and awaiting review; the write confirms their qualification."""

    service = "assessment"
    events_per_person = 10  # candidate 4, application 5, its assignment to the session
    open_events_per_person = 6

    def prepare(self) -> None:
        occupations = {code: occupation_field for code, occupation_field, _ in SEED_OCCUPATIONS}
        with acting(Role.PROVINCIAL_DEPARTMENT, FIRST_INTAKE - timedelta(days=60)):
            self.save(*(EvaluationInstitution.register(name, occupations) for name in EVALUATORS))
        self.book = self.app.rulebook()
        self.sample("evaluation_institution_id", *EVALUATOR_IDS)
        self.sample("occupation_code", *(code for code, _, _ in SEED_OCCUPATIONS))
        self.sample("status", "passed", "awaiting_review", "failed", "refused")

    def candidates(self, people: list[Person], registered: date) -> dict[int, Candidate]:
        candidates = {}
        with acting(None, registered):
            for someone in people:
                candidate = Candidate(trainee_id=trainee_id(someone))
                candidates[someone.number] = candidate
                self.sample("trainee_id", candidate.trainee_id)
        return candidates

    def learn_training(
        self,
        people: list[Person],
        candidates: dict[int, Candidate],
        waiting: dict[int, Application],
        code: str,
        day: date,
    ) -> None:
        """Enrollment's news of each person's training, and what it decides of their
        applications waiting for it."""
        with acting(None, day):
            for someone in people:
                candidate = candidates[someone.number]
                if completes(someone):
                    number = training_certificate(someone, code, day)
                    candidate.record_completion(code, Level.JUNIOR, number, day)
                elif withdraws(someone):
                    candidate.record_withdrawal(code, Level.JUNIOR)
                if someone.number in waiting:
                    waiting[someone.number].decide_on_training(candidate)

    def apply(
        self, candidate: Candidate, evaluator: UUID, code: str, occupation_field: Field, day: date
    ) -> Application:
        whose, since, rules = self.book.rules_for(code, day)
        with acting(Role.TRAINEE, day, subject=str(candidate.trainee_id)):
            application = Application(
                trainee_id=candidate.trainee_id,
                evaluation_institution_id=evaluator,
                occupation_code=code,
                field=occupation_field,
                level=Level.JUNIOR,
                declaration=DECLARATION,
                commitment_text=COMMITMENT,
                commitment_signed_at=clock.now(),
                route=judge(rules, Level.JUNIOR, DECLARATION).route,
                rules=f"{whose}:{rules.name}",
                rules_effective_from=since,
            )
            candidate.file(application.id)
            application.decide_on_training(candidate)
        self.sample("application_id", application.id)
        self.sample("aggregate_id", application.id)
        return application

    def cohort(self, people: list[Person], intake: date) -> None:
        evaluator = EVALUATOR_IDS[self.cohorts % len(EVALUATOR_IDS)]
        _, code, occupation_field, _ = self.offer()
        candidates = self.candidates(people, intake - timedelta(days=14))
        self.save(*candidates.values())
        # Under the commitment system some apply during their training, before the proof.
        early = intake + timedelta(days=THEORY_DAYS + 2)
        applications = {
            someone.number: self.apply(
                candidates[someone.number], evaluator, code, occupation_field, early
            )
            for someone in people
            if withdraws(someone) or (completes(someone) and someone.number % 3 == 0)
        }
        self.save(*candidates.values(), *applications.values())
        completed_on = intake + timedelta(days=THEORY_DAYS + PRACTICE_DAYS + 1)
        self.learn_training(people, candidates, applications, code, completed_on)
        for someone in people:
            if completes(someone) and someone.number not in applications:
                applications[someone.number] = self.apply(
                    candidates[someone.number],
                    evaluator,
                    code,
                    occupation_field,
                    completed_on + timedelta(days=3),
                )
        self.save(*candidates.values(), *applications.values())
        reviewed_on = completed_on + timedelta(days=8)
        confirmed = self.review(people, applications, evaluator, reviewed_on)
        self.assess(confirmed, evaluator, code, reviewed_on + timedelta(days=15))

    def review(
        self,
        people: list[Person],
        applications: dict[int, Application],
        evaluator: UUID,
        day: date,
    ) -> list[tuple[Person, Application]]:
        confirmed = []
        with acting(Role.EVALUATION_INSTITUTION, day, evaluator):
            for someone in people:
                if not completes(someone):
                    continue
                application = applications[someone.number]
                if rejected_in_review(someone):
                    application.reject_qualification("所填工作年限与社保缴费记录不符")
                else:
                    application.confirm_qualification()
                    confirmed.append((someone, application))
        return confirmed

    def assess(
        self,
        confirmed: list[tuple[Person, Application]],
        evaluator: UUID,
        code: str,
        held_on: date,
    ) -> None:
        with acting(Role.EVALUATION_INSTITUTION, held_on - timedelta(days=10), evaluator):
            session = AssessmentSession(
                evaluation_institution_id=evaluator,
                occupation_code=code,
                level=Level.JUNIOR,
                held_on=held_on,
                place="菏泽学院 综合实训中心",
            )
            for _, application in confirmed:
                session.assign(application)
        self.sample("session_id", session.id)
        with acting(Role.EVALUATION_INSTITUTION, held_on, evaluator):
            for someone, application in confirmed:
                theory = self.rng.randint(62, 96) if passes_assessment(someone) else 55
                application.record_scores(
                    session.id, Decimal(theory), Decimal(self.rng.randint(60, 95))
                )
        with acting(Role.EVALUATION_INSTITUTION, held_on + timedelta(days=5), evaluator):
            for someone, application in confirmed:
                if someone.number % 97 == 11 and passes_assessment(someone):
                    theory, practical = application.scores
                    application.correct_scores(
                        session.id,
                        min(theory + 1, Decimal(100)),
                        practical,
                        "复核后更正理论成绩",
                    )
        self.save(session, *(application for _, application in confirmed))

    def open_cohort(self, people: list[Person], today: date) -> None:
        evaluator = EVALUATOR_IDS[0]
        _, code, occupation_field, _ = self.offer()
        candidates = self.candidates(people, today - timedelta(days=40))
        self.learn_training(people, candidates, {}, code, today - timedelta(days=5))
        self.save(*candidates.values())
        applications = [
            self.apply(
                candidates[someone.number],
                evaluator,
                code,
                occupation_field,
                today - timedelta(days=2),
            )
            for someone in people
            if completes(someone)
        ]
        self.save(*candidates.values(), *applications)
        self.write = Write(
            "POST",
            "/applications/{application_id}/qualification",
            Role.EVALUATION_INSTITUTION,
            [
                WriteRequest({"application_id": str(application.id)}, evaluator, {"confirm": True})
                for application in applications
            ],
        )
