"""`./heze bench --scale N`: an N-event log per service, built through the service's own
aggregates and saved in batches; then each service is restarted and measured: time to ready and
memory, p50/p99 of every read endpoint of its OpenAPI document and of one write command, and the
rebuild of its read models against the raw select-and-decode rate. Not part of the test suite;
prints the figures and writes them as JSON.

A log has the programme's shape: cohorts of 100 people (one programme's intake) go through the
service's stages on the dates they would, with the actor of the command or the consumer that
would have made each event, a stage of a cohort saved as one batch (`app.save(*aggregates)`).
A person's fate (withdraws, fails the completion exam, fails the assessment) follows from their
number, so it is the same in every service's log. The last cohort is left half way, for the
write command to act on.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4, uuid5

import httpx
from rich.console import Console

from heze_assessment.domain.application import Application
from heze_assessment.domain.candidate import Candidate
from heze_assessment.domain.conditions import Declaration, judge
from heze_assessment.domain.evaluation_institution import EvaluationInstitution
from heze_assessment.domain.session import AssessmentSession
from heze_certification.domain.case import CaseSubject, CertificateCase
from heze_certification.domain.register import PREFIX as CERTIFICATE_PREFIX
from heze_certification.domain.register import certificate_number
from heze_certification.domain.talent import TalentRecord
from heze_common import clock
from heze_common.auth import Principal, TokenIssuer
from heze_common.events import Aggregate, EventContext, event_context
from heze_common.relay_position import RelayPositions
from heze_common.serials import Series
from heze_common.settings import ServiceSettings
from heze_common.views import ViewUpdater
from heze_contracts.enums import (
    CertificateStage,
    Education,
    Field,
    HourKind,
    HourMode,
    Level,
    ParticipantCategory,
    RetirementGroup,
    Role,
)
from heze_enrollment.domain.certificates import PREFIX as TRAINING_PREFIX
from heze_enrollment.domain.certificates import training_certificate_number
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import SEED_DIRECTORY, Institution
from heze_enrollment.domain.occupations import SEED_OCCUPATIONS
from heze_enrollment.domain.programme import Programme
from heze_enrollment.domain.trainee import Trainee
from heze_subsidy.domain.beneficiary import Beneficiary, Enrolment
from heze_subsidy.domain.claim import Claim, ClaimStatus
from heze_subsidy.domain.reimbursement import Reimbursement
from heze_system.bench import figures_table, percentiles, replay_service, service_settings
from heze_system.demo.cohort import COUNTIES, EMPLOYERS, GIVEN, MAJORS, SURNAMES, Person, id_number
from heze_system.demo.scenario import COMMITMENT
from heze_system.system import RunningSystem

COHORT = 100
"""People per cohort: one programme's intake."""
FIRST_INTAKE = date(2023, 6, 1)
"""The plan dates from 27 April 2023; its first programmes started that summer."""
LAST_INTAKE_DAYS_AGO = 150
"""A finished cohort's last event (a subsidy paid) comes about 140 days after its intake."""
CHINA = timezone(timedelta(hours=8))
BENCH = UUID("5ca1e000-4e2e-5b3c-9d1e-2f3a4b5c6d7e")
"""Namespace of the ids the bench derives (trainees outside enrollment, programmes, employers)."""

BENCH_INSTITUTIONS = (
    (
        5,
        "菏泽某职业学院",
        [Field.INTELLIGENT_MANUFACTURING, Field.INDUSTRIAL_INTERNET],
        "王磊",
        "0530-5520001",
    ),
    (
        6,
        "菏泽某数字技术培训学校",
        [Field.ARTIFICIAL_INTELLIGENCE, Field.INTERNET_OF_THINGS],
        "李静",
        "0530-5520002",
    ),
    (
        7,
        "山东某工学院",
        [Field.CLOUD_COMPUTING, Field.VIRTUAL_REALITY, Field.BIG_DATA],
        "张伟",
        "0531-8860003",
    ),
)
"""Fictional institutions the bench accredits beside the plan's three, so every occupation of
the table has a programme somewhere."""
DIRECTORY = (*SEED_DIRECTORY, *BENCH_INSTITUTIONS)
OFFERS = tuple(
    (Institution.create_id(name), code, occupation_field, occupation_name)
    for _, name, fields, _, _ in DIRECTORY
    for code, occupation_field, occupation_name in SEED_OCCUPATIONS
    if occupation_field in fields
)
"""What the institutions may train: (institution id, occupation code, field, occupation name)."""
EVALUATORS = (
    "山东省数字技术工程师评价中心",
    "菏泽市数字技术人才评价中心",
    "青岛某数字技术评价有限公司",
)
EVALUATOR_IDS = tuple(EvaluationInstitution.create_id(name) for name in EVALUATORS)
DECLARATION = Declaration(education=Education.BACHELOR, major_relevant=True, years_in_occupation=1)
THEORY_DAYS, PRACTICE_DAYS, SESSION_HOURS = 10, 6, Decimal(8)
"""The junior level's 80 theory and 48 practice hours, in days of 8 hours."""
EMPLOYER_COUNT = 300
COUNTY_NAMES = tuple(COUNTIES)


