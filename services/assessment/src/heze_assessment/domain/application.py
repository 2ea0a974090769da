"""An application for level assessment under the notification-commitment system (告知承诺制):
checked at once against the conditions; waits for the training-hours proof when it has not
arrived yet; reviewed by the evaluation institution; assessed; its result can be voided."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event
from pydantic import BaseModel, ConfigDict

from heze_assessment.domain.candidate import Candidate, Holder
from heze_assessment.domain.conditions import Declaration
from heze_common.errors import InvalidInput, Refusal
from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import Field, Level

PASS_MARK = Decimal(60)


class Status(StrEnum):
    AWAITING_TRAINING = "awaiting_training"
    """Conditions met; the training-hours proof (TrainingCompleted) has not arrived yet."""
    AWAITING_REVIEW = "awaiting_review"
    REFUSED = "refused"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    ASSIGNED = "assigned"
    PASSED = "passed"
    FAILED = "failed"


class ApplicationSubject(BaseModel):
    """The facts every published event of an application repeats, so the relay can translate
    each event on its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trainee_id: UUID
    evaluation_institution_id: UUID
    occupation_code: str
    field: Field
    level: Level


class Application(Aggregate):
    TOPIC = "assessment.Application"

    class Filed(AggregateCreated):
        TOPIC = "assessment.Application.Filed.v1"
        trainee_id: UUID
        evaluation_institution_id: UUID
        occupation_code: str
        field: Field
        level: Level
        declaration: Declaration
        commitment_text: str
        commitment_signed_at: datetime
        route: str
        rules: str
        rules_effective_from: date

    class Accepted(Aggregate.Event):
        """The training-hours proof is there: the application goes to qualification review."""

        TOPIC = "assessment.Application.Accepted.v1"
        subject: ApplicationSubject
        training_certificate_number: str
        commitment_text: str
        commitment_signed_at: datetime
        applied_at: datetime

        def apply(self, application: Application) -> None:
            application.status = Status.AWAITING_REVIEW
            application.training_certificate_number = self.training_certificate_number

    class Refused(Aggregate.Event):
        TOPIC = "assessment.Application.Refused.v1"
        subject: ApplicationSubject
        reason_code: str
        reason: str

        def apply(self, application: Application) -> None:
            application.status = Status.REFUSED
            application.reason = self.reason

    class QualificationConfirmed(Aggregate.Event):
        TOPIC = "assessment.Application.QualificationConfirmed.v1"
        subject: ApplicationSubject
        route: str

        def apply(self, application: Application) -> None:
            application.status = Status.CONFIRMED

    class QualificationRejected(Aggregate.Event):
        TOPIC = "assessment.Application.QualificationRejected.v1"
        subject: ApplicationSubject
        reason: str

        def apply(self, application: Application) -> None:
            application.status = Status.REJECTED
            application.reason = self.reason

    class Assigned(Aggregate.Event):
        TOPIC = "assessment.Application.Assigned.v1"
        session_id: UUID
        assessed_on: date

        def apply(self, application: Application) -> None:
            application.status = Status.ASSIGNED
            application.session_id = self.session_id
            application.assessed_on = self.assessed_on

    class Scored(Aggregate.Event):
        TOPIC = "assessment.Application.Scored.v1"
        subject: ApplicationSubject
        session_id: UUID
        assessed_on: date
        theory_score: Decimal
        practical_score: Decimal
        passed: bool
        holder: Holder | None = None
        """The holder as version 1 of `TraineeRegistered` told assessment (history only)."""

        def apply(self, application: Application) -> None:
            application.scores = (self.theory_score, self.practical_score)
            application.status = Status.PASSED if self.passed else Status.FAILED

    class ScoreCorrected(Aggregate.Event):
        TOPIC = "assessment.Application.ScoreCorrected.v1"
        subject: ApplicationSubject
        session_id: UUID
        assessed_on: date
        theory_score: Decimal
        practical_score: Decimal
        passed: bool
        was_passed: bool
        reason: str
        holder: Holder | None = None
        """As in `Scored` (history only)."""

        def apply(self, application: Application) -> None:
            application.scores = (self.theory_score, self.practical_score)
            application.status = Status.PASSED if self.passed else Status.FAILED

    class ResultVoided(Aggregate.Event):
        TOPIC = "assessment.Application.ResultVoided.v1"
        subject: ApplicationSubject
        reason: str

        def apply(self, application: Application) -> None:
            application.voided = True
            application.reason = self.reason

    @event(Filed)
    def __init__(
        self,
        trainee_id: UUID,
        evaluation_institution_id: UUID,
        occupation_code: str,
        field: Field,
        level: Level,
        declaration: Declaration,
        commitment_text: str,
        commitment_signed_at: datetime,
        route: str,
        rules: str,
        rules_effective_from: date,
    ) -> None:
        self.trainee_id = trainee_id
        self.evaluation_institution_id = evaluation_institution_id
        self.occupation_code = occupation_code
        self.field = field
        self.level = level
        self.declaration = declaration
        self.commitment_text = commitment_text
        self.commitment_signed_at = commitment_signed_at
        self.route = route
        self.status = Status.AWAITING_TRAINING
        self.training_certificate_number: str | None = None
        self.reason: str | None = None
        self.session_id: UUID | None = None
        self.assessed_on: date | None = None
        self.scores: tuple[Decimal, Decimal] | None = None
        self.voided = False

    @property
    def subject(self) -> ApplicationSubject:
        return ApplicationSubject(
            trainee_id=self.trainee_id,
            evaluation_institution_id=self.evaluation_institution_id,
            occupation_code=self.occupation_code,
            field=self.field,
            level=self.level,
        )

    @property
    def is_open(self) -> bool:
        """Still on its way (not refused, rejected, failed or voided)."""
        return not self.voided and self.status not in (
            Status.REFUSED,
            Status.REJECTED,
            Status.FAILED,
        )

    def decide_on_training(self, candidate: Candidate) -> None:
        """Accept when the hours proof is there, refuse when the trainee withdrew, else wait."""
        if self.status is not Status.AWAITING_TRAINING:
            return
        proof = candidate.proof(self.occupation_code, self.level)
        if proof is not None:
            self.trigger_event(
                self.Accepted,
                subject=self.subject,
                training_certificate_number=proof.training_certificate_number,
                commitment_text=self.commitment_text,
                commitment_signed_at=self.commitment_signed_at,
                applied_at=self.created_on,
            )
        elif candidate.has_withdrawn_without_completing(self.occupation_code, self.level):
            self.trigger_event(
                self.Refused,
                subject=self.subject,
                reason_code="trainee_withdrawn",
                reason="the trainee withdrew from the training of this occupation and level",
            )

    def confirm_qualification(self) -> None:
        self._expect(Status.AWAITING_REVIEW, "qualification review")
        self.trigger_event(self.QualificationConfirmed, subject=self.subject, route=self.route)

    def reject_qualification(self, reason: str) -> None:
        self._expect(Status.AWAITING_REVIEW, "qualification review")
        self.trigger_event(self.QualificationRejected, subject=self.subject, reason=reason)

    def assign(self, session_id: UUID, assessed_on: date) -> None:
        self._expect(Status.CONFIRMED, "assignment to a session")
        self.trigger_event(self.Assigned, session_id=session_id, assessed_on=assessed_on)

    def record_scores(self, session_id: UUID, theory: Decimal, practical: Decimal) -> None:
        self._ensure_in_session(session_id)
        if self.status is not Status.ASSIGNED:
            raise Refusal(
                "already_scored", "scores are recorded once; send a correction with a reason"
            )
        _check_score(theory, "theory_score")
        _check_score(practical, "practical_score")
        self.trigger_event(
            self.Scored,
            subject=self.subject,
            session_id=session_id,
            assessed_on=self.assessed_on,
            theory_score=theory,
            practical_score=practical,
            passed=_passes(theory, practical),
        )

    def correct_scores(
        self,
        session_id: UUID,
        theory: Decimal,
        practical: Decimal,
        reason: str,
    ) -> None:
        """A correction is its own event; one that turns a pass into a fail voids the pass first."""
        self._ensure_in_session(session_id)
        if self.scores is None:
            raise Refusal("not_scored", "there are no scores to correct yet")
        if self.voided:
            raise Refusal("result_voided", "the result has been voided")
        _check_score(theory, "theory_score")
        _check_score(practical, "practical_score")
        was_passed, passes = self.status is Status.PASSED, _passes(theory, practical)
        if was_passed and not passes:
            self.trigger_event(
                self.ResultVoided, subject=self.subject, reason=f"score corrected: {reason}"
            )
        self.trigger_event(
            self.ScoreCorrected,
            subject=self.subject,
            session_id=session_id,
            assessed_on=self.assessed_on,
            theory_score=theory,
            practical_score=practical,
            passed=passes,
            was_passed=was_passed,
            reason=reason,
        )

    def void_result(self, reason: str) -> None:
        if self.voided:
            raise Refusal("already_voided", "the result is already voided")
        if self.status is Status.REFUSED:
            raise Refusal("nothing_to_void", "a refused application has no result to void")
        self.trigger_event(self.ResultVoided, subject=self.subject, reason=reason)

    def _ensure_in_session(self, session_id: UUID) -> None:
        if self.session_id != session_id:
            raise Refusal(
                "not_assigned",
                "the applicant is not assigned to this session",
                field="application_id",
            )

    def _expect(self, status: Status, step: str) -> None:
        if self.voided or self.status is not status:
            raise Refusal(
                "wrong_stage",
                f"{step} needs an application that is {status.value}, this one is {self.status.value}",
            )


def _check_score(score: Decimal, field: str) -> None:
    if not Decimal(0) <= score <= Decimal(100) or score != score.quantize(Decimal("0.1")):
        raise InvalidInput(
            "invalid_score", "a score is 0 to 100 with at most one decimal place", field=field
        )


def _passes(theory: Decimal, practical: Decimal) -> bool:
    return theory >= PASS_MARK and practical >= PASS_MARK
