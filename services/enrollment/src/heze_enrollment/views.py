"""Read models of the enrollment service, as tables (heze_common.views): the directory of
institutions, programmes with their rosters and each trainee's progress, and the city's
registration list (the talent information base).

Personal data is kept once, in `registrations`, and only the columns its list returns; the
roster takes the trainee's name from there."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb

from heze_common.views import Handler, Rows, View
from heze_contracts.enums import HourKind
from heze_enrollment.domain.institution import Institution
from heze_enrollment.domain.programme import Programme
from heze_enrollment.domain.trainee import EnrolmentStatus, Trainee

HOURS_COLUMN = {kind: f"{kind.value}_hours" for kind in HourKind}
"""The roster's column of a trainee's hours of each kind."""


class Directory(View):
    """The accredited institutions, in accreditation order."""

    table_names = ("institutions",)
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.institutions ("
        " institution_id UUID PRIMARY KEY, directory_number INT, name TEXT NOT NULL,"
        " fields TEXT[] NOT NULL, contact_name TEXT NOT NULL, contact_phone TEXT NOT NULL,"
        " suspended BOOLEAN NOT NULL, in_city_training_directory BOOLEAN NOT NULL,"
        " accredited_position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS institutions_in_order"
        " ON {schema}.institutions (accredited_position)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        return {
            Institution.Accredited: self._accredited,
            Institution.ScopeChanged: lambda rows, event: self._set(
                rows, event, fields=[field.value for field in event.fields]
            ),
            Institution.Suspended: lambda rows, event: self._set(rows, event, suspended=True),
            Institution.Reinstated: lambda rows, event: self._set(rows, event, suspended=False),
            Institution.CityDirectoryListingChanged: lambda rows, event: self._set(
                rows, event, in_city_training_directory=event.listed
            ),
        }

    @staticmethod
    def _accredited(rows: Rows, event: Institution.Accredited) -> None:
        rows.execute(
            "INSERT INTO {schema}.institutions VALUES (%s, %s, %s, %s, %s, %s, FALSE, FALSE, %s)",
            (
                event.originator_id,
                event.directory_number,
                event.name,
                [field.value for field in event.fields],
                event.contact_name,
                event.contact_phone,
                rows.position,
            ),
            tables=["institutions"],
        )

    @staticmethod
    def _set(rows: Rows, event: Any, **columns: object) -> None:
        assignments = ", ".join(f"{column} = %s" for column in columns)
        rows.execute(
            f"UPDATE {{schema}}.institutions SET {assignments} WHERE institution_id = %s",
            (*columns.values(), event.originator_id),
            tables=["institutions"],
        )


class Programmes(View):
    """Programmes per institution in publication order, and each programme's roster in
    enrolment order with every trainee's hours by kind, exam score and certificate number."""

    table_names = ("programmes", "roster")
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.programmes ("
        " programme_id UUID PRIMARY KEY, institution_id UUID NOT NULL,"
        " occupation_code TEXT NOT NULL, field TEXT NOT NULL, level TEXT NOT NULL,"
        " title TEXT NOT NULL, capacity INT NOT NULL, seats_taken INT NOT NULL,"
        " starts_on DATE NOT NULL, ends_on DATE NOT NULL, required_hours JSONB NOT NULL,"
        " completion_pass_mark NUMERIC NOT NULL, subsidised_plan BOOLEAN NOT NULL,"
        " in_city_training_directory BOOLEAN NOT NULL, closed BOOLEAN NOT NULL,"
        " published_position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS programmes_in_order"
        " ON {schema}.programmes (published_position)",
        "CREATE INDEX IF NOT EXISTS programmes_of_institution"
        " ON {schema}.programmes (institution_id, published_position)",
        "CREATE TABLE IF NOT EXISTS {schema}.roster ("
        " programme_id UUID NOT NULL, trainee_id UUID NOT NULL, status TEXT NOT NULL,"
        " enrolled_on DATE NOT NULL,"
        + "".join(f" {column} NUMERIC NOT NULL DEFAULT 0," for column in HOURS_COLUMN.values())
        + " exam_score NUMERIC, certificate_number TEXT, enrolled_position BIGINT NOT NULL,"
        " PRIMARY KEY (programme_id, trainee_id))",
        "CREATE INDEX IF NOT EXISTS roster_in_order"
        " ON {schema}.roster (programme_id, enrolled_position)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        return {
            Programme.Published: self._published,
            Programme.EnrolmentClosed: lambda rows, event: self._programme(
                rows, event, closed=True
            ),
            Programme.CityPlanChanged: lambda rows, event: self._programme(
                rows,
                event,
                subsidised_plan=event.subsidised_plan,
                in_city_training_directory=event.in_city_training_directory,
            ),
            Programme.SeatTaken: lambda rows, event: rows.add(
                "programmes", {"programme_id": event.originator_id}, {"seats_taken": 1}
            ),
            Programme.SeatReleased: lambda rows, event: rows.add(
                "programmes", {"programme_id": event.originator_id}, {"seats_taken": -1}
            ),
            Trainee.Enrolled: self._enrolled,
            Trainee.Withdrew: lambda rows, event: self._entry(
                rows, event, status=EnrolmentStatus.WITHDRAWN.value
            ),
            Trainee.SessionLogged: lambda rows, event: rows.add(
                "roster",
                {"programme_id": event.programme_id, "trainee_id": event.originator_id},
                {HOURS_COLUMN[event.kind]: event.hours},
            ),
            Trainee.ExamRecorded: lambda rows, event: self._entry(
                rows, event, exam_score=event.score
            ),
            Trainee.Completed: lambda rows, event: self._entry(
                rows,
                event,
                status=EnrolmentStatus.COMPLETED.value,
                certificate_number=event.certificate_number,
            ),
        }

    @staticmethod
    def _published(rows: Rows, event: Programme.Published) -> None:
        rows.insert(
            "programmes",
            {
                "programme_id": event.originator_id,
                "institution_id": event.institution_id,
                "occupation_code": event.occupation_code,
                "field": event.field.value,
                "level": event.level.value,
                "title": event.title,
                "capacity": event.capacity,
                "seats_taken": 0,
                "starts_on": event.starts_on,
                "ends_on": event.ends_on,
                # Decimals as text: a JSON number would come back as a float.
                "required_hours": Jsonb(
                    {kind.value: str(hours) for kind, hours in event.required_hours.items()}
                ),
                "completion_pass_mark": event.completion_pass_mark,
                "subsidised_plan": event.subsidised_plan,
                "in_city_training_directory": event.in_city_training_directory,
                "closed": False,
                "published_position": rows.position,
            },
        )

    @staticmethod
    def _programme(rows: Rows, event: Any, **values: object) -> None:
        rows.set("programmes", {"programme_id": event.originator_id}, values)

    @staticmethod
    def _enrolled(rows: Rows, event: Trainee.Enrolled) -> None:
        # A trainee who withdrew may enrol again: the record starts afresh, as the aggregate's
        # does, and keeps its place in the roster.
        rows.upsert(
            "roster",
            {"programme_id": event.programme_id, "trainee_id": event.originator_id},
            {
                "status": EnrolmentStatus.ENROLLED.value,
                "enrolled_on": event.enrolled_on,
                **{column: Decimal(0) for column in HOURS_COLUMN.values()},
                "exam_score": None,
                "certificate_number": None,
            },
            on_insert={"enrolled_position": rows.position},
        )

    @staticmethod
    def _entry(rows: Rows, event: Any, **values: object) -> None:
        key = {"programme_id": event.programme_id, "trainee_id": event.originator_id}
        rows.set("roster", key, values)