# People and time ------------------------------------------------------------------------------


def person(number: int) -> Person:
    """The `number`-th person, the same in every service's log: a valid resident ID number of a
    Heze county that no one else has (county, birth date and sequence enumerate the numbers),
    and a Chinese name."""
    rng = random.Random(number)
    female = number % 2 == 1
    index = number // 2
    county = COUNTY_NAMES[index % len(COUNTY_NAMES)]
    rest = index // len(COUNTY_NAMES)
    born = date(1976, 1, 1) + timedelta(days=rest % 9000)
    sequence = rest // 9000 * 2 + (0 if female else 1)  # odd for men
    return Person(
        number=number,
        name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
        id_number=id_number(COUNTIES[county], born, sequence),
        county=county,
        female=female,
        major=rng.choice(MAJORS),
        employer=rng.choice(EMPLOYERS),
        flaw=None,
    )


def withdraws(person: Person) -> bool:
    return person.number % 41 == 5


def fails_exam(person: Person) -> bool:
    return person.number % 37 == 3


def completes(person: Person) -> bool:
    return not withdraws(person) and not fails_exam(person)


def rejected_in_review(person: Person) -> bool:
    return person.number % 53 == 7


def passes_assessment(person: Person) -> bool:
    return completes(person) and not rejected_in_review(person) and person.number % 10 != 4


def training_certificate(person: Person, code: str, day: date) -> str:
    """The training certificate a consumer learns of (a stand-in for the number enrollment
    drew from its sequence)."""
    return training_certificate_number(day.year, code, person.number + 1)


def bench_id(kind: str, key: object) -> UUID:
    return uuid5(BENCH, f"{kind} {key}")


def trainee_id(person: Person) -> UUID:
    """Outside enrollment (whose ids are a keyed hash), one id per person for every service."""
    return bench_id("trainee", person.id_number)


@contextmanager
def acting(
    role: Role | None, day: date, organisation: UUID | None = None, subject: str | None = None
) -> Iterator[None]:
    """Events made inside happen on `day` (10:00 in China) and carry the actor of a command of
    `role`; with no role, they are a consumer's (or the deadline watcher's), with a cause."""
    if role is None:
        context = EventContext(causation_id=uuid4())
    else:
        principal = Principal(
            subject=subject or f"dev-{role.value}", role=role, organisation_id=organisation
        )
        context = EventContext(actor=principal.actor)
    moment = datetime(day.year, day.month, day.day, 10, tzinfo=CHINA)
    with clock.frozen_at(moment), event_context(context):
        yield


# Building -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteRequest:
    path_parameters: dict[str, str]
    organisation: UUID | None = None
    body: dict[str, Any] | None = None


@dataclass
class Write:
    """The write command timed on a service: its operation in the OpenAPI document, the role
    that sends it, and one request per item the build left open."""

    method: str
    path: str
    role: Role
    requests: list[WriteRequest] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


