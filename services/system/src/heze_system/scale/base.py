"""What every service's log is built from: the people and their fates, the ids, the actor
of each event, and the log builder every service's builder extends."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4, uuid5

from heze_assessment.domain.conditions import Declaration
from heze_assessment.domain.evaluation_institution import EvaluationInstitution
from heze_common import clock
from heze_common.auth import Principal
from heze_common.events import Aggregate, EventContext, event_context
from heze_contracts.enums import (
    Education,
    Field,
    Role,
)
from heze_enrollment.domain.certificates import training_certificate_number
from heze_enrollment.domain.institution import SEED_DIRECTORY, Institution
from heze_enrollment.domain.occupations import SEED_OCCUPATIONS
from heze_system.demo.cohort import COUNTIES, EMPLOYERS, GIVEN, MAJORS, SURNAMES, Person, id_number

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
