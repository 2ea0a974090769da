"""What the subsidy service knows about one trainee, from whichever upstream event arrived:
enrolments (and whether the programme is in the subsidised-training plan), completions, level
certificates, and the subsidies already approved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import Level

NAMESPACE = UUID("0c1d2e3f-4a5b-5c6d-9e7f-8a9b0c1d2e3f")


@dataclass(frozen=True)
class Enrolment:
    programme_id: UUID
    institution_id: UUID
    occupation_code: str
    level: Level
    subsidised_plan: bool


@dataclass(frozen=True)
class LevelCertificate:
    occupation_code: str
    level: Level
    issued_at: datetime


@dataclass(frozen=True)
class Approval:
    claim_id: UUID
    occupation_code: str
    level: Level
    decided_on: date


class Beneficiary(Aggregate):
    TOPIC = "subsidy.Beneficiary"

    class Opened(AggregateCreated):
        TOPIC = "subsidy.Beneficiary.Opened.v1"
        trainee_id: UUID

    class EnrolmentLearnt(Aggregate.Event):
        TOPIC = "subsidy.Beneficiary.EnrolmentLearnt.v1"
        programme_id: UUID
        institution_id: UUID
        occupation_code: str
        level: Level
        subsidised_plan: bool

        def apply(self, beneficiary: Beneficiary) -> None:
            beneficiary.enrolments[self.programme_id] = Enrolment(
                self.programme_id,
                self.institution_id,
                self.occupation_code,
                self.level,
                self.subsidised_plan,
            )

    class CompletionLearnt(Aggregate.Event):
        TOPIC = "subsidy.Beneficiary.CompletionLearnt.v1"
        programme_id: UUID
        occupation_code: str
        level: Level
        training_certificate_number: str

        def apply(self, beneficiary: Beneficiary) -> None:
            beneficiary.completions[self.programme_id] = self.training_certificate_number

    class LevelCertificateLearnt(Aggregate.Event):
        TOPIC = "subsidy.Beneficiary.LevelCertificateLearnt.v1"
        class_version = 2
        certificate_number: str
        occupation_code: str
        level: Level
        issued_at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["issued_at"] = state["timestamp"]  # before v2 only the learning time was kept

        def apply(self, beneficiary: Beneficiary) -> None:
            beneficiary.level_certificates[self.certificate_number] = LevelCertificate(
                self.occupation_code, self.level, self.issued_at
            )

    class LevelCertificateRevoked(Aggregate.Event):
        TOPIC = "subsidy.Beneficiary.LevelCertificateRevoked.v1"
        class_version = 3
        certificate_number: str
        revoked_at: datetime
        reason: str

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["revoked_at"] = state["timestamp"]

        @staticmethod
        def upcast_v2_v3(state: dict) -> None:
            state["reason"] = ""  # not kept before revocations cancelled claims

        def apply(self, beneficiary: Beneficiary) -> None:
            beneficiary.revoked[self.certificate_number] = self.revoked_at
            beneficiary.revocation_reasons[self.certificate_number] = self.reason

    class ClaimFiled(Aggregate.Event):
        TOPIC = "subsidy.Beneficiary.ClaimFiled.v1"
        claim_id: UUID

        def apply(self, beneficiary: Beneficiary) -> None:
            beneficiary.claim_ids.append(self.claim_id)

    class SubsidyGranted(Aggregate.Event):
        TOPIC = "subsidy.Beneficiary.SubsidyGranted.v1"
        claim_id: UUID
        occupation_code: str
        level: Level
        decided_on: date

        def apply(self, beneficiary: Beneficiary) -> None:
            beneficiary.approvals.append(
                Approval(self.claim_id, self.occupation_code, self.level, self.decided_on)
            )

    @staticmethod
    def id_for(trainee_id: UUID) -> UUID:
        return uuid5(NAMESPACE, str(trainee_id))

    @event(Opened)
    def __init__(self, id: UUID, trainee_id: UUID) -> None:  # noqa: A002 - derived from the trainee id
        self.trainee_id = trainee_id
        self.enrolments: dict[UUID, Enrolment] = {}
        self.completions: dict[UUID, str] = {}
        self.level_certificates: dict[str, LevelCertificate] = {}
        self.revoked: dict[str, datetime] = {}
        self.revocation_reasons: dict[str, str] = {}
        self.claim_ids: list[UUID] = []
        self.approvals: list[Approval] = []

    @classmethod
    def open(cls, trainee_id: UUID) -> Beneficiary:
        return cls(id=cls.id_for(trainee_id), trainee_id=trainee_id)

    def learn_enrolment(self, enrolment: Enrolment) -> None:
        if enrolment.programme_id not in self.enrolments:
            self.trigger_event(self.EnrolmentLearnt, **vars(enrolment))

    def learn_completion(
        self, programme_id: UUID, occupation_code: str, level: Level, certificate: str
    ) -> None:
        if programme_id not in self.completions:
            self.trigger_event(
                self.CompletionLearnt,
                programme_id=programme_id,
                occupation_code=occupation_code,
                level=level,
                training_certificate_number=certificate,
            )

    def learn_level_certificate(
        self, number: str, occupation_code: str, level: Level, issued_at: datetime
    ) -> None:
        if number not in self.level_certificates:
            self.trigger_event(
                self.LevelCertificateLearnt,
                certificate_number=number,
                occupation_code=occupation_code,
                level=level,
                issued_at=issued_at,
            )

    def learn_revocation(self, number: str, revoked_at: datetime, reason: str) -> None:
        if number not in self.revoked:
            self.trigger_event(
                self.LevelCertificateRevoked,
                certificate_number=number,
                revoked_at=revoked_at,
                reason=reason,
            )

    def revoked_certificate_of(self, occupation_code: str, level: Level) -> tuple[str, str] | None:
        """The certificate of that occupation and level a claim rested on and lost (its number
        and the revocation's reason), when no other of them is valid now; else None."""
        if self.holds_level_certificate(occupation_code, level):
            return None
        lost = [
            (self.revoked[number], number)
            for number, certificate in self.level_certificates.items()
            if (certificate.occupation_code, certificate.level) == (occupation_code, level)
            and number in self.revoked
        ]
        if not lost:
            return None
        _, number = max(lost)
        return number, self.revocation_reasons.get(number, "")

    def file(self, claim_id: UUID) -> None:
        self.trigger_event(self.ClaimFiled, claim_id=claim_id)

    def grant(self, claim_id: UUID, occupation_code: str, level: Level, decided_on: date) -> None:
        self.trigger_event(
            self.SubsidyGranted,
            claim_id=claim_id,
            occupation_code=occupation_code,
            level=level,
            decided_on=decided_on,
        )

    def holds_level_certificate(
        self, occupation_code: str, level: Level, as_of: datetime | None = None
    ) -> bool:
        """Whether a certificate of that occupation and level was valid when a claim's facts
        were complete: at `as_of` or at its issue, whichever was later (unset: now).

        Judging by when things happened, not when the news arrived, keeps the decision the same
        whatever order the enrollment and certification topics are read in: a revocation that
        happened after the facts were complete does not undo them because it overtook a lagging
        enrolment on the way here."""
        for number, certificate in self.level_certificates.items():
            if (certificate.occupation_code, certificate.level) != (occupation_code, level):
                continue
            revoked_at = self.revoked.get(number)
            if revoked_at is None:
                return True
            if as_of is not None and revoked_at > max(as_of, certificate.issued_at):
                return True
        return False
