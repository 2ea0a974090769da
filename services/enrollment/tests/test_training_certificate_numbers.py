"""Training certificate numbers from a PostgreSQL sequence per year: sequential, never reused
across a restart, continuing a year the retired register numbered, and drawn once per completion
however often it is repeated."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from enrollment_builders import (
    OFFLINE,
    ONLINE,
    PRACTICE,
    THEORY,
    a_programme,
    a_trainee,
    institution_staff,
    refusal,
)

from heze_common import clock
from heze_common.idempotency import IdempotencyKey, fingerprint
from heze_common.serials import MemorySerialNumbers, PostgresSerialNumbers
from heze_common.testing import InMemoryService, service_settings
from heze_enrollment.application import EnrollmentApplication
from heze_enrollment.commands import Complete
from heze_enrollment.domain.certificates import (
    TrainingCertificateRegister,
    training_certificate_number,
)
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import Institution
from heze_enrollment.main import definition, start
from heze_enrollment.settings import EnrollmentSettings

UPC = Institution.create_id("中国石油大学(华东)")  # seeded, may train big data
NOW = datetime(2026, 11, 27, 2, tzinfo=UTC)
STAFF = institution_staff(UPC)
people = iter(range(1, 500))


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def enrollment(database_url: str) -> Iterator[Callable[[], EnrollmentApplication]]:
    """Starts enrollment applications on one fresh database (a restart is a second start)."""
    settings = service_settings(EnrollmentSettings, database_url=database_url)
    started: list[EnrollmentApplication] = []

    def start_one() -> EnrollmentApplication:
        started.append(start(settings))
        return started[-1]

    yield start_one
    for application in started:
        application.close()


def ready_to_complete(app: EnrollmentApplication, programme_id: UUID | None = None) -> UUID:
    """A trainee who has done the hours and passed the exam of a (new) programme: its id."""
    programme = app.programme(programme_id) if programme_id else a_programme(institution_id=UPC)
    trainee = a_trainee(ResidentId.compose("371702", date(1995, 6, 15), 2 * next(people) + 1))
    trainee.enrol(programme, date(2026, 11, 2))
    programme.take_seat(trainee.id, date(2026, 11, 2))
    trainee.log_session(programme, date(2026, 11, 3), Decimal(8), THEORY, ONLINE)
    trainee.log_session(programme, date(2026, 11, 4), Decimal(4), PRACTICE, OFFLINE)
    trainee.record_exam(programme.id, Decimal(75))
    app.save(programme, trainee)  # the programme's events first, as the read models expect
    return trainee.id


def only_programme(app: EnrollmentApplication, trainee_id: UUID) -> UUID:
    (programme_id,) = app.trainee(trainee_id).enrolments
    return programme_id


def completion(trainee_id: UUID, programme_id: UUID) -> Complete:
    return Complete(principal=STAFF, trainee_id=trainee_id, programme_id=programme_id)


def complete(
    app: EnrollmentApplication,
    trainee_id: UUID,
    programme_id: UUID | None = None,
    key: IdempotencyKey | None = None,
) -> str:
    """The training certificate number the completion drew."""
    programme_id = programme_id or only_programme(app, trainee_id)
    trainee = app.handle(completion(trainee_id, programme_id), key)
    return trainee.enrolment(programme_id).certificate_number


def test_numbers_count_per_year_and_continue_after_a_restart(
    enrollment: Callable[[], EnrollmentApplication],
) -> None:
    before = enrollment()
    assert isinstance(before.serials, PostgresSerialNumbers)
    first, second = ready_to_complete(before), ready_to_complete(before)
    assert complete(before, first) == "HZPX2026-2021011-000001"
    assert complete(before, second) == "HZPX2026-2021011-000002"
    before.close()

    after = enrollment()
    third, next_year = ready_to_complete(after), ready_to_complete(after)
    assert complete(after, third) == "HZPX2026-2021011-000003"
    with clock.frozen_at(datetime(2027, 1, 4, 2, tzinfo=UTC)):
        assert complete(after, next_year) == ("HZPX2027-2021011-000001")


def test_a_repeated_completion_is_refused_before_it_draws_a_number(
    enrollment: Callable[[], EnrollmentApplication],
) -> None:
    app = enrollment()
    trainee_id = ready_to_complete(app)
    programme_id = only_programme(app, trainee_id)
    number = complete(app, trainee_id, programme_id)
    with refusal("already_completed"):
        complete(app, trainee_id, programme_id)
    short_of_hours = a_trainee(ResidentId.compose("371702", date(1996, 1, 1), 991))
    short_of_hours.enrol(app.programme(programme_id), date(2026, 11, 2))
    app.save(short_of_hours)
    with refusal("hours_not_met"):
        complete(app, short_of_hours.id, programme_id)
    assert app.trainee(trainee_id).enrolment(programme_id).certificate_number == number
    other = ready_to_complete(app)
    assert complete(app, other).endswith("-000002")  # none drawn


def test_a_keyed_retry_answers_the_first_number_and_draws_none(
    enrollment: Callable[[], EnrollmentApplication],
) -> None:
    app = enrollment()
    trainee_id = ready_to_complete(app)
    programme_id = only_programme(app, trainee_id)
    path = f"/programmes/{programme_id}/trainees/{trainee_id}/completion"
    key = IdempotencyKey(STAFF.actor, "complete-1", fingerprint("POST", path, b""))
    first = complete(app, trainee_id, programme_id, key)
    assert complete(app, trainee_id, programme_id, key) == first
    other = ready_to_complete(app)
    assert complete(app, other).endswith("-000002")


def test_a_year_numbered_by_the_retired_register_continues_after_its_last_number(
    enrollment: Callable[[], EnrollmentApplication],
) -> None:
    app = enrollment()
    register = TrainingCertificateRegister(year=2026)
    for serial in (1, 2):
        register.trigger_event(
            TrainingCertificateRegister.NumberIssued,
            number=training_certificate_number(2026, "2-02-10-11", serial),
            trainee_id=uuid4(),
            programme_id=uuid4(),
        )
    app.save(register)
    trainee_id = ready_to_complete(app)
    assert complete(app, trainee_id) == ("HZPX2026-2021011-000003")


def test_the_fast_tier_draws_from_memory(
    memory_service: Callable[..., InMemoryService],
) -> None:
    app = memory_service(definition, EnrollmentSettings).application
    assert isinstance(app.serials, MemorySerialNumbers)
    trainee_id = ready_to_complete(app)
    assert complete(app, trainee_id) == ("HZPX2026-2021011-000001")


def test_the_number_format_is_unchanged() -> None:
    assert training_certificate_number(2026, "2-02-10-11", 42) == "HZPX2026-2021011-000042"
    with pytest.raises(ValueError, match="counts from 1, got -1"):
        training_certificate_number(2026, "2-02-10-11", -1)
