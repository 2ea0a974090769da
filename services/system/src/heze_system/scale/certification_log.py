"""The certification service's log: certificate cases from report to issue, and talent
records."""

from __future__ import annotations

import secrets

from datetime import date, timedelta
from uuid import UUID

from heze_certification.domain.case import CaseSubject, CertificateCase
from heze_certification.domain.register import PREFIX as CERTIFICATE_PREFIX
from heze_certification.domain.register import certificate_number
from heze_certification.domain.talent import TalentRecord
from heze_common import clock
from heze_common.serials import Series
from heze_contracts.enums import (
    CertificateStage,
    Field,
    Level,
    Role,
)
from heze_enrollment.domain.occupations import SEED_OCCUPATIONS
from heze_system.demo.cohort import Person
from heze_system.scale.base import (
    COUNTY_NAMES,
    EVALUATOR_IDS,
    FIRST_INTAKE,
    PRACTICE_DAYS,
    SESSION_HOURS,
    THEORY_DAYS,
    LogBuilder,
    Write,
    WriteRequest,
    acting,
    bench_id,
    completes,
    passes_assessment,
    trainee_id,
)


class CertificationLog(LogBuilder):
    """Talent records (the person, continuing-education hours from the completed training) and,
    for each passed assessment, a certificate case through the report (one in 25 late, its
    breach recorded first), the province's confirmation (one in 50 returned for correction
    first), national approval and issuance, the certificate noted and the holder admitted to the
    talent pool; one in 199 revoked later, one in 101 flagged outstanding by the city bureau.
    Open: cases of a recent assessment awaiting their report; the write reports them."""

    service = "certification"
    events_per_person = 10  # talent record 5, case 5
    open_events_per_person = 4

    def prepare(self) -> None:
        self.calendars = self.app.calendars()
        self.sample("evaluation_institution_id", *EVALUATOR_IDS)
        self.sample("stage", *(stage.value for stage in CertificateStage))
        self.sample(
            "field", *(occupation_field.value for _, occupation_field, _ in SEED_OCCUPATIONS)
        )
        self.sample("level", Level.JUNIOR.value)
        self.sample("county", *COUNTY_NAMES)
        self.sample("title_series", "工程技术", "经济", "统计")
        self.sample("year", *range(FIRST_INTAKE.year, clock.today().year + 1))

    def records(self, people: list[Person], intake: date) -> dict[int, TalentRecord]:
        registered = intake - timedelta(days=14)
        completed = intake + timedelta(days=THEORY_DAYS + PRACTICE_DAYS + 1)
        records = {}
        with acting(None, registered):
            for someone in people:
                record = TalentRecord.open(trainee_id(someone))
                record.learn_person(
                    someone.name,
                    someone.id_number,
                    someone.county,
                    someone.employer is not None,
                    registered,
                )
                records[someone.number] = record
                self.sample("trainee_id", record.trainee_id)
        hours = SESSION_HOURS * (THEORY_DAYS + PRACTICE_DAYS)
        with acting(None, completed):
            for someone in people:
                if completes(someone):
                    records[someone.number].credit_hours(
                        completed.year, hours, bench_id("programme", self.cohorts), completed
                    )
        return records

    def open_case(
        self, someone: Person, evaluator: UUID, code: str, occupation_field: Field, ended: date
    ) -> CertificateCase:
        subject = CaseSubject(
            trainee_id=trainee_id(someone),
            application_id=bench_id("application", someone.number),
            evaluation_institution_id=evaluator,
            occupation_code=code,
            field=occupation_field,
            level=Level.JUNIOR,
        )
        with acting(None, ended + timedelta(days=1)):
            case = CertificateCase.open(subject, someone.name, ended)
        self.sample("case_id", case.id)
        self.sample("aggregate_id", case.id)
        return case

    def report(self, case: CertificateCase, day: date) -> None:
        evaluator = case.subject.evaluation_institution_id
        with acting(Role.EVALUATION_INSTITUTION, day, evaluator):
            case.report(day, self.calendars)

    def certify(self, someone: Person, case: CertificateCase, record: TalentRecord) -> None:
        """The case's stages, each on its day by its party."""
        reported = case.assessment_ended_on + timedelta(days=7)
        if someone.number % 25 == 3:  # reported late: the deadline watcher saw it first
            breached = case.due_on + timedelta(days=1)
            with acting(None, breached):
                case.record_breach(breached)
            reported = breached + timedelta(days=2)
        self.report(case, reported)
        if someone.number % 50 == 1:
            returned = reported + timedelta(days=3)
            with acting(Role.PROVINCIAL_DEPARTMENT, returned):
                case.return_for_correction(["证件照片不符合要求，请重新上传近期免冠照片"], returned)
            reported = returned + timedelta(days=3)
            self.report(case, reported)
        with acting(Role.PROVINCIAL_DEPARTMENT, reported + timedelta(days=5)):
            case.confirm()
        approved = reported + timedelta(days=15)
        with acting(Role.NATIONAL_OFFICE, approved):
            case.approve(approved)
        issued = approved + timedelta(days=10)
        serial = self.app.serials.draw(Series(CERTIFICATE_PREFIX, issued.year))
        subject = case.subject
        number = certificate_number(issued.year, subject.occupation_code, subject.level, serial)
        with acting(Role.EVALUATION_INSTITUTION, issued, subject.evaluation_institution_id):
            case.issue(number, issued, secrets.token_urlsafe(12), self.app.holder_names)
            record.note_certificate(number, subject.field, subject.level, issued, issued)
        self.sample("number", number)
        self.sample("name", someone.name)  # beside its number: the verification needs both
        if someone.number % 199 == 17:
            with acting(None, issued + timedelta(days=60)):
                case.void_assessment("发现申报材料不实，评价结果作废")
                record.note_revocation(number)
        if someone.number % 101 == 13:
            with acting(Role.CITY_BUREAU, issued + timedelta(days=30)):
                record.flag_outstanding("主持市级数字化转型项目并通过验收")

    def cohort(self, people: list[Person], intake: date) -> None:
        evaluator = EVALUATOR_IDS[self.cohorts % len(EVALUATOR_IDS)]
        _, code, occupation_field, _ = self.offer()
        records = self.records(people, intake)
        self.save(*records.values())
        ended = intake + timedelta(days=THEORY_DAYS + PRACTICE_DAYS + 1 + 26)
        cases = []
        for someone in people:
            if passes_assessment(someone):
                case = self.open_case(someone, evaluator, code, occupation_field, ended)
                self.certify(someone, case, records[someone.number])
                cases.append(case)
        self.save(*cases, *records.values())

    def open_cohort(self, people: list[Person], today: date) -> None:
        evaluator = EVALUATOR_IDS[0]
        _, code, occupation_field, _ = self.offer()
        records = self.records(people, today - timedelta(days=50))
        cases = [
            self.open_case(someone, evaluator, code, occupation_field, today - timedelta(days=10))
            for someone in people
            if passes_assessment(someone)
        ]
        self.save(*records.values(), *cases)
        self.write = Write(
            "POST",
            "/cases/{case_id}/report",
            Role.EVALUATION_INSTITUTION,
            [WriteRequest({"case_id": str(case.id)}, evaluator) for case in cases],
        )
