"""Read models of the certification service: open deadlines and cases per evaluation
institution, the certificate register for verification, the talent pool, CE credits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from heze_certification.domain.case import CertificateCase
from heze_certification.domain.talent import TalentRecord
from heze_common.projection import Projection
from heze_contracts.enums import CertificateStage, Field, Level


@dataclass
class OpenDeadline:
    case_id: UUID
    trainee_id: UUID
    evaluation_institution_id: UUID
    stage: CertificateStage
    due_on: date
    provisional: bool
    breached: bool = False


class Deadlines(Projection):
    """The current deadline of every case that has one, and every case per institution."""

    def __init__(self) -> None:
        self.open: dict[UUID, OpenDeadline] = {}
        self.cases_by_institution: dict[UUID, list[UUID]] = {}
        self.cases_by_trainee: dict[UUID, list[UUID]] = {}

    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        case = CertificateCase
        return {
            case.Opened: self._opened,
            case.Reported: lambda e: self._set(
                e, CertificateStage.PROVINCE_CONFIRMATION, e.due_on, e.due_is_provisional
            ),
            case.ProvinceConfirmed: lambda e: self.open.pop(e.originator_id, None),
            case.ProvinceReturned: lambda e: self._set(
                e, CertificateStage.REPORT_TO_PROVINCE, e.due_on, False
            ),
            case.NationalApproved: lambda e: self._set(
                e, CertificateStage.ISSUANCE, e.due_on, False
            ),
            case.NationalRejected: lambda e: self._set(
                e, CertificateStage.REPORT_TO_PROVINCE, e.due_on, False
            ),
            case.Issued: lambda e: self.open.pop(e.originator_id, None),
            case.Closed: lambda e: self.open.pop(e.originator_id, None),
            case.DeadlineChanged: lambda e: self._set(e, e.stage, e.due_on, e.due_is_provisional),
            case.DeadlineBreached: self._breached,
        }

    def _opened(self, event: CertificateCase.Opened) -> None:
        self.cases_by_institution.setdefault(event.subject.evaluation_institution_id, []).append(
            event.originator_id
        )
        self.cases_by_trainee.setdefault(event.subject.trainee_id, []).append(event.originator_id)
        self._set(event, CertificateStage.REPORT_TO_PROVINCE, event.due_on, False)

    def _set(self, event: Any, stage: CertificateStage, due_on: date, provisional: bool) -> None:
        self.open[event.originator_id] = OpenDeadline(
            case_id=event.originator_id,
            trainee_id=event.subject.trainee_id,
            evaluation_institution_id=event.subject.evaluation_institution_id,
            stage=stage,
            due_on=due_on,
            provisional=provisional,
        )

    def _breached(self, event: CertificateCase.DeadlineBreached) -> None:
        deadline = self.open.get(event.originator_id)
        if deadline and (deadline.stage, deadline.due_on) == (event.stage, event.due_on):
            deadline.breached = True


@dataclass
class RegisteredCertificate:
    number: str
    case_id: UUID
    trainee_id: UUID
    holder_name: str
    occupation_code: str
    field: Field
    level: Level
    issued_on: date
    revoked: bool = False


class Certificates(Projection):
    def __init__(self) -> None:
        self.by_number: dict[str, RegisteredCertificate] = {}

    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        return {CertificateCase.Issued: self._issued, CertificateCase.Revoked: self._revoked}

    def _issued(self, event: CertificateCase.Issued) -> None:
        self.by_number[event.certificate_number] = RegisteredCertificate(
            number=event.certificate_number,
            case_id=event.originator_id,
            trainee_id=event.subject.trainee_id,
            holder_name=event.holder_name,
            occupation_code=event.subject.occupation_code,
            field=event.subject.field,
            level=event.subject.level,
            issued_on=event.issued_on,
        )

    def _revoked(self, event: CertificateCase.Revoked) -> None:
        self.by_number[event.certificate_number].revoked = True


@dataclass
class PoolMember:
    trainee_id: UUID
    county: str
    certificates: dict[str, tuple[Field, Level]] = field(default_factory=dict)
    outstanding_contribution: str | None = None


@dataclass(frozen=True)
class Credit:
    trainee_id: UUID
    year: int
    hours: Decimal
    programme_id: UUID
    credited_on: date


class TalentBase(Projection):
    """The talent pool (searchable by field, level, county) and the year's CE credits."""

    def __init__(self) -> None:
        self.pool: dict[UUID, PoolMember] = {}
        self.credits_by_year: dict[int, list[Credit]] = {}
        self.outstanding: dict[UUID, str] = {}
        """Flags by talent record: a flag may come before the admission (county not yet known)."""

    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        record = TalentRecord
        return {
            record.AdmittedToPool: self._admitted,
            record.CertificateRevocationNoted: self._revoked,
            record.OutstandingFlagged: self._flagged,
            record.HoursCredited: self._credited,
        }

    def _admitted(self, event: TalentRecord.AdmittedToPool) -> None:
        member = self.pool.setdefault(
            event.trainee_id,
            PoolMember(
                event.trainee_id,
                event.county,
                outstanding_contribution=self.outstanding.get(event.originator_id),
            ),
        )
        member.certificates[event.certificate_number] = (event.field, event.level)

    def _revoked(self, event: TalentRecord.CertificateRevocationNoted) -> None:
        for member in self.pool.values():
            if member.certificates.pop(event.number, None) and not member.certificates:
                del self.pool[member.trainee_id]
                return

    def _flagged(self, event: TalentRecord.OutstandingFlagged) -> None:
        self.outstanding[event.originator_id] = event.contribution
        for member in self.pool.values():
            if TalentRecord.id_for(member.trainee_id) == event.originator_id:
                member.outstanding_contribution = event.contribution

    def _credited(self, event: TalentRecord.HoursCredited) -> None:
        self.credits_by_year.setdefault(event.year, []).append(
            Credit(
                event.trainee_id,
                event.year,
                event.hours,
                event.source_programme_id,
                event.credited_on,
            )
        )
