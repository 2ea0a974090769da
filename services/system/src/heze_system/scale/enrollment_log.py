"""The enrollment service's log: institutions, programmes, and trainees from registration
to completion."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from heze_common import clock
from heze_common.serials import Series
from heze_contracts.enums import (
    Education,
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
from heze_enrollment.domain.institution import Institution
from heze_enrollment.domain.programme import Programme
from heze_enrollment.domain.trainee import Trainee
from heze_system.demo.cohort import Person
from heze_system.scale.base import (
    BENCH_INSTITUTIONS,
    COHORT,
    COUNTY_NAMES,
    DIRECTORY,
    FIRST_INTAKE,
    PRACTICE_DAYS,
    SESSION_HOURS,
    THEORY_DAYS,
    LogBuilder,
    Write,
    WriteRequest,
    acting,
    completes,
    fails_exam,
    withdraws,
)


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
                    person_consents=by_institution,
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
