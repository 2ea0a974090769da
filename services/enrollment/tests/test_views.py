"""The enrollment views on PostgreSQL: whatever commands run through the application, refused or
not, and however the updates interleave with them, the tables say what the aggregates say."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from heze_common import clock
from enrollment_builders import CITY_BUREAU, institution_staff

from heze_common.errors import Refusal
from heze_common.testing import service_settings
from heze_common.views import LIVE, ViewUpdater
from heze_contracts.enums import (
    Education,
    Field,
    HourKind,
    HourMode,
    Level,
    ParticipantCategory,
)
from heze_enrollment.application import EnrollmentApplication
from heze_enrollment.commands import (
    AccreditInstitution,
    ChangeCityPlan,
    ChangeScope,
    CloseEnrolment,
    Complete,
    Enrol,
    ListInCityDirectory,
    LogSession,
    PublishProgramme,
    RecordExam,
    RegisterTrainee,
    ReinstateInstitution,
    SetHourRequirement,
    SuspendInstitution,
    Withdraw,
)
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.trainee import EnrolmentStatus
from heze_enrollment.main import start
from heze_enrollment.settings import EnrollmentSettings
from heze_enrollment.views import HOURS_COLUMN, VIEWS

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
OCCUPATIONS = {"2-02-10-11": Field.BIG_DATA, "2-02-10-15": Field.BLOCKCHAIN}
PROGRAMMES, TRAINEES = 2, 3  # three trainees for two seats each: some are refused
NAMES = ("王𠀀明", "欧阳𠮷", "李䶮", "张三")
people = itertools.count()  # an ID number never used before, in every example


@pytest.fixture
def enrollment(database_url: str) -> Iterator[EnrollmentApplication]:
    application = start(service_settings(EnrollmentSettings, database_url=database_url))
    for code in OCCUPATIONS:
        application.handle(
            SetHourRequirement(
                principal=CITY_BUREAU,
                code=code,
                level=Level.JUNIOR,
                hours={HourKind.THEORY: Decimal(4), HourKind.PRACTICE: Decimal(2)},
                effective_from=date(2026, 1, 1),
            )
        )
    yield application
    application.close()


TRAINEE, PROGRAMME = st.integers(0, TRAINEES - 1), st.integers(0, PROGRAMMES - 1)
ARGUMENTS = {
    "enrol": st.tuples(TRAINEE, PROGRAMME),
    "log_session": st.tuples(
        TRAINEE,
        PROGRAMME,
        st.integers(-3, 95),  # days after the programmes start (they run 92 days)
        st.decimals(min_value=Decimal("0.5"), max_value=Decimal(12), places=1),
        st.sampled_from(HourKind),
        st.sampled_from(HourMode),
    ),
    "record_exam": st.tuples(
        TRAINEE, PROGRAMME, st.decimals(min_value=50, max_value=100, places=1)
    ),
    "complete": st.tuples(TRAINEE, PROGRAMME),
    "withdraw": st.tuples(TRAINEE, PROGRAMME),
    "close_enrolment": st.tuples(PROGRAMME),
    "change_city_plan": st.tuples(PROGRAMME, st.booleans(), st.booleans()),
    "change_scope": st.tuples(st.sets(st.sampled_from(list(OCCUPATIONS.values())))),
    "suspend_institution": st.tuples(),
    "reinstate_institution": st.tuples(),
    "list_in_city_directory": st.tuples(st.booleans()),
}
WEIGHTS = {"enrol": 4, "log_session": 8, "record_exam": 3, "complete": 3}
"""How often a command is drawn, against 1 for the others: so that most examples reach a
completion, while closures, suspensions and scope changes still interrupt some."""
COMMANDS = st.sampled_from(
    [name for name in ARGUMENTS for _ in range(WEIGHTS.get(name, 1))]
).flatmap(lambda name: ARGUMENTS[name].map(lambda arguments: (name, *arguments)))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(COMMANDS, st.booleans()), min_size=10, max_size=60))
def test_the_tables_equal_the_aggregates_whatever_commands_run_and_updates_interleave(
    enrollment: EnrollmentApplication, database_url: str, commands: list[tuple[Any, bool]]
) -> None:
    app = enrollment
    updater = ViewUpdater(app, [view() for view in VIEWS])
    with clock.frozen_at(NOW):
        institution_id = app.handle(
            AccreditInstitution(
                principal=CITY_BUREAU,
                directory_number=None,
                name=f"菏泽测试学院{uuid4().hex[:8]}",
                fields=list(OCCUPATIONS.values()),
                contact_name="唐𠀀",
                contact_phone="0530-1234567",
            )
        )
        staff = institution_staff(institution_id)
        programme_ids = [
            app.handle(
                PublishProgramme(
                    principal=staff,
                    occupation_code=code,
                    level=Level.JUNIOR,
                    title=f"{code} 初级第{n}期",
                    capacity=2,
                    starts_on=date(2026, 11, 1),
                    ends_on=date(2027, 1, 31),
                    required_hours=None,
                    completion_pass_mark=Decimal(60),
                    subsidised_plan=n % 2 == 0,
                    in_city_training_directory=False,
                )
            )
            for n, code in enumerate(OCCUPATIONS)
        ]
        trainee_ids = [
            register(app, NAMES[n % len(NAMES)], institution_id) for n in range(TRAINEES)
        ]
        for command, catch_up_now in commands:
            try:
                run(app, command, institution_id, programme_ids, trainee_ids)
            except Refusal:
                pass  # a refused command stores nothing, and the views show nothing of it
            if catch_up_now:
                updater.catch_up()
    assert updater.catch_up() == app.log_head()

    tables = read_tables(database_url, institution_id, programme_ids, trainee_ids)
    assert tables == fold(app, institution_id, programme_ids, trainee_ids)


def register(app: EnrollmentApplication, name: str, institution_id: UUID) -> UUID:
    number = next(people)
    return app.handle(
        RegisterTrainee(
            principal=institution_staff(institution_id),  # with the person's consent
            name=name,
            id_number=ResidentId.compose("371702", date(1990, 1, 1) + timedelta(days=number), 11),
            sex=None,
            birth_date=None,
            phone="13800000000",
            education=Education.BACHELOR,
            major="数据科学与大数据技术",
            employer=None if number % 2 else "菏泽某科技有限公司",
            county=("郓城县", "曹县")[number % 2],
            participant_category=ParticipantCategory.DIGITAL_WORKER,
            draws_pension=False,
            retirement_group=None,
            person_consents=True,
        )
    )


def run(
    app: EnrollmentApplication,
    command: tuple[Any, ...],
    institution_id: UUID,
    programmes: list[UUID],
    trainees: list[UUID],
) -> None:
    staff = institution_staff(institution_id)
    match command:
        case ("enrol", who, which):
            app.handle(
                Enrol(principal=staff, trainee_id=trainees[who], programme_id=programmes[which])
            )
        case ("withdraw", who, which):
            app.handle(
                Withdraw(
                    principal=staff,
                    trainee_id=trainees[who],
                    programme_id=programmes[which],
                    reason="工作调动",
                )
            )
        case ("log_session", who, which, offset, hours, kind, mode):
            trainee_id, programme_id = active(app, trainees, programmes, who, which)
            app.handle(
                LogSession(
                    principal=staff,
                    trainee_id=trainee_id,
                    programme_id=programme_id,
                    day=date(2026, 11, 1) + timedelta(days=offset),
                    hours=hours,
                    kind=kind,
                    mode=mode,
                )
            )
        case ("record_exam", who, which, score):
            trainee_id, programme_id = active(app, trainees, programmes, who, which)
            app.handle(
                RecordExam(
                    principal=staff, trainee_id=trainee_id, programme_id=programme_id, score=score
                )
            )
        case ("complete", who, which):
            trainee_id, programme_id = active(app, trainees, programmes, who, which)
            app.handle(Complete(principal=staff, trainee_id=trainee_id, programme_id=programme_id))
        case ("close_enrolment", which):
            app.handle(CloseEnrolment(principal=staff, programme_id=programmes[which]))
        case ("change_city_plan", which, subsidised, listed):
            app.handle(
                ChangeCityPlan(
                    principal=CITY_BUREAU,
                    programme_id=programmes[which],
                    subsidised_plan=subsidised,
                    in_city_training_directory=listed,
                )
            )
        case ("change_scope", fields):
            app.handle(
                ChangeScope(
                    principal=CITY_BUREAU, institution_id=institution_id, fields=sorted(fields)
                )
            )
        case ("suspend_institution",):
            app.handle(
                SuspendInstitution(
                    principal=CITY_BUREAU, institution_id=institution_id, reason="年度检查不合格"
                )
            )
        case ("reinstate_institution",):
            app.handle(ReinstateInstitution(principal=CITY_BUREAU, institution_id=institution_id))
        case ("list_in_city_directory", listed):
            app.handle(
                ListInCityDirectory(
                    principal=CITY_BUREAU, institution_id=institution_id, listed=listed
                )
            )


def active(
    app: EnrollmentApplication, trainees: list[UUID], programmes: list[UUID], who: int, which: int
) -> tuple[UUID, UUID]:
    """The trainee and programme a training command goes to: one of the enrolments still open
    (chosen by the indices), so that examples reach completions; with none open, the indices'
    own pair, which the rules refuse."""
    in_training = [
        (trainee_id, programme_id)
        for trainee_id in trainees
        for programme_id, record in app.trainee(trainee_id).enrolments.items()
        if record.status is EnrolmentStatus.ENROLLED
    ]
    if not in_training:
        return trainees[who], programmes[which]
    return in_training[(who * PROGRAMMES + which) % len(in_training)]


def read_tables(
    database_url: str, institution_id: UUID, programmes: list[UUID], trainees: list[UUID]
) -> dict[str, Any]:
    """The rows of this example's institution, programmes and trainees, in domain terms."""
    with psycopg.connect(database_url, row_factory=dict_row) as connection:

        def select(query: str, *ids: Any) -> list[dict[str, Any]]:
            return connection.execute(query.replace("{schema}", LIVE), ids).fetchall()

        institution = select(
            "SELECT directory_number, name, fields, contact_name, contact_phone, suspended,"
            " in_city_training_directory FROM {schema}.institutions WHERE institution_id = %s",
            institution_id,
        )
        programme_rows = select(
            "SELECT programme_id, institution_id, occupation_code, field, level, title, capacity,"
            " seats_taken, starts_on, ends_on, required_hours, completion_pass_mark,"
            " subsidised_plan, in_city_training_directory, closed"
            " FROM {schema}.programmes WHERE programme_id = ANY(%s)",
            programmes,
        )
        roster = select(
            "SELECT * FROM {schema}.roster WHERE programme_id = ANY(%s)"
            " ORDER BY enrolled_position",
            programmes,
        )
        registrations = select(
            "SELECT trainee_id, name, county, registered_on, participant_category, education,"
            " major, employer FROM {schema}.registrations WHERE trainee_id = ANY(%s)",
            trainees,
        )
    return {
        "institution": [
            {**row, "fields": [Field(value) for value in row["fields"]]} for row in institution
        ],
        "programmes": {
            row.pop("programme_id"): {
                **row,
                "field": Field(row["field"]),
                "level": Level(row["level"]),
                "required_hours": {
                    HourKind(kind): Decimal(hours) for kind, hours in row["required_hours"].items()
                },
            }
            for row in programme_rows
        },
        "roster": {
            (row["programme_id"], row["trainee_id"]): (
                row["status"],
                row["enrolled_on"],
                {kind: row[column] for kind, column in HOURS_COLUMN.items()},
                row["exam_score"],
                row["certificate_number"],
            )
            for row in roster
        },
        "registrations": {row.pop("trainee_id"): row for row in registrations},
    }


