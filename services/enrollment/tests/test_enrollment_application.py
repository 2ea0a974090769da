"""The enrollment service's application on the in-memory store (the fast tier): commands as its
HTTP endpoints run them, keyed (idempotent) commands, and the integration events its relay would
publish. Its read models are tables in PostgreSQL: test_views.py and test_lists.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from enrollment_builders import CITY_BUREAU, institution_staff, refusal, trainee_account

from heze_common import clock
from heze_common.auth import Principal
from heze_common.errors import NotFound, Refusal
from heze_common.events import EventContext, event_context
from heze_common.idempotency import IdempotencyKey, fingerprint
from heze_common.testing import InMemoryService
from heze_contracts.enums import Education, HourKind, HourMode, Level, ParticipantCategory
from heze_enrollment.commands import (
    Complete,
    Enrol,
    LogSession,
    PublishProgramme,
    RecordExam,
    RegisterTrainee,
    SetHourRequirement,
    Withdraw,
)
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import Institution
from heze_enrollment.domain.trainee import Trainee
from heze_enrollment.main import definition
from heze_enrollment.settings import EnrollmentSettings

UPC = Institution.create_id("中国石油大学(华东)")  # big data, blockchain
BIG_DATA = "2-02-10-11"
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def enrollment(memory_service: Callable[..., InMemoryService]) -> InMemoryService:
    service = memory_service(definition, EnrollmentSettings)
    service.application.handle(
        SetHourRequirement(
            principal=CITY_BUREAU,
            code=BIG_DATA,
            level=Level.JUNIOR,
            hours={HourKind.THEORY: Decimal(8), HourKind.PRACTICE: Decimal(4)},
            effective_from=date(2026, 1, 1),
        )
    )
    return service


STAFF = institution_staff(UPC)


def person(number: int, county: str = "牡丹区", **overrides: object) -> RegisterTrainee:
    """A trainee's own registration of themself (account `account-<number>`, their token
    vouching for their ID number)."""
    id_number = ResidentId.compose("371702", date(1995, 1, 1), 100 + 2 * number + 1)
    values: dict = dict(
        principal=trainee_account(f"account-{number}", id_number),
        name=f"测试学员{number}",
        id_number=id_number,
        sex=None,
        birth_date=None,
        phone="13800000000",
        education=Education.BACHELOR,
        major="数据科学与大数据技术",
        employer=None,
        county=county,
        participant_category=ParticipantCategory.GRADUATING_STUDENT,
        draws_pension=False,
        retirement_group=None,
    )
    values.update(overrides)
    return RegisterTrainee(**values)


def registered_by(institution: Principal, number: int, **overrides: object) -> RegisterTrainee:
    """An institution's registration of person `number`, with their consent."""
    return person(number, principal=institution, person_consents=True, **overrides)


def programme(service: InMemoryService, capacity: int = 30, **overrides: object) -> UUID:
    values: dict = dict(
        principal=STAFF,
        occupation_code=BIG_DATA,
        level=Level.JUNIOR,
        title="大数据工程技术人员（初级）第一期",
        capacity=capacity,
        starts_on=date(2026, 11, 1),
        ends_on=date(2027, 1, 31),
        required_hours=None,
        completion_pass_mark=Decimal(60),
        subsidised_plan=True,
        in_city_training_directory=False,
    )
    values.update(overrides)
    return service.application.handle(PublishProgramme(**values))


async def test_a_trainee_registered_enrolled_trained_and_completed_is_published_in_order(
    enrollment: InMemoryService,
) -> None:
    app = enrollment.application
    programme_id = programme(enrollment)
    trainee_id = app.handle(registered_by(STAFF, 1, name="王𠀀明"))
    app.handle(Enrol(principal=STAFF, trainee_id=trainee_id, programme_id=programme_id))
    for day, hours, kind, mode in (
        (date(2026, 11, 20), Decimal(8), HourKind.THEORY, HourMode.ONLINE),
        (date(2026, 11, 21), Decimal("4.0"), HourKind.PRACTICE, HourMode.OFFLINE),
    ):
        app.handle(
            LogSession(
                principal=STAFF,
                trainee_id=trainee_id,
                programme_id=programme_id,
                day=day,
                hours=hours,
                kind=kind,
                mode=mode,
            )
        )
    app.handle(
        RecordExam(
            principal=STAFF, trainee_id=trainee_id, programme_id=programme_id, score=Decimal("86.5")
        )
    )
    completed = app.handle(
        Complete(principal=STAFF, trainee_id=trainee_id, programme_id=programme_id)
    )
    certificate = completed.enrolments[programme_id].certificate_number
    assert certificate == "HZPX2026-2021011-000001"
    assert app.trainee(trainee_id).name == "王𠀀明"

    events = enrollment.published()
    mine = [e for e in events if e.subject_id == trainee_id]
    assert [e.event_type for e in mine] == [
        "TraineeRegistered",
        "TraineeEnrolled",
        "TrainingCompleted",
    ]
    assert [e.position for e in mine] == sorted(e.position for e in mine)
    for event in mine:
        assert event.producer.value == "enrollment"
        assert event.occurred_at == NOW
        assert event.correlation_id and event.causation_id is None
    registration, _, completion = (e.payload for e in mine)
    assert registration.model_dump(mode="json") == {  # no name, ID number or phone
        "trainee_id": str(trainee_id),
        "county": "牡丹区",
        "employed": False,
        "registered_on": "2026-11-27",
    }
    assert str(completion.hours_by_kind[HourKind.THEORY]) == "8.0"
    assert str(completion.hours_by_mode[HourMode.OFFLINE]) == "4.0"
    assert completion.training_certificate_number == certificate
    # The seeded directory and the programme are published too.
    assert {"InstitutionAccredited", "ProgrammePublished"} <= {e.event_type for e in events}


