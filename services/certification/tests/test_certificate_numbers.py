"""Certificate numbers from the serial numbers beside the event store (a PostgreSQL sequence per
year and prefix): sequential, never reused across a restart or between concurrent issuers, and
drawn once per certificate however often its issuance is repeated."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from certification_builders import NATIONAL, PROVINCE, evaluation_institution
from eventsourcing.persistence import IntegrityError

from heze_certification.application import CertificationApplication
from heze_certification.commands import ApproveCase, ConfirmCase, IssueCertificate, ReportCase
from heze_certification.domain.case import CaseSubject, CertificateCase
from heze_certification.domain.register import CertificateRegister, certificate_number
from heze_certification.main import start
from heze_certification.settings import CertificationSettings
from heze_common import clock
from heze_common.errors import Refusal
from heze_common.idempotency import IdempotencyKey, fingerprint
from heze_common.serials import (
    MemorySerialNumbers,
    PostgresSerialNumbers,
    SerialNumbers,
    Series,
    serial_numbers_for,
)
from heze_common.testing import service_settings
from heze_contracts.enums import Field, Level

MANUFACTURING = "2-02-07-13"
NOW = datetime(2026, 9, 24, 2, tzinfo=UTC)
EVALUATION_INSTITUTION = uuid4()
ISSUER = evaluation_institution(EVALUATION_INSTITUTION)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def certification(database_url: str) -> Iterator[Callable[[], CertificationApplication]]:
    """Starts certification applications on one fresh database (a restart is a second start)."""
    settings = service_settings(CertificationSettings, database_url=database_url)
    started: list[CertificationApplication] = []

    def start_one() -> CertificationApplication:
        started.append(start(settings))
        return started[-1]

    yield start_one
    for application in started:
        application.close()


def approved_case(
    app: CertificationApplication, occupation_code: str = MANUFACTURING, level: Level = Level.JUNIOR
) -> UUID:
    subject = CaseSubject(
        trainee_id=uuid4(),
        application_id=uuid4(),
        evaluation_institution_id=EVALUATION_INSTITUTION,
        occupation_code=occupation_code,
        field=Field.INTELLIGENT_MANUFACTURING,
        level=level,
    )
    case = CertificateCase.open(subject, "唐三藏", date(2026, 9, 10))
    app.save(case)
    for step in (
        ReportCase(principal=ISSUER, case_id=case.id),
        ConfirmCase(principal=PROVINCE, case_id=case.id),
        ApproveCase(principal=NATIONAL, case_id=case.id),
    ):
        app.handle(step)
    return case.id


def issue(app: CertificationApplication, case_id: UUID) -> str:
    """Issue the case as its evaluation institution does; the number it drew."""
    return app.handle(IssueCertificate(principal=ISSUER, case_id=case_id)).certificate_number


def issued_events(app: CertificationApplication, case_id: UUID) -> list[Any]:
    return [e for e in app.events.get(case_id) if isinstance(e, CertificateCase.Issued)]


# On PostgreSQL --------------------------------------------------------------------------------


def test_the_serial_counts_per_year_across_occupations_and_levels(
    certification: Callable[[], CertificationApplication],
) -> None:
    app = certification()
    assert isinstance(app.serials, PostgresSerialNumbers)
    assert issue(app, approved_case(app)) == "HZSZ2026-2020713-J-000001"
    assert issue(app, approved_case(app, "2-02-10-11", Level.INTERMEDIATE)) == (
        "HZSZ2026-2021011-I-000002"
    )
    case_of_next_year = approved_case(app)
    with clock.frozen_at(datetime(2027, 1, 4, 2, tzinfo=UTC)):
        assert issue(app, case_of_next_year) == "HZSZ2027-2020713-J-000001"
    assert issue(app, approved_case(app, level=Level.SENIOR)) == "HZSZ2026-2020713-S-000003"


def test_series_of_other_prefixes_and_years_count_on_their_own(
    certification: Callable[[], CertificationApplication],
) -> None:
    serials = certification().serials
    drawn = [serials.draw(Series("HZSZ", 2026)) for _ in range(3)]
    assert drawn == [1, 2, 3]
    assert serials.draw(Series("HZSZ", 2027)) == 1
    assert serials.draw(Series("HZPX", 2026)) == 1
    assert serials.draw(Series("HZSZ", 2026)) == 4


def test_numbers_are_never_reused_after_a_restart(
    certification: Callable[[], CertificationApplication],
) -> None:
    before = certification()
    assert issue(before, approved_case(before)).endswith("-000001")
    before.serials.draw(Series("HZSZ", 2026))  # drawn, never issued: a gap
    before.close()
    after = certification()
    assert issue(after, approved_case(after)) == "HZSZ2026-2020713-J-000003"


def test_concurrent_issuers_on_one_database_never_get_the_same_serial(
    certification: Callable[[], CertificationApplication],
) -> None:
    """Two application instances (two replicas), two threads each, all opening the year's
    sequence at once and then drawing from it."""
    issuers = [certification().serials, certification().serials]
    start_together = threading.Barrier(4)

    def draw_many(serials: SerialNumbers) -> list[int]:
        start_together.wait()
        return [serials.draw(Series("HZSZ", 2026)) for _ in range(50)]

    with ThreadPoolExecutor(4) as pool:
        drawn = [n for run in pool.map(draw_many, issuers * 2) for n in run]
    assert sorted(drawn) == list(range(1, 201))


def test_a_repeated_issuance_is_refused_before_it_draws_a_number(
    certification: Callable[[], CertificationApplication],
) -> None:
    app = certification()
    case_id = approved_case(app)
    number = issue(app, case_id)
    with pytest.raises(Refusal) as again:
        issue(app, case_id)
    assert again.value.code == "wrong_stage"
    assert [e.certificate_number for e in issued_events(app, case_id)] == [number]
    assert issue(app, approved_case(app)).endswith("-000002")  # the repeat drew none


def test_a_keyed_retry_answers_the_first_number_and_draws_none(
    certification: Callable[[], CertificationApplication],
) -> None:
    app = certification()
    case_id = approved_case(app)
    key = IdempotencyKey(ISSUER.actor, "issue-1", fingerprint("POST", "/cases/x/issuance", b""))
    command = IssueCertificate(principal=ISSUER, case_id=case_id)
    first = app.handle(command, key).certificate_number
    assert app.handle(command, key).certificate_number == first
    assert issue(app, approved_case(app)).endswith("-000002")


class DrawThenWait(SerialNumbers):
    """Holds a drawn serial until the other issuer has drawn too, so both save after both drew."""

    def __init__(self, serials: SerialNumbers, barrier: threading.Barrier) -> None:
        self.serials, self.barrier = serials, barrier

    def draw(self, series: Series, **kwargs: Any) -> int:
        serial = self.serials.draw(series, **kwargs)
        self.barrier.wait()
        return serial


def test_a_race_to_issue_one_case_issues_one_number_and_skips_the_other(
    certification: Callable[[], CertificationApplication],
) -> None:
    """Two replicas issue the same case at once: both draw, one save wins, the other conflicts
    and its number is a gap; a retry of the loser is refused and draws nothing more."""
    first, second = certification(), certification()
    case_id = approved_case(first)
    both_drew = threading.Barrier(2)
    for app in (first, second):
        app.serials = DrawThenWait(app.serials, both_drew)

    def try_to_issue(app: CertificationApplication) -> str | Exception:
        try:
            return issue(app, case_id)
        except IntegrityError as conflict:
            return conflict

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(try_to_issue, (first, second)))
    numbers = [outcome for outcome in outcomes if isinstance(outcome, str)]
    assert len(numbers) == 1 and sum(isinstance(o, IntegrityError) for o in outcomes) == 1
    assert [e.certificate_number for e in issued_events(first, case_id)] == numbers
    assert first.case(case_id).certificate_number == numbers[0]

    loser = second if isinstance(outcomes[1], IntegrityError) else first
    loser.serials = serial_numbers_for(loser.recorder)
    with pytest.raises(Refusal):
        issue(loser, case_id)
    assert issue(loser, approved_case(loser)).endswith("-000003")  # 1 and 2 drawn, one a gap


def test_a_year_numbered_by_the_retired_register_continues_after_its_last_number(
    certification: Callable[[], CertificationApplication],
) -> None:
    app = certification()
    register = CertificateRegister(year=2026)
    for serial in (1, 2, 3):
        register.trigger_event(
            CertificateRegister.NumberIssued,
            number=certificate_number(2026, MANUFACTURING, Level.JUNIOR, serial),
            case_id=uuid4(),
        )
    app.save(register)
    assert issue(app, approved_case(app)) == "HZSZ2026-2020713-J-000004"
    with clock.frozen_at(datetime(2027, 1, 4, 2, tzinfo=UTC)):
        assert issue(app, approved_case(app)).endswith("-000001")  # no register that year


# Without infrastructure ------------------------------------------------------------------------


def test_the_number_format_is_unchanged() -> None:
    assert certificate_number(2026, MANUFACTURING, Level.JUNIOR, 1) == "HZSZ2026-2020713-J-000001"
    assert certificate_number(2026, "2-02-10-15", Level.SENIOR, 1234567) == (
        "HZSZ2026-2021015-S-1234567"
    )
    with pytest.raises(ValueError, match="counts from 1, got 0"):
        certificate_number(2026, MANUFACTURING, Level.JUNIOR, 0)


@pytest.mark.parametrize(
    ("prefix", "year", "message"),
    [
        ("hzsz", 2026, "2 to 8 capital letters, got 'hzsz'"),
        ("HZ SZ", 2026, "2 to 8 capital letters"),
        ("HZSZ", 226, "four digits, got 226"),
        ("HZSZ", 20260, "four digits, got 20260"),
    ],
)
def test_a_malformed_series_is_refused(prefix: str, year: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Series(prefix, year)


def test_memory_serials_count_per_series_and_ask_the_retired_count_once() -> None:
    serials = MemorySerialNumbers()
    asked: list[Series] = []

    def issued_before() -> int:
        asked.append(Series("HZSZ", 2026))
        return 41

    assert [serials.draw(Series("HZSZ", 2026), issued_before=issued_before) for _ in "ab"] == [
        42,
        43,
    ]
    assert serials.draw(Series("HZSZ", 2027)) == 1
    assert asked == [Series("HZSZ", 2026)]


def test_serials_need_a_store_they_can_live_beside() -> None:
    with pytest.raises(TypeError, match="no serial numbers beside an event store kept by object"):
        serial_numbers_for(object())
