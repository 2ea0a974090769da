"""A certificate case: from a passed assessment through the province's confirmation and the
national office's approval to the issued certificate, each step an event with actor and time,
each deadline recorded with the rule that set it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import event
from pydantic import BaseModel, ConfigDict

from heze_certification.domain.deadlines import YearCalendar, due_date
from heze_certification.domain.holder_names import NameHasher
from heze_common.errors import Refusal
from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import CertificateStage, Field, Level

NAMESPACE = UUID("6a7b8c9d-0e1f-5a2b-8c3d-4e5f6a7b8c9d")
CHINA_STANDARD_TIME = timedelta(hours=8)  # the dates of decisions are local, as clock.today


class CaseStatus(StrEnum):
    AWAITING_REPORT = "awaiting_report"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_ISSUANCE = "awaiting_issuance"
    ISSUED = "issued"
    REVOKED = "revoked"
    CLOSED = "closed"


class CaseSubject(BaseModel):
    """Facts every published event of a case repeats, so each translates on its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trainee_id: UUID
    application_id: UUID
    evaluation_institution_id: UUID
    occupation_code: str
    field: Field
    level: Level


@dataclass(frozen=True)
class Decision:
    """A step of the case a credential refers to: the event that recorded it, and its date."""

    reference: str
    decided_on: date

    @classmethod
    def of(cls, event: Aggregate.Event) -> Decision:
        return cls(
            f"urn:heze:case:{event.originator_id}:{event.originator_version}",
            (event.timestamp + CHINA_STANDARD_TIME).date(),
        )


