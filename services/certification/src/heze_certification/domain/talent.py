"""One person's record in the city's digital talent base: continuing-education hours, level
certificates held, talent-pool admission, and the city bureau's outstanding-contribution flag
(priority for the Peony talent card, 牡丹惠才卡)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import Field, Level

NAMESPACE = UUID("8b9c0d1e-2f3a-5b4c-9d5e-6f7a8b9c0d1e")


@dataclass
class HeldCertificate:
    number: str
    field: Field
    level: Level
    issued_on: date
    revoked: bool = False


class TalentRecord(Aggregate):
    TOPIC = "certification.TalentRecord"

    class Opened(AggregateCreated):
        TOPIC = "certification.TalentRecord.Opened.v1"
        trainee_id: UUID

    class PersonLearnt(Aggregate.Event):
        """Who the trainee is (name and ID number, from enrollment's claim check) and where they
        live; of their employer only whether they have one."""

        TOPIC = "certification.TalentRecord.PersonLearnt.v1"
        class_version = 3
        personal_fields = ("name", "id_number")
        person_path = ("trainee_id",)
        trainee_id: UUID | None
        """The person (none before version 3, whose name and number are not sealed)."""
        name: str | None
        id_number: str | None
        county: str
        employed: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["employed"] = state.pop("employer") is not None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["trainee_id"] = None

        def apply(self, record: TalentRecord) -> None:
            record.name, record.id_number = self.name, self.id_number
            record.county, record.employed = self.county, self.employed

    class Erased(Aggregate.Event):
        """The person's data was erased (their key deleted): the record keeps their hours and
        certificates by id."""

        TOPIC = "certification.TalentRecord.Erased.v1"
        erased_on: date

        def apply(self, record: TalentRecord) -> None:
            record.name = record.id_number = None
            record.erased_on = self.erased_on

    class HoursCredited(Aggregate.Event):
        TOPIC = "certification.TalentRecord.HoursCredited.v1"
        trainee_id: UUID
        year: int
        hours: Decimal
        source_programme_id: UUID
        credited_on: date

        def apply(self, record: TalentRecord) -> None:
            record.credited_programmes.add(self.source_programme_id)
            record.hours_by_year[self.year] = (
                record.hours_by_year.get(self.year, Decimal(0)) + self.hours
            )

    class CertificateNoted(Aggregate.Event):
        TOPIC = "certification.TalentRecord.CertificateNoted.v1"
        number: str
        field: Field
        level: Level
        issued_on: date

        def apply(self, record: TalentRecord) -> None:
            record.certificates[self.number] = HeldCertificate(
                self.number, self.field, self.level, self.issued_on
            )

    class CertificateRevocationNoted(Aggregate.Event):
        TOPIC = "certification.TalentRecord.CertificateRevocationNoted.v1"
        number: str

        def apply(self, record: TalentRecord) -> None:
            record.certificates[self.number].revoked = True

    class AdmittedToPool(Aggregate.Event):
        TOPIC = "certification.TalentRecord.AdmittedToPool.v1"
        trainee_id: UUID
        certificate_number: str
        field: Field
        level: Level
        county: str
        admitted_on: date
        enters_pool: bool | None = None
        """Whether the record held no admitted certificate before this one (so the person enters
        the pool now, in this county); None in admissions recorded before it was said."""

        def apply(self, record: TalentRecord) -> None:
            record.admitted_with.add(self.certificate_number)

    class OutstandingFlagged(Aggregate.Event):
        TOPIC = "certification.TalentRecord.OutstandingFlagged.v1"
        contribution: str

        def apply(self, record: TalentRecord) -> None:
            record.outstanding_contribution = self.contribution

    @staticmethod
    def id_for(trainee_id: UUID) -> UUID:
        return uuid5(NAMESPACE, str(trainee_id))

    @event(Opened)
    def __init__(self, id: UUID, trainee_id: UUID) -> None:  # noqa: A002 - derived from the trainee id
        self.trainee_id = trainee_id
        self.name: str | None = None
        self.id_number: str | None = None
        self.county: str | None = None
        self.employed = False
        self.hours_by_year: dict[int, Decimal] = {}
        self.credited_programmes: set[UUID] = set()
        self.certificates: dict[str, HeldCertificate] = {}
        self.admitted_with: set[str] = set()
        self.outstanding_contribution: str | None = None
        self.erased_on: date | None = None

    @classmethod
    def open(cls, trainee_id: UUID) -> TalentRecord:
        return cls(id=cls.id_for(trainee_id), trainee_id=trainee_id)

    def learn_person(
        self, name: str, id_number: str, county: str, employed: bool, today: date
    ) -> None:
        self.trigger_event(
            self.PersonLearnt,
            trainee_id=self.trainee_id,
            name=name,
            id_number=id_number,
            county=county,
            employed=employed,
        )
        self._admit_waiting(today)

    def erase(self, today: date) -> None:
        if self.erased_on is None:
            self.trigger_event(self.Erased, erased_on=today)

    def credit_hours(self, year: int, hours: Decimal, programme_id: UUID, today: date) -> None:
        """Training hours count as continuing-education hours of the year of completion."""
        if programme_id not in self.credited_programmes:
            self.trigger_event(
                self.HoursCredited,
                trainee_id=self.trainee_id,
                year=year,
                hours=hours,
                source_programme_id=programme_id,
                credited_on=today,
            )

    def note_certificate(
        self, number: str, field: Field, level: Level, issued_on: date, today: date
    ) -> None:
        if number not in self.certificates:
            self.trigger_event(
                self.CertificateNoted, number=number, field=field, level=level, issued_on=issued_on
            )
        self._admit_waiting(today)

    def note_revocation(self, number: str) -> None:
        if number in self.certificates and not self.certificates[number].revoked:
            self.trigger_event(self.CertificateRevocationNoted, number=number)

    def flag_outstanding(self, contribution: str) -> None:
        self.trigger_event(self.OutstandingFlagged, contribution=contribution)

    def _admit_waiting(self, today: date) -> None:
        """Admission needs the certificate and the county; whichever arrives last admits."""
        if self.county is None:
            return
        for held in self.certificates.values():
            if not held.revoked and held.number not in self.admitted_with:
                self.trigger_event(
                    self.AdmittedToPool,
                    trainee_id=self.trainee_id,
                    certificate_number=held.number,
                    field=held.field,
                    level=held.level,
                    county=self.county,
                    admitted_on=today,
                    enters_pool=not self._holds_admitted_certificate(),
                )

    def _holds_admitted_certificate(self) -> bool:
        return any(
            number in self.admitted_with and not held.revoked
            for number, held in self.certificates.items()
        )

    @property
    def in_pool(self) -> bool:
        return any(not held.revoked for held in self.certificates.values()) and bool(
            self.admitted_with
        )

    def valid_certificates(self) -> list[HeldCertificate]:
        return [held for held in self.certificates.values() if not held.revoked]