async def test_a_person_registering_again_is_told_their_id_and_an_institution_learns_nothing(
    enrollment: InMemoryService,
) -> None:
    app = enrollment.application
    first = app.handle(person(2))
    with pytest.raises(Refusal) as again:
        app.handle(person(2, name="另一个名字"))
    assert (again.value.code, again.value.field) == ("already_registered", "id_number")
    assert again.value.details == {"trainee_id": str(first)}
    # An institution gets the answer a new person's registration gets, and is added as the
    # person's registrant on its statement of their consent; the person's record stands.
    head = app.log_head()
    assert app.handle(registered_by(STAFF, 2, name="另一个名字")) == first
    assert app.handle(registered_by(STAFF, 2)) == first  # once a registrant, nothing more
    trainee = app.trainee(first)
    assert trainee.name == "测试学员2" and trainee.registrant_institution_ids == {UPC}
    added = [e for e in app.events.get(first) if isinstance(e, Trainee.RegistrantAdded)]
    assert [(e.institution_id, e.consent) for e in added] == [(UPC, True)]
    assert app.log_head() == head + 1
    newcomer = app.handle(registered_by(STAFF, 3))
    assert newcomer not in (first, None)


async def test_a_trainee_registers_only_the_identity_their_token_vouches_for(
    enrollment: InMemoryService,
) -> None:
    app = enrollment.application
    someone_else = person(12).id_number
    with refusal("identity_not_verified", "id_number"):
        app.handle(person(11, principal=trainee_account("account-11")))
    with refusal("identity_mismatch", "id_number"):
        app.handle(person(11, principal=trainee_account("account-11", someone_else)))
    with refusal("consent_required", "person_consents"):
        app.handle(person(11, principal=STAFF))
    assert not app.exists(app.trainee_id_for(person(11).id_number))  # nothing was stored
    app.handle(person(11))


async def test_programmes_outside_the_scope_and_full_programmes_are_refused(
    enrollment: InMemoryService,
) -> None:
    with refusal("outside_scope"):
        programme(enrollment, occupation_code="2-02-07-13", title="智能制造")
    programme_id = programme(enrollment, capacity=1)
    app = enrollment.application
    first, second = (app.handle(registered_by(STAFF, n)) for n in (5, 6))
    app.handle(Enrol(principal=STAFF, trainee_id=first, programme_id=programme_id))
    with refusal("programme_full"):
        app.handle(Enrol(principal=STAFF, trainee_id=second, programme_id=programme_id))
    app.handle(
        Withdraw(principal=STAFF, trainee_id=first, programme_id=programme_id, reason="工作调动")
    )
    # the withdrawal released the seat
    app.handle(Enrol(principal=STAFF, trainee_id=second, programme_id=programme_id))
    enrolled = [e for e in enrollment.published() if e.event_type == "TraineeEnrolled"]
    assert [e.subject_id for e in enrolled] == [first, second]


async def test_a_repeated_keyed_command_returns_the_first_outcome_and_stores_nothing_more(
    enrollment: InMemoryService,
) -> None:
    app = enrollment.application
    key = IdempotencyKey("trainee:account-7", "key-1", fingerprint("POST", "/trainees", b"{}"))

    def register() -> UUID:
        with event_context(EventContext(actor="trainee:account-7")):
            return app.handle(person(7), key)

    first = register()
    head = app.log_head()
    assert register() == first
    assert app.log_head() == head
    other = IdempotencyKey("trainee:account-7", "key-1", fingerprint("POST", "/trainees", b"{.}"))
    with refusal("idempotency_key_reused"):
        app.handle(person(8), other)


async def test_unknown_ids_are_not_found(enrollment: InMemoryService) -> None:
    with pytest.raises(NotFound) as unknown:
        enrollment.application.trainee(uuid4())
    assert unknown.value.code == "unknown_trainee"


async def test_the_application_checks_who_acts_on_whose_records(
    enrollment: InMemoryService,
) -> None:
    app = enrollment.application
    programme_id = programme(enrollment)
    trainee_id = app.handle(person(9))
    other_institution = institution_staff(Institution.create_id("菏泽学院"))
    with refusal("other_organisation"):
        app.handle(
            Enrol(principal=other_institution, trainee_id=trainee_id, programme_id=programme_id)
        )
    with refusal("not_your_trainee"):
        app.handle(
            Enrol(
                principal=trainee_account("account-10"),
                trainee_id=trainee_id,
                programme_id=programme_id,
            )
        )
    with refusal("not_your_trainee"):  # its own programme, but a person it did not register
        app.handle(Enrol(principal=STAFF, trainee_id=trainee_id, programme_id=programme_id))
    with refusal("other_organisation"):
        app.handle(
            RecordExam(
                principal=other_institution,
                trainee_id=trainee_id,
                programme_id=programme_id,
                score=Decimal(90),
            )
        )
    enrolled = app.handle(
        Enrol(
            principal=trainee_account("account-9"), trainee_id=trainee_id, programme_id=programme_id
        )
    )
    assert list(enrolled.enrolments) == [programme_id]
    assert app.readable_trainee(trainee_account("account-9"), trainee_id).id == trainee_id
    with refusal("not_your_trainee"):
        app.readable_trainee(trainee_account("account-10"), trainee_id)
