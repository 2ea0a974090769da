"""The certification read models as tables on PostgreSQL (heze_certification.views): the tables
equal what the aggregates (and, for the deadlines, the log) say whatever the order of commands and
upstream facts; every list is paginated by keyset in log order; the deadline report counts each
deadline once; a reader sees its own write; Chinese names come back byte for byte; the watcher
and the auditors' trail find their cases in the views."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock
from uuid import UUID, uuid4

import psycopg
import pytest
from certification_builders import (
    CITY,
    NAME,
    NATIONAL,
    PROVINCE,
    TODAY,
    completed,
    evaluation_institution,
    next_step,
    passed,
    registered,
    voided,
)
from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.rows import dict_row

from heze_certification import consumers
from heze_certification.application import CertificationApplication
from heze_certification.commands import (
    FlagOutstanding,
    LoadCalendar,
    RejectCase,
    ReportCase,
    ReturnForCorrection,
)
from heze_certification.domain.case import CertificateCase
from heze_certification.domain.talent import TalentRecord
from heze_certification.main import definition, start
from heze_certification.settings import CertificationSettings
from heze_certification.views import VIEWS, CaseFinder
from heze_certification.watcher import record_overdue
from heze_common import clock
from heze_common.errors import Refusal
from heze_common.runtime import create_app
from heze_common.testing import Tokens, fresh_database, running, service_settings
from heze_common.views import LIVE, ViewUpdater
from heze_contracts import IntegrationEvent
from heze_contracts.enums import CertificateStage, Level, Role

NAMES = ("唐三藏", "欧阳𠮷", "沙和尚")  # 𠮷 lies outside the Basic Multilingual Plane
COUNTIES = ("东明县", "曹县", "牡丹区")
LEVELS = (Level.JUNIOR, Level.INTERMEDIATE, Level.SENIOR, Level.JUNIOR)
CALENDAR_2027 = (2027, [date(2027, 1, 1), date(2027, 1, 4)], [date(2027, 1, 9)])


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(TODAY):
        yield


# The tables equal a fold of the aggregates ------------------------------------------------------


@pytest.fixture
def app(database_url: str) -> Iterator[CertificationApplication]:
    application = start(service_settings(CertificationSettings, database_url=database_url))
    yield application
    application.close()


def saved(app: CertificationApplication, fact: IntegrationEvent) -> list[Any]:
    """An upstream fact applied as the consumer applies it (without its tracking record)."""
    changed = list(consumers.handlers(app)[type(fact)](fact))
    if changed:
        app.save(*changed)
    return changed


@dataclass
class World:
    """The people of one example: 3 trainees, 4 assessment results (result `a` is trainee
    `a % 3`'s, assessed by evaluator `a % 2`), 2 programmes."""

    trainees: list[UUID] = field(default_factory=lambda: [uuid4() for _ in range(3)])
    applications: list[UUID] = field(default_factory=lambda: [uuid4() for _ in range(4)])
    evaluators: list[UUID] = field(default_factory=lambda: [uuid4() for _ in range(2)])
    programmes: list[UUID] = field(default_factory=lambda: [uuid4() for _ in range(2)])
    opened: list[UUID] = field(default_factory=list)
    """Cases in the order they opened."""

    def case_id(self, n: int) -> UUID:
        """One of the cases opened so far (or one not open yet, when none is)."""
        if not self.opened:
            return CertificateCase.id_for(self.applications[n])
        return self.opened[n % len(self.opened)]

    def owner(self, a: int) -> UUID:
        return self.trainees[a % 3]


def act(
    app: CertificationApplication,
    updater: ViewUpdater,
    world: World,
    today: date,
    kind: str,
    n: int,
    m: int,
) -> None:
    t = world.trainees[n % 3]
    commands: dict[str, Callable[[], object]] = {
        "register": lambda: saved(
            app, registered(t, NAMES[n % 3], f"37170219900101{n % 3:03d}X", COUNTIES[n % 3])
        ),
        "complete": lambda: saved(
            app, completed(t, world.programmes[m % 2], today, Decimal("96.5") + m % 2)
        ),
        "pass": lambda: world.opened.extend(
            case.id
            for case in saved(
                app,
                passed(
                    world.owner(n),
                    world.applications[n],
                    world.evaluators[n % 2],
                    NAMES[n % 3],
                    LEVELS[n],
                    today - timedelta(days=m),
                ),
            )
        ),
        "void": lambda: saved(
            app, voided(world.owner(n), world.applications[n], world.evaluators[n % 2])
        ),
        "advance": lambda: advance(app, world.case_id(n)),
        "return": lambda: app.handle(
            ReturnForCorrection(
                principal=PROVINCE, case_id=world.case_id(n), reasons=["证书照片不清晰"]
            )
        ),
        "reject": lambda: app.handle(
            RejectCase(principal=NATIONAL, case_id=world.case_id(n), reasons=["评价记录不完整"])
        ),
        "flag": lambda: app.handle(
            FlagOutstanding(
                principal=CITY, trainee_id=t, contribution="主持完成市级智能工厂改造项目"
            )
        ),
        "watch": lambda: record_overdue(app, CaseFinder(app)),
        "calendar": lambda: app.handle(calendar_2027(provisional_cases(app, updater))),
        "catch_up": updater.catch_up,
    }
    try:
        commands[kind]()
    except Refusal:
        pass  # a step out of order, a case not open yet: refused, and nothing written


def advance(app: CertificationApplication, case_id: UUID) -> None:
    """The case's next step forward (report, confirm, approve or issue), whichever it awaits."""
    step = next_step(app.case(case_id))
    if step is not None:
        app.handle(step)


def calendar_2027(provisional: list[UUID]) -> LoadCalendar:
    """The province loads the 2027 calendar, the views' provisional cases handed in."""
    year, holidays, makeup_workdays = CALENDAR_2027
    return LoadCalendar(
        principal=PROVINCE,
        year=year,
        holidays=holidays,
        makeup_workdays=makeup_workdays,
        provisional=provisional,
    )


KINDS = (
    *["advance"] * 8,
    *["pass", "days"] * 3,
    *["register", "complete", "watch"] * 2,
    "void",
    "return",
    "reject",
    "flag",
    "calendar",
    "catch_up",
)


def query(app: CertificationApplication, statement: str, *params: object) -> list[dict[str, Any]]:
    with psycopg.connect(app.settings.database_url, row_factory=dict_row) as connection:
        return connection.execute(statement.replace("{schema}", f'"{LIVE}"'), params).fetchall()


def provisional_cases(app: CertificationApplication, updater: ViewUpdater) -> list[UUID]:
    """What the API hands the command: the views' provisional cases, caught up."""
    updater.catch_up()
    rows = query(app, "SELECT case_id FROM {schema}.cases WHERE due_is_provisional")
    return [row["case_id"] for row in rows]


def folded_cases(app: CertificationApplication, world: World) -> dict[UUID, dict[str, Any]]:
    folded = {}
    for case_id in world.opened:
        case = app.case(case_id)
        subject = case.subject
        folded[case_id] = {
            "trainee_id": subject.trainee_id,
            "application_id": subject.application_id,
            "evaluation_institution_id": subject.evaluation_institution_id,
            "occupation_code": subject.occupation_code,
            "field": subject.field.value,
            "level": subject.level.value,
            "holder_name": case.holder_name,
            "assessment_ended_on": case.assessment_ended_on,
            "status": case.status.value,
            "stage": case.stage.value if case.stage else None,
            "due_on": case.due_on,
            "due_is_provisional": case.due_is_provisional,
            "breached": case.due_on is not None and (case.stage, case.due_on) in case.breaches,
            "returns": case.returns,
            "certificate_number": case.certificate_number,
            "issued_on": case.issued_on,
        }
    return folded


def table_cases(app: CertificationApplication) -> dict[UUID, dict[str, Any]]:
    rows = query(app, "SELECT * FROM {schema}.cases")
    return {row.pop("case_id"): row for row in rows if row.pop("opened_position")}


DEADLINE_OPENED = {
    CertificateCase.Opened: CertificateStage.REPORT_TO_PROVINCE,
    CertificateCase.Reported: CertificateStage.PROVINCE_CONFIRMATION,
    CertificateCase.ProvinceReturned: CertificateStage.REPORT_TO_PROVINCE,
    CertificateCase.NationalApproved: CertificateStage.ISSUANCE,
    CertificateCase.NationalRejected: CertificateStage.REPORT_TO_PROVINCE,
}
DEADLINE_ENDED = {
    CertificateCase.Reported: "reported",
    CertificateCase.ProvinceConfirmed: "confirmed",
    CertificateCase.ProvinceReturned: "returned",
    CertificateCase.Issued: "issued",
    CertificateCase.Closed: "closed",
}


def folded_deadlines(app: CertificationApplication) -> dict[tuple[UUID, int], dict[str, Any]]:
    """Every deadline the log gave a case, keyed by (case, position of the event that set it),
    and how it ended: on the China date of the event that moved the case on, breached if the
    breach of that stage and due date came while it was open."""
    deadlines: dict[tuple[UUID, int], dict[str, Any]] = {}
    open_now: dict[UUID, dict[str, Any]] = {}
    start = 1
    while notifications := app.recorder.select_notifications(start, 1000):
        for notification in notifications:
            event = app.mapper.to_domain_event(notification)
            current = open_now.get(event.originator_id)
            if current is not None and type(event) in DEADLINE_ENDED:
                current["ended_on"] = (event.timestamp + timedelta(hours=8)).date()
                current["ended_by"] = DEADLINE_ENDED[type(event)]
                del open_now[event.originator_id]
            if current is not None and isinstance(event, CertificateCase.DeadlineBreached):
                if (event.stage.value, event.due_on) == (current["stage"], current["due_on"]):
                    current["breached"] = True
            if current is not None and isinstance(event, CertificateCase.DeadlineChanged):
                current.update(
                    due_on=event.due_on,
                    due_is_provisional=event.due_is_provisional,
                    breached=False,
                )
            if (stage := DEADLINE_OPENED.get(type(event))) is not None:
                opened = open_now[event.originator_id] = {
                    "evaluation_institution_id": event.subject.evaluation_institution_id,
                    "stage": stage.value,
                    "due_on": event.due_on,
                    "due_is_provisional": getattr(event, "due_is_provisional", False),
                    "ended_on": None,
                    "ended_by": None,
                    "breached": False,
                }
                deadlines[event.originator_id, notification.id] = opened
        start = notifications[-1].id + 1
    return deadlines


def table_deadlines(app: CertificationApplication) -> dict[tuple[UUID, int], dict[str, Any]]:
    return {
        (row.pop("case_id"), row.pop("opened_position")): row
        for row in query(app, "SELECT * FROM {schema}.deadlines")
    }


def folded_talent(app: CertificationApplication, world: World) -> dict[str, Any]:
    people, pool, hours, programmes = {}, {}, {}, {}
    for trainee_id in world.trainees:
        if not app.exists(TalentRecord.id_for(trainee_id)):
            continue
        record = app.talent_record(trainee_id)
        if record.name is not None:
            people[trainee_id] = (record.name, record.id_number)
        admitted = {
            number: (held.field.value, held.level.value)
            for number, held in record.certificates.items()
            if not held.revoked and number in record.admitted_with
        }
        if admitted:
            pool[trainee_id] = (record.county, admitted, record.outstanding_contribution)
        hours.update(
            {(trainee_id, year): of_year for year, of_year in record.hours_by_year.items()}
        )
        if record.credited_programmes:
            programmes[trainee_id] = record.credited_programmes
    return {"people": people, "pool": pool, "hours": hours, "programmes": programmes}


def folded_entries(app: CertificationApplication) -> dict[UUID, int]:
    """Each member's place in the pool: the log position of the admission by which they last
    entered it (holding no admitted certificate before)."""
    held: dict[UUID, set[str]] = {}
    entries: dict[UUID, int] = {}
    trainees: dict[UUID, UUID] = {}
    start = 1
    while notifications := app.recorder.select_notifications(start, 1000):
        for notification in notifications:
            event = app.mapper.to_domain_event(notification)
            numbers = held.setdefault(event.originator_id, set())
            if isinstance(event, TalentRecord.AdmittedToPool):
                if not numbers:
                    entries[event.originator_id] = notification.id
                numbers.add(event.certificate_number)
                trainees[event.originator_id] = event.trainee_id
            elif isinstance(event, TalentRecord.CertificateRevocationNoted):
                numbers.discard(event.number)
        start = notifications[-1].id + 1
    return {trainees[record]: entries[record] for record, numbers in held.items() if numbers}


def table_entries(app: CertificationApplication) -> dict[UUID, int]:
    return {
        row["trainee_id"]: row["entered_position"]
        for row in query(
            app,
            "SELECT trainee_id, entered_position FROM {schema}.talent_pool m WHERE EXISTS"
            " (SELECT FROM {schema}.pool_certificates c WHERE c.record_id = m.record_id)",
        )
    }


def table_talent(app: CertificationApplication, world: World) -> dict[str, Any]:
    of_record = {TalentRecord.id_for(t): t for t in world.trainees}
    people = {
        of_record[row["record_id"]]: (row["name"], row["id_number"])
        for row in query(app, "SELECT * FROM {schema}.people")
    }
    pool: dict[UUID, Any] = {}
    for row in query(
        app,
        "SELECT m.trainee_id, m.county, m.outstanding_contribution, c.certificate_number,"
        " c.field, c.level FROM {schema}.talent_pool m"
        " JOIN {schema}.pool_certificates c USING (record_id)",
    ):
        member = pool.setdefault(
            row["trainee_id"], (row["county"], {}, row["outstanding_contribution"])
        )
        member[1][row["certificate_number"]] = (row["field"], row["level"])
    credits = query(app, "SELECT * FROM {schema}.ce_credits")
    hours: dict[tuple[UUID, int], Decimal] = {}
    programmes: dict[UUID, set[UUID]] = {}
    for row in credits:
        key = (row["trainee_id"], row["year"])
        hours[key] = hours.get(key, Decimal(0)) + row["hours"]
        programmes.setdefault(row["trainee_id"], set()).add(row["programme_id"])
    return {"people": people, "pool": pool, "hours": hours, "programmes": programmes}


@contextmanager
def fresh_service(admin_dsn: str) -> Iterator[tuple[CertificationApplication, ViewUpdater]]:
    """The application and its views on a database of their own (one per example: the holiday
    calendars, once loaded, would otherwise leave later examples nothing provisional)."""
    with fresh_database(admin_dsn) as url:
        app = start(service_settings(CertificationSettings, database_url=url))
        try:
            yield app, ViewUpdater(app, [view() for view in VIEWS])
        finally:
            app.close()


@contextmanager
def admissions_recorded_before_they_said_whether_they_enter() -> Iterator[None]:
    """Admissions as older logs hold them, without `enters_pool`: the view asks its tables."""
    trigger = TalentRecord.trigger_event

    def unsaid(record: TalentRecord, event_class: Any, **values: Any) -> None:
        if event_class is TalentRecord.AdmittedToPool:
            values["enters_pool"] = None
        trigger(record, event_class, **values)

    with mock.patch.object(TalentRecord, "trigger_event", unsaid):
        yield


# Each example runs on a database of its own (about 2 s): 12 per mode keep the pair near 50 s.
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(KINDS), st.integers(0, 3), st.integers(0, 30)),
        min_size=25,
        max_size=60,
    )
)
@pytest.mark.parametrize("admissions", ["saying whether they enter", "as older logs hold them"])
def test_the_tables_equal_a_fold_of_the_aggregates_whatever_the_order_of_commands_and_facts(
    postgres_admin_dsn: str, admissions: str, steps: list[tuple[str, int, int]]
) -> None:
    older = admissions == "as older logs hold them"
    with (
        admissions_recorded_before_they_said_whether_they_enter() if older else nullcontext(),
        fresh_service(postgres_admin_dsn) as (app, updater),
    ):
        world = World()
        # From mid-December: reports made late in the month are due provisionally in 2027.
        now = datetime(2026, 12, 10, 2, tzinfo=UTC)
        for kind, n, m in steps:
            if kind == "days":
                now += timedelta(days=m % 10)
                continue
            with clock.frozen_at(now):
                act(app, updater, world, clock.today(), kind, n, m)
        assert updater.catch_up() == app.log_head()
        assert table_cases(app) == folded_cases(app, world)
        assert table_deadlines(app) == folded_deadlines(app)
        assert table_talent(app, world) == folded_talent(app, world)
        assert table_entries(app) == folded_entries(app)
        finder = CaseFinder(app)
        for trainee_id in world.trainees:  # the auditors' trail finds each trainee's cases
            mine = [c for c in world.opened if app.case(c).trainee_id == trainee_id]
            assert finder.cases_of(trainee_id) == mine
        assert updater.rebuild_and_switch().differences == []  # a replay makes the same tables