class CertificateCase(Aggregate):
    TOPIC = "certification.CertificateCase"

    class Opened(AggregateCreated):
        TOPIC = "certification.CertificateCase.Opened.v1"
        personal_fields = ("holder_name",)
        person_path = ("subject", "trainee_id")
        subject: CaseSubject
        holder_name: str | None
        assessment_ended_on: date
        due_on: date

    class Reported(Aggregate.Event):
        TOPIC = "certification.CertificateCase.Reported.v1"
        subject: CaseSubject
        reported_on: date
        due_on: date
        due_is_provisional: bool

        def apply(self, case: CertificateCase) -> None:
            case._open_stage(
                CaseStatus.AWAITING_CONFIRMATION,
                CertificateStage.PROVINCE_CONFIRMATION,
                self.due_on,
                self.due_is_provisional,
            )
            case.reported_on = self.reported_on

    class ProvinceConfirmed(Aggregate.Event):
        TOPIC = "certification.CertificateCase.ProvinceConfirmed.v1"
        subject: CaseSubject

        def apply(self, case: CertificateCase) -> None:
            case._open_stage(
                CaseStatus.AWAITING_APPROVAL, CertificateStage.NATIONAL_REVIEW, None, False
            )
            case.province_confirmation = Decision.of(self)

    class ProvinceReturned(Aggregate.Event):
        TOPIC = "certification.CertificateCase.ProvinceReturned.v1"
        subject: CaseSubject
        reasons: list[str]
        due_on: date

        def apply(self, case: CertificateCase) -> None:
            case._open_stage(
                CaseStatus.AWAITING_REPORT, CertificateStage.REPORT_TO_PROVINCE, self.due_on, False
            )
            case.returns.append(list(self.reasons))

    class NationalApproved(Aggregate.Event):
        TOPIC = "certification.CertificateCase.NationalApproved.v1"
        subject: CaseSubject
        due_on: date

        def apply(self, case: CertificateCase) -> None:
            case._open_stage(
                CaseStatus.AWAITING_ISSUANCE, CertificateStage.ISSUANCE, self.due_on, False
            )
            case.national_approval = Decision.of(self)

    class NationalRejected(Aggregate.Event):
        TOPIC = "certification.CertificateCase.NationalRejected.v1"
        subject: CaseSubject
        reasons: list[str]
        due_on: date

        def apply(self, case: CertificateCase) -> None:
            case._open_stage(
                CaseStatus.AWAITING_REPORT, CertificateStage.REPORT_TO_PROVINCE, self.due_on, False
            )
            case.returns.append(list(self.reasons))

    class Issued(Aggregate.Event):
        TOPIC = "certification.CertificateCase.Issued.v1"
        personal_fields = ("holder_name",)
        person_path = ("subject", "trainee_id")
        subject: CaseSubject
        certificate_number: str
        holder_name: str | None
        issued_on: date
        verification_code: str | None = None
        """The random code of the certificate's QR link (none before codes existed: those
        certificates verify by number and name only)."""
        holder_name_hash: str | None = None
        """The keyed hash of the name the certificate names (`NameHasher`), kept when the
        person is erased so that verification by number and name still answers; none in
        certificates issued before it was kept."""

        def apply(self, case: CertificateCase) -> None:
            case._open_stage(CaseStatus.ISSUED, None, None, False)
            case.certificate_number = self.certificate_number
            case.issued_on = self.issued_on
            case.verification_code = self.verification_code
            case.holder_name_hash = self.holder_name_hash

    class HolderErased(Aggregate.Event):
        """The holder's data was erased (their key deleted): the case keeps the certificate's
        number, occupation, level, dates and the keyed hash of the name."""

        TOPIC = "certification.CertificateCase.HolderErased.v1"
        subject: CaseSubject
        erased_on: date
        holder_name_hash: str | None = None
        """The keyed hash of the name of a certificate issued before such hashes were kept."""

        def apply(self, case: CertificateCase) -> None:
            case.holder_name = None
            case.holder_erased_on = self.erased_on
            case.holder_name_hash = case.holder_name_hash or self.holder_name_hash

    class Revoked(Aggregate.Event):
        TOPIC = "certification.CertificateCase.Revoked.v1"
        subject: CaseSubject
        certificate_number: str
        reason: str

        def apply(self, case: CertificateCase) -> None:
            case.status = CaseStatus.REVOKED
            case.closing_reason = self.reason

    class Closed(Aggregate.Event):
        """The assessment result was voided before a certificate was issued."""

        TOPIC = "certification.CertificateCase.Closed.v1"
        reason: str

        def apply(self, case: CertificateCase) -> None:
            case._open_stage(CaseStatus.CLOSED, None, None, False)
            case.closing_reason = self.reason

    class DeadlineBreached(Aggregate.Event):
        TOPIC = "certification.CertificateCase.DeadlineBreached.v1"
        subject: CaseSubject
        stage: CertificateStage
        due_on: date
        detected_on: date
        days_late: int

        def apply(self, case: CertificateCase) -> None:
            case.breaches.add((self.stage, self.due_on))

    class DeadlineChanged(Aggregate.Event):
        TOPIC = "certification.CertificateCase.DeadlineChanged.v1"
        subject: CaseSubject
        stage: CertificateStage
        previous_due_on: date
        due_on: date
        due_is_provisional: bool

        def apply(self, case: CertificateCase) -> None:
            case.due_on = self.due_on
            case.due_is_provisional = self.due_is_provisional

    @staticmethod
    def id_for(application_id: UUID) -> UUID:
        """One case per passed application."""
        return uuid5(NAMESPACE, str(application_id))

    @event(Opened)
    def __init__(
        self,
        id: UUID,  # noqa: A002 - derived from the application id
        subject: CaseSubject,
        holder_name: str | None,
        assessment_ended_on: date,
        due_on: date,
    ) -> None:
        self.subject = subject
        self.holder_name = holder_name
        self.holder_erased_on: date | None = None
        self.holder_name_hash: str | None = None
        self.assessment_ended_on = assessment_ended_on
        self.reported_on: date | None = None
        self.returns: list[list[str]] = []
        self.breaches: set[tuple[CertificateStage, date]] = set()
        self.certificate_number: str | None = None
        self.issued_on: date | None = None
        self.verification_code: str | None = None
        self.province_confirmation: Decision | None = None
        self.national_approval: Decision | None = None
        self.closing_reason: str | None = None
        self._open_stage(
            CaseStatus.AWAITING_REPORT, CertificateStage.REPORT_TO_PROVINCE, due_on, False
        )

    def _open_stage(
        self,
        status: CaseStatus,
        stage: CertificateStage | None,
        due_on: date | None,
        provisional: bool,
    ) -> None:
        self.status = status
        self.stage = stage
        self.due_on = due_on
        self.due_is_provisional = provisional

    @classmethod
    def open(
        cls, subject: CaseSubject, holder_name: str | None, assessment_ended_on: date
    ) -> CertificateCase:
        due = due_date(CertificateStage.REPORT_TO_PROVINCE, assessment_ended_on, {})
        assert due is not None
        return cls(
            id=cls.id_for(subject.application_id),
            subject=subject,
            holder_name=holder_name,
            assessment_ended_on=assessment_ended_on,
            due_on=due.on,
        )

    @property
    def trainee_id(self) -> UUID:
        return self.subject.trainee_id

    def report(self, today: date, calendars: Mapping[int, YearCalendar]) -> None:
        self._expect(CaseStatus.AWAITING_REPORT, "a report to the province")
        due = due_date(CertificateStage.PROVINCE_CONFIRMATION, today, calendars)
        assert due is not None
        self.trigger_event(
            self.Reported,
            subject=self.subject,
            reported_on=today,
            due_on=due.on,
            due_is_provisional=due.provisional,
        )

    def confirm(self) -> None:
        self._expect(CaseStatus.AWAITING_CONFIRMATION, "the province's confirmation")
        self.trigger_event(self.ProvinceConfirmed, subject=self.subject)

    def return_for_correction(self, reasons: list[str], today: date) -> None:
        self._expect(CaseStatus.AWAITING_CONFIRMATION, "a return by the province")
        due = due_date(CertificateStage.REPORT_TO_PROVINCE, today, {})
        self.trigger_event(
            self.ProvinceReturned, subject=self.subject, reasons=reasons, due_on=due.on
        )  # type: ignore[union-attr]

    def approve(self, today: date) -> None:
        self._expect(CaseStatus.AWAITING_APPROVAL, "national approval")
        due = due_date(CertificateStage.ISSUANCE, today, {})
        self.trigger_event(self.NationalApproved, subject=self.subject, due_on=due.on)  # type: ignore[union-attr]

    def reject(self, reasons: list[str], today: date) -> None:
        self._expect(CaseStatus.AWAITING_APPROVAL, "a national rejection")
        due = due_date(CertificateStage.REPORT_TO_PROVINCE, today, {})
        self.trigger_event(
            self.NationalRejected, subject=self.subject, reasons=reasons, due_on=due.on
        )  # type: ignore[union-attr]

    def ensure_issuable(self) -> None:
        """Refuse before a number is drawn: a drawn number that is not issued is a gap."""
        self._expect(CaseStatus.AWAITING_ISSUANCE, "issuance")

    def issue(
        self, certificate_number: str, today: date, verification_code: str, names: NameHasher
    ) -> None:
        self.ensure_issuable()
        if self.holder_name is None:
            raise Refusal(
                "person_erased", "the holder's data was erased: no certificate names them"
            )
        self.trigger_event(
            self.Issued,
            subject=self.subject,
            certificate_number=certificate_number,
            holder_name=self.holder_name,
            issued_on=today,
            verification_code=verification_code,
            holder_name_hash=names.hash(certificate_number, self.holder_name),
        )

    def erase_holder(self, today: date, holder_name_hash: str | None = None) -> None:
        if self.holder_erased_on is None:
            self.trigger_event(
                self.HolderErased,
                subject=self.subject,
                erased_on=today,
                holder_name_hash=holder_name_hash,
            )

    def void_assessment(self, reason: str) -> None:
        """The assessment result was voided: close the case, or revoke an issued certificate."""
        if self.status is CaseStatus.ISSUED:
            self.trigger_event(
                self.Revoked,
                subject=self.subject,
                certificate_number=self.certificate_number,
                reason=reason,
            )
        elif self.status not in (CaseStatus.REVOKED, CaseStatus.CLOSED):
            self.trigger_event(self.Closed, reason=reason)

    def revoke(self, reason: str) -> None:
        if self.status is not CaseStatus.ISSUED:
            raise Refusal("not_issued", "only an issued certificate can be revoked")
        self.trigger_event(
            self.Revoked,
            subject=self.subject,
            certificate_number=self.certificate_number,
            reason=reason,
        )

    def record_breach(self, today: date) -> bool:
        """Record the current stage's breach once; return whether one was recorded now."""
        if self.stage is None or self.due_on is None or today <= self.due_on:
            return False
        if (self.stage, self.due_on) in self.breaches:
            return False
        self.trigger_event(
            self.DeadlineBreached,
            subject=self.subject,
            stage=self.stage,
            due_on=self.due_on,
            detected_on=today,
            days_late=(today - self.due_on).days,
        )
        return True

    def recompute_deadline(self, calendars: Mapping[int, YearCalendar]) -> None:
        """After a calendar arrives: recompute a provisional working-day deadline."""
        if not self.due_is_provisional or self.stage is not CertificateStage.PROVINCE_CONFIRMATION:
            return
        due = due_date(self.stage, self.reported_on, calendars)  # type: ignore[arg-type]
        if due is not None and (due.on, due.provisional) != (self.due_on, self.due_is_provisional):
            self.trigger_event(
                self.DeadlineChanged,
                subject=self.subject,
                stage=self.stage,
                previous_due_on=self.due_on,
                due_on=due.on,
                due_is_provisional=due.provisional,
            )

    def _expect(self, status: CaseStatus, step: str) -> None:
        if self.status is not status:
            raise Refusal(
                "wrong_stage",
                f"{step} needs a case that is {status.value}, this one is {self.status.value}",
            )
