"""The certification service's command handlers and queries, on its event store."""

from __future__ import annotations

import secrets
from functools import cached_property
from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from heze_certification.commands import (
    ApproveCase,
    ConfirmCase,
    FlagOutstanding,
    IssueCertificate,
    LoadCalendar,
    RejectCase,
    ReportCase,
    ReturnForCorrection,
    SetPolicy,
)
from heze_certification.domain.calendars import CALENDARS_ID, HolidayCalendars
from heze_certification.domain.case import CertificateCase
from heze_certification.domain.deadlines import YearCalendar
from heze_certification.domain.holder_names import NameHasher
from heze_certification.domain.policy import POLICY_ID, CityPolicy, PolicyTerms
from heze_certification.domain.register import PREFIX, CertificateRegister, certificate_number
from heze_certification.domain.talent import TalentRecord
from heze_certification.holders import EnrollmentHolders, HolderDirectory, HolderIdentity
from heze_certification.views import CaseFinder
from heze_common import clock
from heze_common.auth import Principal
from heze_common.commands import Decision, handles
from heze_common.errors import Forbidden, Refusal
from heze_common.eventstore import ServiceApplication
from heze_common.serials import Series, issued_by_retired_register, serial_numbers_for
from heze_common.service_calls import ServiceCaller
from heze_contracts.enums import Role