def test_the_watcher_finds_overdue_deadlines_in_the_views_and_records_each_once(
    app: CertificationApplication,
) -> None:
    ViewUpdater(app, [view() for view in VIEWS])
    evaluator = uuid4()
    late = [
        saved(app, passed(uuid4(), uuid4(), evaluator))[0].id for _ in range(3)
    ]  # assessed on 10 September: reports due on 10 October
    recent = saved(app, passed(uuid4(), uuid4(), evaluator, ended_on=date(2026, 10, 1)))[0].id
    finder = CaseFinder(app)
    with clock.frozen_at(datetime(2026, 10, 20, 2, tzinfo=UTC)):
        assert finder.overdue_unrecorded(clock.today()) == late
        assert [record_overdue(app, finder) for _ in range(3)] == [3, 0, 0]
        assert finder.overdue_unrecorded(clock.today()) == []  # recorded: not loaded again
        report = ReportCase(principal=evaluation_institution(evaluator), case_id=late[0])
        app.handle(report)  # a new deadline, not breached yet
    with clock.frozen_at(datetime(2026, 11, 20, 2, tzinfo=UTC)):
        assert finder.overdue_unrecorded(clock.today()) == [late[0], recent]
        assert record_overdue(app, finder) == 2


# Through HTTP -----------------------------------------------------------------------------------