def fold(
    app: EnrollmentApplication, institution_id: UUID, programmes: list[UUID], trainees: list[UUID]
) -> dict[str, Any]:
    """The same, from the aggregates themselves."""
    institution = app.institution(institution_id)
    loaded = [app.trainee(trainee_id) for trainee_id in trainees]
    return {
        "institution": [
            {
                "directory_number": institution.directory_number,
                "name": institution.name,
                "fields": institution.fields,
                "contact_name": institution.contact_name,
                "contact_phone": institution.contact_phone,
                "suspended": institution.suspended,
                "in_city_training_directory": institution.in_city_training_directory,
            }
        ],
        "programmes": {
            programme.id: {
                "institution_id": programme.institution_id,
                "occupation_code": programme.occupation_code,
                "field": programme.field,
                "level": programme.level,
                "title": programme.title,
                "capacity": programme.capacity,
                "seats_taken": len(programme.seats),
                "starts_on": programme.starts_on,
                "ends_on": programme.ends_on,
                "required_hours": programme.required_hours,
                "completion_pass_mark": programme.completion_pass_mark,
                "subsidised_plan": programme.subsidised_plan,
                "in_city_training_directory": programme.in_city_training_directory,
                "closed": programme.closed,
            }
            for programme in map(app.programme, programmes)
        },
        "roster": {
            (record.programme_id, trainee.id): (
                record.status.value,
                record.enrolled_on,
                record.hours_by_kind,
                record.exam_score,
                record.certificate_number,
            )
            for trainee in loaded
            for record in trainee.enrolments.values()
        },
        "registrations": {
            trainee.id: {
                "name": trainee.name,
                "county": trainee.county,
                "registered_on": trainee.registered_on,
                "participant_category": trainee.participant_category.value,
                "education": trainee.education.value,
                "major": trainee.major,
                "employer": trainee.employer,
            }
            for trainee in loaded
        },
    }