class CertificationApplication(ServiceApplication):
    holds_personal_data = True

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.serials = serial_numbers_for(self.recorder)
        self.issuer_keys = settings.issuer_keys()
        self.identity_claim_key = settings.resolved_identity_claim_key()
        self.holder_names = NameHasher(settings.resolved_holder_name_key())
        self.holders: HolderDirectory = EnrollmentHolders(
            settings.enrollment_url, ServiceCaller(settings.call_signer())
        )

    def seed(self) -> None:
        if not self.exists(CALENDARS_ID):
            self.save(HolidayCalendars())
        if not self.exists(POLICY_ID):
            self.save(CityPolicy(terms=PolicyTerms(), effective_from=date(2023, 4, 27)))

    # Talent records (the requests' and the consumers' alike) and the auditors' trail

    def holder_name(self, trainee_id: UUID) -> str | None:
        """The name a certificate of the trainee carries: as their talent record knows it, or
        as enrollment tells; None once the person is erased."""
        record = self.talent_record(trainee_id)
        if record.erased_on is not None:
            return None
        if record.name:
            return record.name
        identity = self.holders.identity_of(trainee_id)
        return None if identity is None else identity.name

    def holder_of(self, case: CertificateCase) -> HolderIdentity:
        """The holder as the certificate names them (the name it was issued under) with their ID
        number, as their talent record knows it, or enrollment; refused once they are erased."""
        record = self.talent_record(case.trainee_id)
        id_number = None
        if record.erased_on is None:
            id_number = record.id_number
            if id_number is None:
                identity = self.holders.identity_of(case.trainee_id)
                id_number = None if identity is None else identity.id_number
        if case.holder_name is None or id_number is None:
            raise Refusal(
                "person_erased",
                "the holder's data was erased: the certificate stands, but no copy names them",
            )
        return HolderIdentity(name=case.holder_name, id_number=id_number)

    def erase_person(self, trainee_id: UUID, erased_on: date) -> list[Any]:
        """Destroy the person's key first (a crash after it: the message comes again and this
        runs again; nothing can be sealed for them from then on), then record the erasure on
        their talent record and each of their cases.

        A certificate issued before names were kept hashed gets its hash now, from the name
        read before the key goes. The talent record's own id is erased too: its events from
        before the person's fields were sealed name no trainee."""
        cases = [self.case(case_id) for case_id in self.case_finder.cases_of(trainee_id)]
        unhashed = {
            case.id: self.holder_names.hash(case.certificate_number, case.holder_name)
            for case in cases
            if case.certificate_number and case.holder_name and not case.holder_name_hash
        }
        for person in (trainee_id, TalentRecord.id_for(trainee_id)):
            self.personal_data.erase(person)
        record = self.talent_record(trainee_id)
        record.erase(erased_on)
        for case in cases:
            case.erase_holder(erased_on, unhashed.get(case.id))
        return [record, *cases]

    @cached_property
    def case_finder(self) -> CaseFinder:
        return CaseFinder(self)

    def talent_record(self, trainee_id: UUID) -> TalentRecord:
        record_id = TalentRecord.id_for(trainee_id)
        return (
            self.get(TalentRecord, record_id, "talent record")
            if self.exists(record_id)
            else TalentRecord.open(trainee_id)
        )

    def trail_streams(self, trainee_id: UUID) -> list[UUID]:
        """The trainee's talent record and their cases (which only the views know)."""
        record = TalentRecord.id_for(trainee_id)
        cases = self.case_finder.cases_of(trainee_id)
        return [*([record] if self.exists(record) else []), *cases]

    # The case's stages

    def case(self, case_id: UUID) -> CertificateCase:
        return self.get(CertificateCase, case_id, "case")

    def case_for(self, principal: Principal, case_id: UUID) -> CertificateCase:
        """The case, when the principal may read and act on it: an evaluation institution only
        on its own cases, a trainee (reading) only on theirs (the province and the national
        office on every case)."""
        case = self.case(case_id)
        if principal.role is Role.EVALUATION_INSTITUTION:
            principal.ensure_acts_for(case.subject.evaluation_institution_id)
        if principal.role is Role.TRAINEE and principal.trainee_id != case.trainee_id:
            raise Forbidden("not_your_certificate", "a trainee reads only their own cases")
        return case

    def calendars(self) -> dict[int, YearCalendar]:
        return dict(self.get(HolidayCalendars, CALENDARS_ID, "calendars").years)

    @handles
    def report(self, command: ReportCase) -> Decision[CertificateCase]:
        case = self.case_for(command.principal, command.case_id)
        case.report(clock.today(), self.calendars())
        return Decision(case, case)

    @handles
    def confirm(self, command: ConfirmCase) -> Decision[CertificateCase]:
        case = self.case_for(command.principal, command.case_id)
        case.confirm()
        return Decision(case, case)

    @handles
    def return_for_correction(self, command: ReturnForCorrection) -> Decision[CertificateCase]:
        case = self.case_for(command.principal, command.case_id)
        case.return_for_correction(command.reasons, clock.today())
        return Decision(case, case)

    @handles
    def approve(self, command: ApproveCase) -> Decision[CertificateCase]:
        case = self.case_for(command.principal, command.case_id)
        case.approve(clock.today())
        return Decision(case, case)

    @handles
    def reject(self, command: RejectCase) -> Decision[CertificateCase]:
        case = self.case_for(command.principal, command.case_id)
        case.reject(command.reasons, clock.today())
        return Decision(case, case)

    @handles
    def issue(self, command: IssueCertificate) -> Decision[CertificateCase]:
        case = self.case_for(command.principal, command.case_id)
        case.ensure_issuable()  # a repeat is refused here, before it draws a number
        today = clock.today()
        serial = self.serials.draw(
            Series(PREFIX, today.year),
            issued_before=lambda: issued_by_retired_register(
                self.recorder, CertificateRegister.create_id(today.year)
            ),
        )
        number = certificate_number(
            today.year, case.subject.occupation_code, case.subject.level, serial
        )
        # 96 random bits: the QR link's code can't be guessed, nor derived from the number.
        case.issue(number, today, secrets.token_urlsafe(12), self.holder_names)
        record = self.talent_record(case.trainee_id)
        record.note_certificate(number, case.subject.field, case.subject.level, today, today)
        return Decision(case, case, record)

    # Deadlines

    def record_breaches(self, case_ids: Iterable[UUID]) -> int:
        """Record the breach of each case's current deadline once, however often (and on however
        many replicas) this runs; return how many were recorded now. The cases are candidates
        (the views' overdue ones): each case itself decides whether its deadline has passed."""
        today = clock.today()
        recorded = 0
        for case_id in case_ids:
            case = self.case(case_id)
            try:
                if case.record_breach(today):
                    self.save(case)
                    recorded += 1
            except IntegrityError:
                continue  # another replica recorded it first
        return recorded

    @handles
    def load_calendar(self, command: LoadCalendar) -> Decision[int]:
        """Load a year's calendar and recompute the provisional deadlines of the cases given (the
        views' provisional ones; each case decides); answer how many changed."""
        calendars = self.get(HolidayCalendars, CALENDARS_ID, "calendars")
        calendars.load(command.year, command.holidays, command.makeup_workdays)
        changed = []
        for case_id in command.provisional:
            case = self.case(case_id)
            case.recompute_deadline(calendars.years)
            if case.pending_events:
                changed.append(case)
        return Decision(len(changed), calendars, *changed)

    # City policy and the talent base

    def policy(self) -> CityPolicy:
        return self.get(CityPolicy, POLICY_ID, "policy")

    @handles
    def set_policy(self, command: SetPolicy) -> Decision[None]:
        policy = self.policy()
        policy.set_terms(command.terms, command.effective_from)
        return Decision(None, policy)

    @handles
    def flag_outstanding(self, command: FlagOutstanding) -> Decision[TalentRecord]:
        record = self.talent_record(command.trainee_id)
        if not record.valid_certificates():
            raise Refusal(
                "not_in_talent_pool", "only certified engineers in the talent pool can be flagged"
            )
        record.flag_outstanding(command.contribution)
        return Decision(record, record)