class LogBuilder:
    """Builds one service's log through its aggregates, a cohort at a time, until it holds
    about `target` events; then leaves a last cohort half way, for the write command."""

    service: str
    events_per_person: int
    """About how many events a finished cohort stores per person: spreads the intakes over
    the years the log covers."""
    open_events_per_person: int

    def __init__(self, app: Any, target: int, requests: int) -> None:
        self.app = app
        self.target = target
        self.requests = requests
        self.open_people = min(requests, max(10, target // 50))
        self.samples: dict[str, list[str]] = defaultdict(list)
        """Values from the log for the read endpoints' parameters, by parameter name."""
        self.write: Write  # set by `open_cohort`
        self.rng = random.Random(self.service)
        self.cohorts = 0
        self.people = 0

    def build(self, progress: Callable[[int], None]) -> None:
        self.prepare()
        expected = max(1, self.target // (COHORT * self.events_per_person))
        span = (clock.today() - timedelta(days=LAST_INTAKE_DAYS_AGO) - FIRST_INTAKE).days
        reserved = self.open_people * self.open_events_per_person
        while (head := self.app.log_head()) < self.target - reserved:
            progress(head)
            intake = FIRST_INTAKE + timedelta(days=span * min(self.cohorts, expected) // expected)
            self.cohort(self.next_people(COHORT), intake)
            self.cohorts += 1
        self.open_cohort(self.next_people(self.open_people), clock.today())

    def next_people(self, count: int) -> list[Person]:
        people = [person(self.people + n) for n in range(count)]
        self.people += count
        return people

    def offer(self) -> tuple[UUID, str, Field, str]:
        """The institution and occupation of the current cohort's programme."""
        return OFFERS[self.cohorts % len(OFFERS)]

    def subsidised(self) -> bool:
        """Four programmes in five are in the city's subsidised-training plan."""
        return self.cohorts % 5 != 4

    def sample(self, name: str, *values: object) -> None:
        self.samples[name] += [str(value) for value in values]

    def save(self, *aggregates: Aggregate) -> None:
        self.app.save(*aggregates)

    def prepare(self) -> None:
        """Reference data the cohorts need, saved before the first."""

    def cohort(self, people: list[Person], intake: date) -> None:
        raise NotImplementedError

    def open_cohort(self, people: list[Person], today: date) -> None:
        raise NotImplementedError


class EnrollmentLog(LogBuilder):
    """Programmes (published, put in the city's plan); people registered (themselves, or by the
    institution), enrolled on a seat, 16 sessions logged, the completion exam, completion with a
    training certificate number; one in 41 withdraws half way, one in 37 fails the exam.
    Open: a programme in its first week (5 theory sessions); the write logs the next ones."""

    service = "enrollment"
    events_per_person = 21  # registered, enrolled, a seat, 16 sessions, exam, completed
    open_events_per_person = 8

    def prepare(self) -> None:
        self.table = self.app.occupation_table()
        with acting(Role.CITY_BUREAU, FIRST_INTAKE - timedelta(days=60)):
            self.save(*(Institution.accredit(*entry) for entry in BENCH_INSTITUTIONS))
        self.sample("institution_id", *(Institution.create_id(entry[1]) for entry in DIRECTORY))
        self.sample("county", *COUNTY_NAMES)

    def programme(self, intake: date, capacity: int) -> Programme:
        institution_id, code, occupation_field, occupation_name = self.offer()
        with acting(Role.TRAINING_INSTITUTION, intake - timedelta(days=30), institution_id):
            programme = Programme.publish(
                institution_id=institution_id,
                occupation_code=code,
                field=occupation_field,
                level=Level.JUNIOR,
                title=f"{occupation_name}（初级）{intake:%Y年%m月}班",
                capacity=capacity,
                starts_on=intake,
                ends_on=intake + timedelta(days=120),
                required_hours=None,
                minimum=self.table.hour_requirement(code, Level.JUNIOR, intake),
                completion_pass_mark=Decimal(60),
                subsidised_plan=False,
                in_city_training_directory=False,
            )
        if self.subsidised():
            with acting(Role.CITY_BUREAU, intake - timedelta(days=25)):
                programme.change_city_plan(True, True)
        self.sample("programme_id", programme.id)
        return programme

    def enrol(self, people: list[Person], programme: Programme) -> list[Trainee]:
        trainees = []
        registered, enrolled = (programme.starts_on - timedelta(days=d) for d in (14, 7))
        for someone in people:
            by_institution = someone.number % 2 == 1
            institution = programme.institution_id if by_institution else None
            role = Role.TRAINING_INSTITUTION if by_institution else Role.TRAINEE
            identity = ResidentId.parse(someone.id_number)
            with acting(role, registered, institution):
                trainee = Trainee.register(
                    trainee_id=self.app.trainee_id_for(identity.number),
                    name=someone.name,
                    identity=identity,
                    declared_sex=None,
                    declared_birth_date=None,
                    phone=f"139{someone.number:08d}",
                    education=Education.BACHELOR,
                    major=someone.major,
                    employer=someone.employer,
                    county=someone.county,
                    participant_category=ParticipantCategory.DIGITAL_WORKER
                    if someone.employer
                    else ParticipantCategory.GRADUATING_STUDENT,
                    draws_pension=False,
                    retirement_group=RetirementGroup.FEMALE_55 if someone.female else None,
                    registered_on=registered,
                    registered_by_institution_id=institution,
                    account=None if by_institution else f"account-{someone.number}",
                )
            with acting(Role.TRAINEE, enrolled, subject=str(trainee.id)):
                trainee.enrol(programme, enrolled)
                programme.take_seat(trainee.id, enrolled)
            trainees.append(trainee)
            self.sample("trainee_id", trainee.id)
            self.sample("aggregate_id", trainee.id)
            self.sample("id_number", identity.number)
        return trainees

    def train(
        self, trainees: list[Trainee], programme: Programme, first: int, days: int, kind: HourKind
    ) -> None:
        mode = HourMode.ONLINE if kind is HourKind.THEORY else HourMode.OFFLINE
        for offset in range(first, first + days):
            day = programme.starts_on + timedelta(days=offset)
            with acting(Role.TRAINING_INSTITUTION, day, programme.institution_id):
                for trainee in trainees:
                    trainee.log_session(programme, day, SESSION_HOURS, kind, mode)

    def cohort(self, people: list[Person], intake: date) -> None:
        programme = self.programme(intake, capacity=COHORT + 20)
        trainees = self.enrol(people, programme)
        self.save(programme, *trainees)
        self.train(trainees, programme, 0, THEORY_DAYS, HourKind.THEORY)
        institution = programme.institution_id
        staying = []
        with acting(Role.TRAINING_INSTITUTION, intake + timedelta(days=THEORY_DAYS), institution):
            for someone, trainee in zip(people, trainees, strict=True):
                if withdraws(someone):
                    trainee.withdraw(programme.id, "工作调动，无法继续参加培训", clock.today())
                    programme.release_seat(trainee.id)
                else:
                    staying.append((someone, trainee))
        self.save(programme, *trainees)
        self.train(
            [t for _, t in staying], programme, THEORY_DAYS, PRACTICE_DAYS, HourKind.PRACTICE
        )
        exam_day = intake + timedelta(days=THEORY_DAYS + PRACTICE_DAYS)
        with acting(Role.TRAINING_INSTITUTION, exam_day, institution):
            for someone, trainee in staying:
                score = 52 if fails_exam(someone) else self.rng.randint(65, 97)
                trainee.record_exam(programme.id, Decimal(score))
        completed_on = exam_day + timedelta(days=1)
        with acting(Role.TRAINING_INSTITUTION, completed_on, institution):
            for someone, trainee in staying:
                if completes(someone):
                    serial = self.app.serials.draw(Series(TRAINING_PREFIX, completed_on.year))
                    number = training_certificate_number(
                        completed_on.year, programme.occupation_code, serial
                    )
                    trainee.complete(programme.id, number, completed_on)
        self.save(*(trainee for _, trainee in staying))

    def open_cohort(self, people: list[Person], today: date) -> None:
        programme = self.programme(today - timedelta(days=7), capacity=len(people) + 20)
        trainees = self.enrol(people, programme)
        self.save(programme, *trainees)
        logged = 5
        self.train(trainees, programme, 0, logged, HourKind.THEORY)
        self.save(*trainees)
        self.write = Write(
            "POST",
            "/programmes/{programme_id}/trainees/{trainee_id}/sessions",
            Role.TRAINING_INSTITUTION,
        )
        for n in range(self.requests):  # the next days' sessions, trainee after trainee
            trainee = trainees[n % len(trainees)]
            day = programme.starts_on + timedelta(days=logged + n // len(trainees))
            self.write.requests.append(
                WriteRequest(
                    {"programme_id": str(programme.id), "trainee_id": str(trainee.id)},
                    programme.institution_id,
                    {"date": str(day), "hours": 8, "kind": "theory", "mode": "online"},
                )
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
                identity = ResidentId.parse(someone.id_number)
                candidate = Candidate(trainee_id=trainee_id(someone))
                candidate.learn_holder(
                    someone.name, identity.number, identity.sex, identity.birth_date
                )
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
        self.assess(confirmed, candidates, evaluator, code, reviewed_on + timedelta(days=15))

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
        candidates: dict[int, Candidate],
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
                    session.id,
                    Decimal(theory),
                    Decimal(self.rng.randint(60, 95)),
                    candidates[someone.number].holder,
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
                        candidates[someone.number].holder,
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
                    someone.name, someone.id_number, someone.county, someone.employer, registered
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
            case.issue(number, issued)
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


class SubsidyLog(LogBuilder):
    """Beneficiaries (enrolment and completion learnt from enrollment, the level certificate
    from certification); claims filed after the training that wait for the certificate, are
    approved when it arrives and then paid; refused outside the subsidised plan, for a repeat
    within the year (one in 30 tries), or for the missing certificate when the city bureau
    decides (failed assessments); employers' tuition reimbursements (one in four employed).
    Open: claims approved and not yet paid; the write records their payment."""

    service = "subsidy"
    events_per_person = 10  # beneficiary 6, claim 4
    open_events_per_person = 8

    def prepare(self) -> None:
        self.rules = self.app.rules()
        self.sample("institution_id", *(Institution.create_id(entry[1]) for entry in DIRECTORY))
        self.sample("employer_id", *(bench_id("employer", n) for n in range(0, EMPLOYER_COUNT, 7)))
        self.months: set[str] = set()

    def beneficiaries(
        self, people: list[Person], programme_id: UUID, intake: date, subsidised: bool
    ) -> dict[int, Beneficiary]:
        institution_id, code, _, _ = self.offer()
        enrolment = Enrolment(programme_id, institution_id, code, Level.JUNIOR, subsidised)
        beneficiaries = {}
        with acting(None, intake - timedelta(days=7)):
            for someone in people:
                beneficiary = Beneficiary.open(trainee_id(someone))
                beneficiary.learn_enrolment(enrolment)
                beneficiaries[someone.number] = beneficiary
                self.sample("trainee_id", beneficiary.trainee_id)
        completed = intake + timedelta(days=THEORY_DAYS + PRACTICE_DAYS + 1)
        with acting(None, completed):
            for someone in people:
                if completes(someone):
                    number = training_certificate(someone, code, completed)
                    beneficiaries[someone.number].learn_completion(
                        programme_id, code, Level.JUNIOR, number
                    )
        self.sample("programme_id", programme_id)
        return beneficiaries

    def learn_certificates(
        self, people: list[Person], beneficiaries: dict[int, Beneficiary], day: date
    ) -> None:
        _, code, _, _ = self.offer()
        with acting(None, day):
            for someone in people:
                if passes_assessment(someone):  # a stand-in for the number certification drew
                    number = certificate_number(day.year, code, Level.JUNIOR, someone.number + 1)
                    issued_at = datetime(day.year, day.month, day.day, 10, tzinfo=CHINA)
                    beneficiaries[someone.number].learn_level_certificate(
                        number, code, Level.JUNIOR, issued_at
                    )

    def file(self, beneficiary: Beneficiary, programme_id: UUID, day: date) -> Claim:
        _, code, _, _ = self.offer()
        claimant = str(beneficiary.trainee_id)
        with acting(Role.TRAINEE, day, subject=claimant):
            claim = Claim(
                trainee_id=beneficiary.trainee_id,
                programme_id=programme_id,
                occupation_code=code,
                level=Level.JUNIOR,
                applied_by_role=Role.TRAINEE,
                applied_by=Principal(subject=claimant, role=Role.TRAINEE).actor,
            )
            beneficiary.file(claim.id)
            claim.settle(beneficiary, self.rules, day)
        self.sample("claim_id", claim.id)
        self.sample("aggregate_id", claim.id)
        return claim

    def cohort(self, people: list[Person], intake: date) -> None:
        programme_id = bench_id("programme", self.cohorts)
        beneficiaries = self.beneficiaries(people, programme_id, intake, self.subsidised())
        self.save(*beneficiaries.values())
        filed_on = intake + timedelta(days=THEORY_DAYS + PRACTICE_DAYS + 4)
        claims = {
            someone.number: self.file(beneficiaries[someone.number], programme_id, filed_on)
            for someone in people
            if completes(someone)
        }
        reimbursements = self.reimbursements(people, programme_id, filed_on + timedelta(days=10))
        self.save(*beneficiaries.values(), *claims.values(), *reimbursements)
        issued = intake + timedelta(days=72)
        self.learn_certificates(people, beneficiaries, issued)
        with acting(None, issued):
            for number, claim in claims.items():
                claim.settle(beneficiaries[number], self.rules, issued)
        paid_on = issued + timedelta(days=20)
        with acting(Role.CITY_BUREAU, paid_on):
            for number, claim in claims.items():
                if claim.status is ClaimStatus.APPROVED:
                    claim.record_payment(f"HZCZ-{paid_on.year}-{number:06d}", paid_on)
                    self.months.add(f"{paid_on:%Y-%m}")
        repeats = [
            self.file(beneficiaries[someone.number], programme_id, paid_on + timedelta(days=10))
            for someone in people
            if someone.number % 30 == 2
            and someone.number in claims
            and claims[someone.number].status is ClaimStatus.PAID
        ]
        decided_on = intake + timedelta(days=140)
        with acting(Role.CITY_BUREAU, decided_on):  # what still waits is decided: refused
            for number, claim in claims.items():
                claim.settle(beneficiaries[number], self.rules, decided_on, force=True)
        self.save(*beneficiaries.values(), *claims.values(), *repeats)

    def reimbursements(
        self, people: list[Person], programme_id: UUID, day: date
    ) -> list[Reimbursement]:
        reimbursements = []
        for someone in people:
            if someone.employer and completes(someone) and someone.number % 4 == 0:
                employer = bench_id("employer", someone.number // 4 % EMPLOYER_COUNT)
                with acting(Role.EMPLOYER, day, employer):
                    reimbursements.append(
                        Reimbursement(
                            id=Reimbursement.id_for(trainee_id(someone), programme_id),
                            employer_id=employer,
                            trainee_id=trainee_id(someone),
                            programme_id=programme_id,
                            amount_fen=350_000,
                            reimbursed_on=day,
                        )
                    )
        return reimbursements

    def open_cohort(self, people: list[Person], today: date) -> None:
        programme_id = bench_id("programme", self.cohorts)
        beneficiaries = self.beneficiaries(people, programme_id, today - timedelta(days=80), True)
        self.learn_certificates(people, beneficiaries, today - timedelta(days=3))
        claims = [
            self.file(beneficiaries[someone.number], programme_id, today - timedelta(days=2))
            for someone in people
            if passes_assessment(someone)
        ]
        self.save(*beneficiaries.values(), *claims)
        self.sample("month", *sorted(self.months))
        self.write = Write(
            "POST",
            "/claims/{claim_id}/payment",
            Role.CITY_BUREAU,
            [
                WriteRequest(
                    {"claim_id": str(claim.id)},
                    None,
                    {"payment_reference": f"HZCZ-{today.year}-B{n:05d}"},
                )
                for n, claim in enumerate(claims)
            ],
        )


BUILDERS: dict[str, type[LogBuilder]] = {
    builder.service: builder
    for builder in (EnrollmentLog, AssessmentLog, CertificationLog, SubsidyLog)
}
PROGRESS_SECONDS = 10.0


def build_log(
    system: RunningSystem, service: str, target: int, requests: int, console: Console
) -> tuple[LogBuilder, dict[str, Any]]:
    """Build the service's log, record it as published (that history was never on this broker:
    no relay sends it, no consumer applies it again) and bring its table views up to it."""
    settings = service_settings(system, service)
    definition = importlib.import_module(f"heze_{service}.main").definition(settings)
    app = definition.create_application(settings)  # the service's own start: seeded as it seeds
    builder = BUILDERS[service](app, target, requests)
    started = shown = time.perf_counter()

    def progress(head: int) -> None:
        nonlocal shown
        now = time.perf_counter()
        if now - shown >= PROGRESS_SECONDS:
            console.print(
                f"  {service}: {head:,} of {target:,} events, {head / (now - started):,.0f}/s"
            )
            shown = now

    builder.build(progress)
    seconds = time.perf_counter() - started
    events = app.log_head()
    RelayPositions(app.recorder).save(settings.kafka_topic_prefix + definition.publishes_to, events)
    figures: dict[str, Any] = {
        "events": events,
        "people": builder.people,
        "cohorts": builder.cohorts + 1,
        "build_seconds": seconds,
        "build_events_per_second": events / seconds,
    }
    console.print(f"  {service}: {events:,} events in {seconds:.0f} s ({events / seconds:,.0f}/s)")
    started = time.perf_counter()
    ViewUpdater(app, [view() for view in definition.views]).catch_up()
    figures["views_catch_up_seconds"] = time.perf_counter() - started
    console.print(f"  {service}: views caught up in {figures['views_catch_up_seconds']:.0f} s")
    app.close()
    return builder, figures


# Measuring ------------------------------------------------------------------------------------

EXCLUDED_PATHS = ("/health/", "/metrics", "/docs", "/redoc", "/openapi.json", "/asyncapi.json")
SCANS = ("/audit/orphans",)
"""Audit reads of the whole topic and log: not a request to time per endpoint."""
NOT_FILTERS = frozenset({"limit", "offset", "after", "format", "on", "as_of", "version"})
"""Query parameters that page, format or date a list rather than narrow it."""
READERS = (Role.CITY_BUREAU, Role.PROVINCIAL_DEPARTMENT, Role.NATIONAL_OFFICE, Role.AUDITOR)
BUDGET_SECONDS = 30.0
"""Time allowed per endpoint: one that takes seconds at this size is timed fewer times."""
SCALE_ENVIRONMENT = {"VERIFY_REQUESTS_PER_MINUTE": "1000000"}
"""The public verification's limit (30 a minute per client) would refuse the timed requests."""


@dataclass(frozen=True)
class Endpoint:
    label: str
    path: str
    path_parameters: tuple[str, ...]
    query: tuple[str, ...]
    """Query parameters filled from the samples: the required ones, and the filter timed."""
    role: Role | None


def read_endpoints(
    document: dict[str, Any], samples: dict[str, list[str]]
) -> tuple[list[Endpoint], dict[str, str]]:
    """Every GET of an OpenAPI document worth timing: each with its parameters filled from the
    log, and each list also with every filter there are samples for; and those not timed, why."""
    endpoints, skipped = [], {}
    for path, operations in document["paths"].items():
        operation = operations.get("get")
        label = f"GET {path}"
        if operation is None or path.startswith(EXCLUDED_PATHS):
            continue
        if path in SCANS:
            skipped[label] = "reads the whole topic and log"
            continue
        roles = operation.get("x-roles", [])
        role = next((reader for reader in READERS if reader.value in roles or not roles), None)
        if roles and role is None:
            skipped[label] = f"only {', '.join(roles)} may read it"
            continue
        if "security" not in operation:
            role = None  # public: no token
        parameters = operation.get("parameters", [])
        in_path = tuple(p["name"] for p in parameters if p["in"] == "path")
        required = tuple(p["name"] for p in parameters if p["in"] == "query" and p.get("required"))
        missing = [name for name in (*in_path, *required) if name not in samples]
        if missing:
            skipped[label] = f"no value from the log for {', '.join(missing)}"
            continue
        endpoints.append(Endpoint(label, path, in_path, required, role))
        if in_path:
            continue
        for parameter in parameters:
            name = parameter["name"]
            if parameter["in"] != "query" or parameter.get("required") or name in NOT_FILTERS:
                continue
            if name in samples:
                endpoints.append(Endpoint(f"{label}?{name}", path, (), (*required, name), role))
            else:
                skipped[f"{label}?{name}"] = "no value from the log"
    return endpoints, skipped


def spread(values: Sequence[str], n: int, count: int) -> str:
    """The `n`-th of `count` values picked evenly across `values` (lists filled side by side
    stay paired)."""
    return values[n * len(values) // count % len(values)]


class Tokens:
    def __init__(self, system: RunningSystem) -> None:
        self.issuer = TokenIssuer(ServiceSettings(service_name="bench", data_dir=system.data_dir))
        self.minted: dict[tuple[Role, UUID | None], dict[str, str]] = {}

    def headers(self, role: Role | None, organisation: UUID | None = None) -> dict[str, str]:
        if role is None:
            return {}
        if (role, organisation) not in self.minted:
            token = self.issuer.mint(role, organisation_id=organisation)
            self.minted[role, organisation] = {"Authorization": f"Bearer {token}"}
        return self.minted[role, organisation]


def timed(count: int, send: Callable[[int], httpx.Response]) -> dict[str, Any]:
    """`count` requests one after another (fewer if they pass the budget): p50/p99 and the
    failures by status."""
    seconds: list[float] = []
    failures: Counter[str] = Counter()
    deadline = time.monotonic() + BUDGET_SECONDS
    for n in range(count):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        try:
            status = str(send(n).status_code)
        except httpx.HTTPError as error:
            status = type(error).__name__
        seconds.append(time.perf_counter() - started)
        if not status.startswith(("2", "3")):
            failures[status] += 1
    return {**percentiles(seconds), "failures": dict(failures)}


def time_reads(
    client: httpx.Client,
    endpoints: list[Endpoint],
    samples: dict[str, list[str]],
    tokens: Tokens,
    requests: int,
) -> dict[str, dict[str, Any]]:
    def send(endpoint: Endpoint, n: int) -> httpx.Response:
        value = {
            name: spread(samples[name], n, requests)
            for name in (*endpoint.path_parameters, *endpoint.query)
        }
        return client.get(
            endpoint.path.format(**value),
            params={name: value[name] for name in endpoint.query},
            headers=tokens.headers(endpoint.role),
        )

    return {
        endpoint.label: timed(requests, lambda n, endpoint=endpoint: send(endpoint, n))
        for endpoint in endpoints
    }


def time_write(
    client: httpx.Client, document: dict[str, Any], write: Write, tokens: Tokens
) -> dict[str, Any]:
    if write.method.lower() not in document["paths"].get(write.path, {}):
        return {"label": write.label, "skipped": "not in the OpenAPI document"}

    def send(n: int) -> httpx.Response:
        request = write.requests[n]
        headers = {
            **tokens.headers(write.role, request.organisation),
            "Idempotency-Key": str(uuid4()),
        }
        return client.request(
            write.method,
            write.path.format(**request.path_parameters),
            json=request.body,
            headers=headers,
        )

    return {"label": write.label, **timed(len(write.requests), send)}


def memory(pid: int) -> dict[str, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM), in MB."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )

    def megabytes(name: str) -> float:
        return int(status[name].split()[0]) / 1024

    return {"rss_mb": megabytes("VmRSS"), "peak_rss_mb": megabytes("VmHWM")}


def restart(system: RunningSystem, service: str) -> dict[str, float]:
    """Stop the service (SIGTERM, as a rolling restart does) and start it again: seconds from
    spawn to `/health/ready` 200, and its memory then. A SIGKILL would also time the broker's
    wait for the dead consumer's session to expire (about 10 s per consumer group)."""
    process = system.processes[service]
    process.terminate()
    process.wait(timeout=60)
    started = time.perf_counter()
    system.spawn(service)
    system.wait_ready(service, timeout=600)
    ready = time.perf_counter() - started
    return {"ready_seconds": ready, **memory(system.processes[service].pid)}


def measure(
    system: RunningSystem, service: str, builder: LogBuilder, tokens: Tokens, requests: int
) -> dict[str, Any]:
    # Twice: the first stop of a process the system started leaves its consumer group to
    # expire on the broker, the second stops one that left it.
    figures: dict[str, Any] = {"restarts": [restart(system, service) for _ in range(2)]}
    with httpx.Client(base_url=system.url(service), timeout=4 * BUDGET_SECONDS) as client:
        document = client.get("/openapi.json").json()
        endpoints, figures["not_timed"] = read_endpoints(document, builder.samples)
        figures["reads"] = time_reads(client, endpoints, builder.samples, tokens, requests)
        figures["write"] = time_write(client, document, builder.write, tokens)
    figures["memory_after_requests"] = memory(system.processes[service].pid)
    return figures


# The run --------------------------------------------------------------------------------------


def run_scale(
    system: RunningSystem,
    target: int,
    services: Sequence[str],
    requests: int,
    output: Path,
    console: Console,
) -> dict[str, Any]:
    system.data_dir = system.data_dir.resolve()
    system.environment.update(SCALE_ENVIRONMENT)
    figures: dict[str, Any] = {
        "events_per_service": target,
        "cores": os.cpu_count(),
        "requests_per_endpoint": requests,
        "budget_seconds_per_endpoint": BUDGET_SECONDS,
        "load_average_before": os.getloadavg(),
        "services": {},
    }
    builders = {}
    for service in services:
        console.print(f"building {service}'s log ({target:,} events)…")
        builders[service], figures["services"][service] = build_log(
            system, service, target, requests, console
        )
    console.print("starting the system…")
    system.start()
    tokens = Tokens(system)
    for service in services:
        console.print(f"restarting {service} and timing its endpoints…")
        figures["services"][service].update(
            measure(system, service, builders[service], tokens, requests)
        )
    for service in services:
        console.print(f"rebuilding {service}'s read models…")
        figures["services"][service]["rebuild"] = replay_service(system, service)
    figures["load_average_after"] = os.getloadavg()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(figures, indent=2))
    for service in services:
        print_service(console, service, figures["services"][service], figures["cores"])
    console.print(f"figures written to {output}")
    return figures


def latency(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return result["skipped"]
    text = f"{result['p50'] * 1000:.1f} / {result['p99'] * 1000:.1f} ms ×{result['count']}"
    failures = ", ".join(f"{status}×{n}" for status, n in result["failures"].items())
    return f"{text}, failed: {failures}" if failures else text


def print_service(console: Console, service: str, figures: dict[str, Any], cores: int) -> None:
    restarts, after, rebuild = (
        figures["restarts"],
        figures["memory_after_requests"],
        figures["rebuild"],
    )
    ready = restarts[-1]
    rows = [
        ("log events (people)", f"{figures['events']:,} ({figures['people']:,})"),
        ("built through the aggregates, events/s", f"{figures['build_events_per_second']:,.0f}"),
        *(
            [("table views caught up from empty", f"{figures['views_catch_up_seconds']:.1f} s")]
            if "views_catch_up_seconds" in figures
            else []
        ),
        (
            "time to ready after a restart (twice)",
            ", ".join(f"{restart['ready_seconds']:.1f} s" for restart in restarts),
        ),
        ("RSS at ready / peak", f"{ready['rss_mb']:.0f} / {ready['peak_rss_mb']:.0f} MB"),
        ("RSS after the requests / peak", f"{after['rss_mb']:.0f} / {after['peak_rss_mb']:.0f} MB"),
        *((label, latency(result)) for label, result in figures["reads"].items()),
        (figures["write"]["label"], latency(figures["write"])),
        (
            "rebuild of the read models (tables), events/s",
            f"{rebuild['rebuild_events_per_second']:,.0f}"
            f" ({rebuild['events_replayed']:,} in {rebuild['rebuild_seconds']:.1f} s)",
        ),
        (
            "raw select-and-decode of the log, events/s",
            f"{rebuild['raw_events_per_second']:,.0f}"
            f" ({rebuild['events']:,} in {rebuild['raw_seconds']:.1f} s)",
        ),
        ("  rebuild ÷ raw, per event replayed", f"{rebuild['vs_raw_select_and_decode']:.0%}"),
        (
            "  rebuild ÷ raw, through the whole log",
            f"{rebuild['whole_log_vs_raw_select_and_decode']:.0%}",
        ),
    ]
    table = figures_table(f"{service} at {figures['events']:,} events ({cores} cores)", rows)
    table.caption = (
        "requests: p50 / p99 ×count, one at a time from one client; a shared machine, so the"
        " figures are noisy"
    )
    console.print(table)
    for label, reason in figures["not_timed"].items():
        console.print(f"  not timed: {label} ({reason})")