def application_of(service: FastAPI) -> CertificationApplication:
    return service.state.application  # type: ignore[no-any-return]


async def opened(service: FastAPI, evaluator: UUID) -> UUID:
    """A case opened by an assessment pass, as the consumer opens it."""
    app = application_of(service)
    fact = passed(uuid4(), uuid4(), evaluator)
    (case,) = await asyncio.to_thread(saved, app, fact)
    return case.id  # type: ignore[no-any-return]


async def certified(
    service: FastAPI, county: str = "东明县", *, name: str = NAME, level: Level = Level.JUNIOR
) -> tuple[UUID, str]:
    """A registered trainee with an issued certificate (in the pool): their id and number."""
    app, trainee_id = application_of(service), uuid4()

    def issue() -> str:
        saved(app, registered(trainee_id, name, county=county))
        fact = passed(trainee_id, uuid4(), uuid4(), name, level)
        (issued,) = saved(app, fact)
        while (step := next_step(issued)) is not None:  # report, confirm, approve, issue
            issued = app.handle(step)
        return issued.certificate_number

    return trainee_id, await asyncio.to_thread(issue)


async def walk(
    client: AsyncClient, path: str, headers: dict[str, str], key: str, **params: Any
) -> list[list[str]]:
    """The pages of a list, two items each, following `Link: rel="next"` to the last."""
    pages = []
    response = await client.get(path, params={"limit": 2, **params}, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        pages.append([item[key] for item in response.json()])
        if "next" not in response.links:
            return pages
        following = response.links["next"]["url"]
        assert f"after={pages[-1][-1]}" in following and "limit=2" in following
        response = await client.get(following, headers=headers)


async def assert_cursor_and_limits(
    client: AsyncClient, path: str, headers: dict[str, str], unknown: UUID
) -> None:
    response = await client.get(path, params={"after": str(unknown)}, headers=headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("unknown_cursor", "after")
    for limit, status in ((0, 422), (1, 200), (500, 200), (501, 422)):
        response = await client.get(path, params={"limit": limit}, headers=headers)
        assert response.status_code == status, (limit, response.text)


async def test_cases_are_listed_in_opening_order_in_pages_that_link_to_the_next(
    service: FastAPI, client: AsyncClient, tokens: Tokens
) -> None:
    evaluator, other = uuid4(), uuid4()
    mine = [await opened(service, evaluator) for _ in range(3)]
    theirs = await opened(service, other)
    province = tokens(Role.PROVINCIAL_DEPARTMENT)
    ids = [str(case_id) for case_id in [*mine, theirs]]
    assert await walk(client, "/cases", province, "case_id") == [ids[:2], ids[2:]]
    me = tokens(Role.EVALUATION_INSTITUTION, evaluator)
    assert await walk(client, "/cases", me, "case_id") == [ids[:2], ids[2:3]]
    assert await walk(
        client, "/cases", province, "case_id", evaluation_institution_id=str(other)
    ) == [ids[3:]]
    await assert_cursor_and_limits(client, "/cases", province, uuid4())

    # The view shows what the aggregate shows, item for item.
    listed = (await client.get("/cases", params={"after": ids[2]}, headers=province)).json()
    assert listed == [(await client.get(f"/cases/{theirs}", headers=province)).json()]


async def test_cases_are_listed_by_status_and_newest_first_in_pages_that_keep_the_query(
    service: FastAPI, client: AsyncClient, tokens: Tokens
) -> None:
    evaluator, other = uuid4(), uuid4()
    opened_in_order = [
        await opened(service, owner) for owner in (evaluator, other, evaluator, evaluator, other)
    ]
    ids = [str(case_id) for case_id in opened_in_order]
    mine = [ids[0], ids[2], ids[3]]
    me = tokens(Role.EVALUATION_INSTITUTION, evaluator)
    for case_id, owner in ((ids[2], evaluator), (ids[4], other)):  # to the province's queue
        reported = await client.post(
            f"/cases/{case_id}/report", headers=tokens(Role.EVALUATION_INSTITUTION, owner)
        )
        assert reported.json()["status"] == "awaiting_confirmation", reported.text
    province = tokens(Role.PROVINCIAL_DEPARTMENT)

    async def listed(headers: dict[str, str], **params: Any) -> list[str]:
        response = await client.get("/cases", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [case["case_id"] for case in response.json()]

    assert await listed(province, status="awaiting_confirmation") == [ids[2], ids[4]]
    assert await listed(province, status="awaiting_report") == [ids[0], ids[1], ids[3]]
    assert await listed(province, status="awaiting_approval") == []
    assert await listed(province, order="newest") == ids[::-1]
    assert await listed(province, order="opened") == ids  # the default's name
    assert await listed(province, order="newest", status="awaiting_report") == [
        ids[3],
        ids[1],
        ids[0],
    ]
    # An evaluation institution reads only its own, in a status and newest first too.
    assert await listed(me, status="awaiting_confirmation") == [ids[2]]
    assert await listed(me, order="newest") == mine[::-1]
    assert await listed(province, order="newest", evaluation_institution_id=str(other)) == [
        ids[4],
        ids[1],
    ]
    # A trainee only their own.
    trainee_id = (await client.get(f"/cases/{ids[4]}", headers=province)).json()["trainee_id"]
    holder = tokens(Role.TRAINEE, subject=trainee_id)
    assert await listed(holder, status="awaiting_confirmation", order="newest") == [ids[4]]
    assert await listed(holder, status="awaiting_report") == []

    # Newest first, page after page, the next page's link keeping the order and the status.
    assert await walk(client, "/cases", province, "case_id", order="newest") == [
        [ids[4], ids[3]],
        [ids[2], ids[1]],
        [ids[0]],
    ]
    assert await walk(client, "/cases", me, "case_id", order="newest") == [
        [ids[3], ids[2]],
        [ids[0]],
    ]
    pages, query = [], {"limit": 1, "order": "newest", "status": "awaiting_report"}
    response = await client.get("/cases", params=query, headers=province)
    while True:
        assert response.status_code == 200, response.text
        pages.append([case["case_id"] for case in response.json()])
        if "next" not in response.links:
            break
        following = response.links["next"]["url"]
        assert "order=newest" in following and "status=awaiting_report" in following
        assert "limit=1" in following and f"after={pages[-1][-1]}" in following
        response = await client.get(following, headers=province)
    assert pages == [[ids[3]], [ids[1]], [ids[0]]]  # each once, none missing
    # From a cursor: the rows beyond it in the order asked.
    assert await listed(province, order="newest", after=ids[2]) == [ids[1], ids[0]]
    assert await listed(province, after=ids[2]) == [ids[3], ids[4]]

    for params, named in (({"status": "pending"}, "status"), ({"order": "oldest"}, "order")):
        refused = await client.get("/cases", params=params, headers=province)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["field"]) == ("invalid_request", named)


async def test_overdue_cases_are_listed_in_opening_order_in_pages(
    service: FastAPI, client: AsyncClient, tokens: Tokens
) -> None:
    evaluator = uuid4()
    late = [await opened(service, evaluator) for _ in range(3)]  # reports due on 10 October
    await opened(service, uuid4())  # another institution's, late too
    auditor = tokens(Role.AUDITOR)
    with clock.frozen_at(datetime(2026, 10, 20, 2, tzinfo=UTC)):
        await client.post(
            f"/cases/{late[1]}/report", headers=tokens(Role.EVALUATION_INSTITUTION, evaluator)
        )  # now due for confirmation on 3 November: no longer late
        ids = [str(late[0]), str(late[2])]
        pages = await walk(
            client,
            "/deadlines/overdue",
            auditor,
            "case_id",
            evaluation_institution_id=str(evaluator),
        )
        assert pages == [ids]
        overdue = (
            await client.get(
                "/deadlines/overdue",
                params={"evaluation_institution_id": str(evaluator), "stage": "report_to_province"},
                headers=auditor,
            )
        ).json()
        assert [(o["case_id"], o["due_on"], o["days_late"]) for o in overdue] == [
            (case_id, "2026-10-10", 10) for case_id in ids
        ]
        assert (
            await client.get("/deadlines/overdue", params={"stage": "issuance"}, headers=auditor)
        ).json() == []
        await assert_cursor_and_limits(client, "/deadlines/overdue", auditor, uuid4())


def at(day: str, hour: int = 2) -> AbstractContextManager[None]:
    """The clock frozen on a day, at `hour` UTC (02:00 UTC is 10:00 in China)."""
    return clock.frozen_at(datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC))


@pytest.fixture
def unwatched(certification_settings: CertificationSettings) -> FastAPI:
    """The service with its deadline watcher asleep: breaches are recorded when a test says."""
    settings = certification_settings.model_copy(update={"deadline_watch_seconds": 3600.0})
    return create_app(definition(settings))


def void_case(app: CertificationApplication, case_id: UUID) -> None:
    subject = app.case(case_id).subject
    saved(
        app, voided(subject.trainee_id, subject.application_id, subject.evaluation_institution_id)
    )


async def test_the_deadline_report_counts_each_deadline_once_per_stage(
    unwatched: FastAPI, tokens: Tokens
) -> None:
    """Deadlines met (on the due day too, a province's return included), missed (ended late, or
    closed after the due date), breached and still open, open within; a return restarts the
    report stage with a deadline of its own; a case closed in time is withdrawn."""
    evaluator = uuid4()
    me = tokens(Role.EVALUATION_INSTITUTION, evaluator)
    province, national = tokens(Role.PROVINCIAL_DEPARTMENT), tokens(Role.NATIONAL_OFFICE)
    city = tokens(Role.CITY_BUREAU)

    async with running(unwatched) as client:
        app = application_of(unwatched)

        async def report(**params: str) -> dict[str, tuple[int, ...]]:
            response = await client.get("/reports/deadlines", params=params, headers=city)
            assert response.status_code == 200, response.text
            return {
                line["stage"]: tuple(
                    line[count]
                    for count in ("met", "overdue", "open_within", "open_overdue", "withdrawn")
                )
                for line in response.json()
            }

        async def step(case_id: UUID, action: str, headers: dict[str, str], **body: Any) -> None:
            done = await client.post(
                f"/cases/{case_id}/{action}", headers=headers, json=body or None
            )
            assert done.status_code == 200, done.text

        # Assessed on 10 September: each report is due on 10 October.
        done_in_time, returned, breached, closed_late = [
            await opened(unwatched, evaluator) for _ in range(4)
        ]
        await step(done_in_time, "report", me)  # 24 September: confirmation due 15 October
        await step(returned, "report", me)
        with at("2026-09-30"):  # answered in time; the report is due again, on 30 October
            await step(returned, "return", province, reasons=["证书照片不清晰"])
        with at("2026-10-10", hour=15):  # 23:00 in China on the due day: not late yet
            assert (await report())["report_to_province"] == (2, 0, 3, 0, 0)
        with at("2026-10-10", hour=16):  # 00:00 on 11 October in China: late
            assert (await report())["report_to_province"] == (2, 0, 1, 2, 0)
        with at("2026-10-15"):  # on its due day
            await step(done_in_time, "confirmation", province)
        with at("2026-10-16"):  # issuance due on 15 November
            await step(done_in_time, "approval", national)
        with at("2026-11-20"):
            await step(done_in_time, "issuance", me)  # five days late, no breach recorded
            # The watcher's round: breached, closed_late and the second round of returned.
            assert await asyncio.to_thread(record_overdue, app, CaseFinder(app)) == 3
            await asyncio.to_thread(void_case, app, closed_late)  # after its breach
            # Assessed on 10 November: reports due on 10 December; one case closed in time.
            later = uuid4()
            for _ in range(2):
                fact = passed(uuid4(), uuid4(), later, ended_on=date(2026, 11, 10))
                (withdrawn,) = await asyncio.to_thread(saved, app, fact)
            await asyncio.to_thread(void_case, app, withdrawn.id)

            counts = await report()
            assert counts == {
                # done_in_time and the first round of returned met it; closed_late ended late;
                # one of the later two is open within, the other withdrawn; open past it:
                # breached and the second round of returned
                "report_to_province": (2, 1, 1, 2, 1),
                "province_confirmation": (2, 0, 0, 0, 0),  # confirmed on the due day; returned
                "issuance": (0, 1, 0, 0, 0),
            }
            assert list(counts) == [
                "report_to_province",
                "province_confirmation",
                "issuance",
            ]  # in the order a case meets them; the national review has no deadline
            rounds = query(
                app,
                "SELECT stage, due_on, ended_on, ended_by, breached FROM {schema}.deadlines"
                " WHERE case_id = %s ORDER BY opened_position",
                returned,
            )
            assert [tuple(row.values()) for row in rounds] == [
                ("report_to_province", date(2026, 10, 10), date(2026, 9, 24), "reported", False),
                ("province_confirmation", date(2026, 10, 15), date(2026, 9, 30), "returned", False),
                ("report_to_province", date(2026, 10, 30), None, None, True),
            ]
            (late,) = query(
                app,
                "SELECT ended_on, ended_by, breached FROM {schema}.deadlines"
                " WHERE case_id = %s AND stage = 'issuance'",
                done_in_time,
            )
            assert late == {"ended_on": date(2026, 11, 20), "ended_by": "issued", "breached": False}
            assert [
                row["breached"]
                for row in query(
                    app, "SELECT breached FROM {schema}.deadlines WHERE case_id = %s", breached
                )
            ] == [True]

            # Only the deadlines due in the period.
            assert await report(**{"from": "2026-10-11", "to": "2026-11-30"}) == {
                "report_to_province": (0, 0, 0, 1, 0),
                "province_confirmation": (2, 0, 0, 0, 0),
                "issuance": (0, 1, 0, 0, 0),
            }
            assert (await report(**{"from": "2026-12-01"}))["report_to_province"] == (0, 0, 1, 0, 1)
            assert (await report(to="2026-10-10"))["report_to_province"] == (2, 1, 0, 1, 0)
            assert (await report(**{"from": "2026-10-10", "to": "2026-10-10"})) == await report(
                to="2026-10-10"
            )
            assert set((await report(to="2026-01-01")).values()) == {(0, 0, 0, 0, 0)}

            for params, named, code in (
                ({"from": "2026-13-01"}, "from", "invalid_request"),
                ({"to": "2026-02-30"}, "to", "invalid_request"),
                ({"from": "0"}, "from", "invalid_request"),
                ({"from": "2026-12-01", "to": "2026-11-30"}, "to", "invalid_range"),
            ):
                refused = await client.get("/reports/deadlines", params=params, headers=city)
                assert refused.status_code == 422, refused.text
                error = refused.json()["error"]
                assert (error["code"], error["field"]) == (code, named), params

            # Counts only: the province, the national office and the auditors read them too;
            # an evaluation institution and a trainee do not.
            for role in (Role.PROVINCIAL_DEPARTMENT, Role.NATIONAL_OFFICE, Role.AUDITOR):
                answer = await client.get("/reports/deadlines", headers=tokens(role))
                assert (
                    answer.status_code == 200
                    and answer.json()
                    == (await client.get("/reports/deadlines", headers=city)).json()
                )
            for headers in (me, tokens(Role.TRAINEE, subject=str(uuid4()))):
                refused = await client.get("/reports/deadlines", headers=headers)
                assert (refused.status_code, refused.json()["error"]["code"]) == (
                    403,
                    "role_not_allowed",
                )


async def test_the_talent_pool_is_listed_in_order_of_entry_in_pages(
    service: FastAPI, client: AsyncClient, tokens: Tokens
) -> None:
    county = "曹县"
    members = [await certified(service, county) for _ in range(3)]
    elsewhere, _ = await certified(service, "东明县")
    senior, _ = await certified(service, county, level=Level.SENIOR)
    city = tokens(Role.CITY_BUREAU)
    ids = [str(trainee_id) for trainee_id, _ in members] + [str(senior)]
    assert await walk(client, "/talent-pool", city, "trainee_id", county=county) == [
        ids[:2],
        ids[2:],
    ]
    assert await walk(client, "/talent-pool", city, "trainee_id") == [
        ids[:2],
        [ids[2], str(elsewhere)],
        ids[3:],
    ]
    assert await walk(
        client, "/talent-pool", city, "trainee_id", county=county, level="senior"
    ) == [ids[3:]]
    entry = (
        await client.get("/talent-pool", params={"county": county, "limit": 1}, headers=city)
    ).json()
    assert entry == [
        {
            "trainee_id": ids[0],
            "county": county,
            "certificates": {members[0][1]: ["intelligent_manufacturing", "junior"]},
            "outstanding_contribution": None,
            "peony_card_priority": False,
        }
    ]
    never_certified = uuid4()
    await assert_cursor_and_limits(client, "/talent-pool", city, never_certified)

    # A member whose certificate is revoked leaves the pool; a cursor naming them still works.
    await asyncio.to_thread(revoke, application_of(service), members[0][0])
    assert await walk(client, "/talent-pool", city, "trainee_id", county=county) == [
        ids[1:3],
        ids[3:],
    ]
    after_leaver = await client.get(
        "/talent-pool", params={"county": county, "after": ids[0]}, headers=city
    )
    assert [m["trainee_id"] for m in after_leaver.json()] == ids[1:]


def revoke(app: CertificationApplication, trainee_id: UUID) -> None:
    """Void the assessment behind the trainee's only certificate."""
    (case_id,) = CaseFinder(app).cases_of(trainee_id)
    subject = app.case(case_id).subject
    fact = voided(trainee_id, subject.application_id, subject.evaluation_institution_id)
    saved(app, fact)


async def test_a_reader_sees_its_own_write_at_once(
    service: FastAPI, client: AsyncClient, tokens: Tokens
) -> None:
    evaluator = uuid4()
    case_id = await opened(service, evaluator)
    me = tokens(Role.EVALUATION_INSTITUTION, evaluator)
    reported = await client.post(f"/cases/{case_id}/report", headers=me)
    assert reported.status_code == 200, reported.text
    (listed,) = (await client.get("/cases", headers=me)).json()
    assert listed["status"] == "awaiting_confirmation" and listed == reported.json()

    trainee_id, _ = await certified(service)
    city = tokens(Role.CITY_BUREAU)
    flagged = await client.post(
        f"/talent-pool/{trainee_id}/outstanding",
        json={"contribution": "主持完成市级智能工厂改造项目"},
        headers=city,
    )
    assert flagged.status_code == 200, flagged.text
    (member,) = (await client.get("/talent-pool", headers=city)).json()
    assert (member["outstanding_contribution"], member["peony_card_priority"]) == (
        "主持完成市级智能工厂改造项目",
        True,
    )


async def test_chinese_names_round_trip_byte_exact(
    service: FastAPI, client: AsyncClient, tokens: Tokens
) -> None:
    name = "欧阳𠮷"  # 𠮷 (U+20BB7) is four bytes in UTF-8
    trainee_id, number = await certified(service, name=name)
    app = application_of(service)
    await asyncio.to_thread(saved, app, completed(trainee_id, uuid4(), date(2026, 7, 1)))
    auditor = tokens(Role.AUDITOR)
    (case_id,) = await asyncio.to_thread(CaseFinder(app).cases_of, trainee_id)
    case = (await client.get(f"/cases/{case_id}", headers=auditor)).json()
    (listed,) = [c for c in (await client.get("/cases", headers=auditor)).json() if c == case]
    assert listed["holder_name"].encode() == name.encode()

    verify = "/public/certificates/verify"
    assert (await client.get(verify, params={"number": number, "name": name})).json()[
        "status"
    ] == "valid"
    assert (await client.get(verify, params={"number": number, "name": "欧阳吉"})).json()[
        "status"
    ] == "unknown"  # a look-alike name is another name

    city = tokens(Role.CITY_BUREAU)
    credits = (await client.get("/continuing-education/2026", headers=city)).json()
    (line,) = [c for c in credits if c["trainee_id"] == str(trainee_id)]
    assert (line["name"].encode(), line["hours"]) == (name.encode(), "128.0")
    csv = await client.get("/continuing-education/2026", params={"format": "csv"}, headers=city)
    assert name.encode() in csv.content


async def test_certificates_are_found_by_number_and_trainees_trails_hold_their_cases(
    service: FastAPI, client: AsyncClient, tokens: Tokens
) -> None:
    trainee_id, number = await certified(service)
    app = application_of(service)
    auditor = tokens(Role.AUDITOR)
    found = (await client.get(f"/audit/lookup/certificate/{number}", headers=auditor)).json()
    (case_id,) = await asyncio.to_thread(CaseFinder(app).cases_of, trainee_id)
    assert found == {"trainee_id": str(trainee_id), "case_id": str(case_id)}
    unknown = await client.get("/audit/lookup/certificate/HZSZ2026-0-J-9", headers=auditor)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_certificate")

    trail = (await client.get(f"/audit/trail/{trainee_id}", headers=auditor)).json()
    aggregates = {event["aggregate_id"] for event in trail}
    assert aggregates == {str(case_id), str(TalentRecord.id_for(trainee_id))}


async def test_a_pass_delivered_again_lists_one_case_and_a_rebuild_agrees_with_the_live_views(
    service: FastAPI, client: AsyncClient, tokens: Tokens
) -> None:
    evaluator, trainee_id, application_id = uuid4(), uuid4(), uuid4()
    app = application_of(service)
    fact = passed(trainee_id, application_id, evaluator)
    for _ in range(2):  # the second finds the case open and changes nothing
        await asyncio.to_thread(saved, app, fact)
    me = tokens(Role.EVALUATION_INSTITUTION, evaluator)
    assert [c["case_id"] for c in (await client.get("/cases", headers=me)).json()] == [
        str(CertificateCase.id_for(application_id))
    ]
    await certified(service)
    rebuilt = (await client.post("/audit/read-models/rebuild", headers=tokens(Role.AUDITOR))).json()
    assert (rebuilt["differences"], rebuilt["switched"]) == ([], True)
    assert rebuilt["read_models"] == ["Cases", "Deadlines", "TalentBase"]