class Registrations(View):
    """The city's registration list, per county, in registration order: only what the list
    shows of each person (name, county, date, category, education, major, employer). An erased
    person leaves it, and the list of erasures records them by id alone.

    `retention` follows what the retention rule needs of each registrant: their enrolments not
    withdrawn, and the date of their registration or last withdrawal."""

    table_names = ("registrations", "retention", "erasures")
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.registrations ("
        " trainee_id UUID PRIMARY KEY, name TEXT NOT NULL, county TEXT NOT NULL,"
        " registered_on DATE NOT NULL, participant_category TEXT NOT NULL,"
        " education TEXT NOT NULL, major TEXT NOT NULL, employer TEXT,"
        " registered_position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS registrations_in_order"
        " ON {schema}.registrations (registered_position)",
        "CREATE INDEX IF NOT EXISTS registrations_of_county"
        " ON {schema}.registrations (county, registered_position)",
        "CREATE TABLE IF NOT EXISTS {schema}.retention ("
        " trainee_id UUID PRIMARY KEY, open_enrolments INT NOT NULL,"
        " last_activity_on DATE NOT NULL)",
        "CREATE INDEX IF NOT EXISTS retention_due"
        " ON {schema}.retention (last_activity_on) WHERE open_enrolments = 0",
        "CREATE TABLE IF NOT EXISTS {schema}.erasures ("
        " trainee_id UUID PRIMARY KEY, grounds TEXT NOT NULL, reason TEXT NOT NULL,"
        " erased_on DATE NOT NULL, erased_position BIGINT NOT NULL)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        return {
            Trainee.Registered: self._registered,
            Trainee.Enrolled: lambda rows, event: rows.add(
                "retention", {"trainee_id": event.originator_id}, {"open_enrolments": 1}
            ),
            Trainee.Withdrew: self._withdrew,
            Trainee.RegistrantAdded: lambda rows, event: rows.set(
                "retention",
                {"trainee_id": event.originator_id},
                {"last_activity_on": event.added_on},
            ),
            Trainee.Erased: self._erased,
        }

    @staticmethod
    def _registered(rows: Rows, event: Trainee.Registered) -> None:
        rows.insert(
            "retention",
            {
                "trainee_id": event.originator_id,
                "open_enrolments": 0,
                "last_activity_on": event.registered_on,
            },
        )
        if event.name is None:  # erased since (a rebuild): never listed again
            return
        rows.insert(
            "registrations",
            {
                "trainee_id": event.originator_id,
                "name": event.name,
                "county": event.county,
                "registered_on": event.registered_on,
                "participant_category": event.participant_category.value,
                "education": event.education.value,
                "major": event.major,
                "employer": event.employer,
                "registered_position": rows.position,
            },
        )

    @staticmethod
    def _withdrew(rows: Rows, event: Trainee.Withdrew) -> None:
        key = {"trainee_id": event.originator_id}
        rows.add("retention", key, {"open_enrolments": -1})
        rows.set("retention", key, {"last_activity_on": event.withdrawn_on})

    @staticmethod
    def _erased(rows: Rows, event: Trainee.Erased) -> None:
        for table in ("registrations", "retention"):
            rows.execute(
                f"DELETE FROM {{schema}}.{table} WHERE trainee_id = %s",
                (event.originator_id,),
                tables=[table],
            )
        rows.insert(
            "erasures",
            {
                "trainee_id": event.originator_id,
                "grounds": event.grounds.value,
                "reason": event.reason,
                "erased_on": event.erased_on,
                "erased_position": rows.position,
            },
        )


VIEWS = (Directory, Programmes, Registrations)
