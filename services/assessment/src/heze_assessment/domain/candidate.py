"""What the assessment service learnt from enrollment about one trainee: who they are (for the
certificate), which training they completed (the hours proof), and what they withdrew from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_common.errors import Refusal
from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import Level, Sex

NAMESPACE = UUID("2e3f4a5b-6c7d-5e8f-9a0b-1c2d3e4f5a6b")


@dataclass(frozen=True)
class Holder:
    name: str
    id_number: str
    sex: Sex
    birth_date: date


@dataclass(frozen=True)
class TrainingProof:
    training_certificate_number: str
    completed_on: date


class Candidate(Aggregate):
    TOPIC = "assessment.Candidate"

    class Opened(AggregateCreated):
        TOPIC = "assessment.Candidate.Opened.v1"
        trainee_id: UUID

    class HolderLearnt(Aggregate.Event):
        """Who the trainee is, as version 1 of `TraineeRegistered` told; no longer learnt (the
        pass names the trainee by id only), kept to read the history."""

        TOPIC = "assessment.Candidate.HolderLearnt.v1"
        name: str
        id_number: str
        sex: Sex
        birth_date: date

        def apply(self, candidate: Candidate) -> None:
            candidate.holder = Holder(self.name, self.id_number, self.sex, self.birth_date)

    class TrainingCompleted(Aggregate.Event):
        TOPIC = "assessment.Candidate.TrainingCompleted.v1"
        occupation_code: str
        level: Level
        training_certificate_number: str
        completed_on: date

        def apply(self, candidate: Candidate) -> None:
            candidate.proofs[(self.occupation_code, self.level)] = TrainingProof(
                self.training_certificate_number, self.completed_on
            )

    class TrainingWithdrawn(Aggregate.Event):
        TOPIC = "assessment.Candidate.TrainingWithdrawn.v1"
        occupation_code: str
        level: Level

        def apply(self, candidate: Candidate) -> None:
            candidate.withdrawn.add((self.occupation_code, self.level))

    class ApplicationFiled(Aggregate.Event):
        TOPIC = "assessment.Candidate.ApplicationFiled.v1"
        application_id: UUID

        def apply(self, candidate: Candidate) -> None:
            candidate.application_ids.append(self.application_id)

    @staticmethod
    def create_id(trainee_id: UUID) -> UUID:
        return uuid5(NAMESPACE, str(trainee_id))

    class Barred(Aggregate.Event):
        """The commitment of an application was found false: no new application for the
        occupation before `until`."""

        TOPIC = "assessment.Candidate.Barred.v1"
        occupation_code: str
        until: date
        application_id: UUID
        reason: str

        def apply(self, candidate: Candidate) -> None:
            candidate.barred_until[self.occupation_code] = max(
                self.until, candidate.barred_until.get(self.occupation_code, self.until)
            )

    @event(Opened)
    def __init__(self, trainee_id: UUID) -> None:
        self.trainee_id = trainee_id
        self.holder: Holder | None = None
        self.proofs: dict[tuple[str, Level], TrainingProof] = {}
        self.withdrawn: set[tuple[str, Level]] = set()
        self.application_ids: list[UUID] = []
        self.barred_until: dict[str, date] = {}

    def bar(self, occupation_code: str, until: date, application_id: UUID, reason: str) -> None:
        self.trigger_event(
            self.Barred,
            occupation_code=occupation_code,
            until=until,
            application_id=application_id,
            reason=reason,
        )

    def ensure_not_barred(self, occupation_code: str, today: date) -> None:
        until = self.barred_until.get(occupation_code)
        if until is not None and today < until:
            raise Refusal(
                "barred_from_applying",
                f"a commitment was found false: no application for {occupation_code}"
                f" before {until}",
                until=until.isoformat(),
            )

    def record_completion(
        self, occupation_code: str, level: Level, certificate_number: str, completed_on: date
    ) -> None:
        if (occupation_code, level) not in self.proofs:
            self.trigger_event(
                self.TrainingCompleted,
                occupation_code=occupation_code,
                level=level,
                training_certificate_number=certificate_number,
                completed_on=completed_on,
            )

    def record_withdrawal(self, occupation_code: str, level: Level) -> None:
        if (occupation_code, level) not in self.withdrawn:
            self.trigger_event(self.TrainingWithdrawn, occupation_code=occupation_code, level=level)

    def file(self, application_id: UUID) -> None:
        self.trigger_event(self.ApplicationFiled, application_id=application_id)

    def proof(self, occupation_code: str, level: Level) -> TrainingProof | None:
        return self.proofs.get((occupation_code, level))

    def has_withdrawn_without_completing(self, occupation_code: str, level: Level) -> bool:
        key = (occupation_code, level)
        return key in self.withdrawn and key not in self.proofs
