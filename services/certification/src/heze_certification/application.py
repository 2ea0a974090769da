"""Commands and queries of the certification service, on its event store."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from heze_certification.domain.calendars import CALENDARS_ID, HolidayCalendars
from heze_certification.domain.case import CaseSubject, CertificateCase
from heze_certification.domain.deadlines import YearCalendar
from heze_certification.domain.policy import POLICY_ID, CityPolicy, PolicyTerms
from heze_certification.domain.register import PREFIX, CertificateRegister, certificate_number
from heze_certification.domain.talent import TalentRecord
from heze_certification.views import CaseFinder
from heze_common import clock
from heze_common.errors import Refusal
from heze_common.events import Aggregate
from heze_common.eventstore import ServiceApplication
from heze_common.serials import Series, issued_by_retired_register, serial_numbers_for
from heze_contracts import assessment as assessed
from heze_contracts import enrollment as enrolled


class CertificationApplication(ServiceApplication):
    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.serials = serial_numbers_for(self.recorder)

    def seed(self) -> None:
        if not self.exists(CALENDARS_ID):
            self.save(HolidayCalendars())
        if not self.exists(POLICY_ID):
            self.save(CityPolicy(terms=PolicyTerms(), effective_from=date(2023, 4, 27)))

    # Upstream facts (consumers)

    def talent_record(self, trainee_id: UUID) -> TalentRecord:
        record_id = TalentRecord.id_for(trainee_id)
        return (
            self.get(TalentRecord, record_id, "talent record")
            if self.exists(record_id)
            else TalentRecord.open(trainee_id)
        )

    def on_trainee_registered(self, event: enrolled.TraineeRegistered) -> Iterable[Aggregate]:
        person = event.payload
        record = self.talent_record(person.trainee_id)
        record.learn_person(
            person.name, person.id_number, person.county, person.employer, clock.today()
        )
        return [record]

    def on_training_completed(self, event: enrolled.TrainingCompleted) -> Iterable[Aggregate]:
        training = event.payload
        record = self.talent_record(training.trainee_id)
        record.credit_hours(
            training.completed_on.year, training.total_hours, training.programme_id, clock.today()
        )
        return [record]

    def on_assessment_passed(self, event: assessed.AssessmentPassed) -> Iterable[Aggregate]:
        result = event.payload
        if self.exists(CertificateCase.id_for(result.application_id)):
            return []
        subject = CaseSubject(
            trainee_id=result.trainee_id,
            application_id=result.application_id,
            evaluation_institution_id=result.evaluation_institution_id,
            occupation_code=result.occupation_code,
            field=result.field,
            level=result.level,
        )
        return [CertificateCase.open(subject, result.holder.name, result.assessment_ended_on)]

    def on_result_voided(self, event: assessed.AssessmentResultVoided) -> Iterable[Aggregate]:
        voided = event.payload
        case_id = CertificateCase.id_for(voided.application_id)
        if not self.exists(case_id):
            return []  # a result without a case (failed, or voided before it passed)
        case = self.get(CertificateCase, case_id, "case")
        case.void_assessment(voided.reason)
        changed: list[Aggregate] = [case]
        if case.certificate_number:
            record = self.talent_record(case.trainee_id)
            record.note_revocation(case.certificate_number)
            changed.append(record)
        return changed

    def trail_streams(self, trainee_id: UUID) -> list[UUID]:
        """The trainee's talent record and their cases (which only the views know)."""
        record = TalentRecord.id_for(trainee_id)
        cases = CaseFinder(self).cases_of(trainee_id)
        return [*([record] if self.exists(record) else []), *cases]

    def upstream_handlers(self) -> dict[type, Any]:
        return {
            enrolled.TraineeRegistered: self.on_trainee_registered,
            enrolled.TrainingCompleted: self.on_training_completed,
            assessed.AssessmentPassed: self.on_assessment_passed,
            assessed.AssessmentResultVoided: self.on_result_voided,
        }

    # The case's stages

    def case(self, case_id: UUID) -> CertificateCase:
        return self.get(CertificateCase, case_id, "case")

    def calendars(self) -> dict[int, YearCalendar]:
        return dict(self.get(HolidayCalendars, CALENDARS_ID, "calendars").years)

    def report(self, case_id: UUID) -> None:
        case = self.case(case_id)
        case.report(clock.today(), self.calendars())
        self.save(case)

    def confirm(self, case_id: UUID) -> None:
        case = self.case(case_id)
        case.confirm()
        self.save(case)

    def return_for_correction(self, case_id: UUID, reasons: list[str]) -> None:
        case = self.case(case_id)
        case.return_for_correction(reasons, clock.today())
        self.save(case)

    def approve(self, case_id: UUID) -> None:
        case = self.case(case_id)
        case.approve(clock.today())
        self.save(case)

    def reject(self, case_id: UUID, reasons: list[str]) -> None:
        case = self.case(case_id)
        case.reject(reasons, clock.today())
        self.save(case)

    def issue(self, case_id: UUID) -> str:
        case = self.case(case_id)
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
        case.issue(number, today)
        record = self.talent_record(case.trainee_id)
        record.note_certificate(number, case.subject.field, case.subject.level, today, today)
        self.save(case, record)
        return number

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

    def load_calendar(
        self,
        year: int,
        holidays: list[date],
        makeup_workdays: list[date],
        provisional: Iterable[UUID],
    ) -> int:
        """Load a year's calendar and recompute the provisional deadlines of the cases given (the
        views' provisional ones; each case decides); return how many changed."""
        calendars = self.get(HolidayCalendars, CALENDARS_ID, "calendars")
        calendars.load(year, holidays, makeup_workdays)
        changed = []
        for case_id in provisional:
            case = self.case(case_id)
            case.recompute_deadline(calendars.years)
            if case.pending_events:
                changed.append(case)
        self.save(calendars, *changed)
        return len(changed)

    # City policy and the talent base

    def policy(self) -> CityPolicy:
        return self.get(CityPolicy, POLICY_ID, "policy")

    def set_policy(self, terms: PolicyTerms, effective_from: date) -> None:
        policy = self.policy()
        policy.set_terms(terms, effective_from)
        self.save(policy)

    def flag_outstanding(self, trainee_id: UUID, contribution: str) -> None:
        record = self.talent_record(trainee_id)
        if not record.valid_certificates():
            raise Refusal(
                "not_in_talent_pool", "only certified engineers in the talent pool can be flagged"
            )
        record.flag_outstanding(contribution)
        self.save(record)
