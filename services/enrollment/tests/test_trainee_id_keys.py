"""The trainee-id key derives a trainee's id from their ID number and is used for nothing else:
it is not the event store's cipher key, and rotating it (a new key, the old one retired) keeps
every registered person's id, on a real PostgreSQL."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from enrollment_builders import refusal, trainee_account

from heze_common import clock
from heze_common.testing import service_settings
from heze_contracts.enums import Education, ParticipantCategory
from heze_enrollment.application import EnrollmentApplication, derived_id
from heze_enrollment.commands import RegisterTrainee
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.main import start
from heze_enrollment.settings import EnrollmentSettings

FIRST_KEY = base64.b64encode(b"the first trainee-id key, 32 by.").decode()
SECOND_KEY = base64.b64encode(b"the second trainee-id key, 32 by").decode()


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(datetime(2026, 11, 27, 2, tzinfo=UTC)):
        yield


def registration(number: int) -> RegisterTrainee:
    id_number = ResidentId.compose("371702", date(1993, 4, 4), 2 * number + 1)
    return RegisterTrainee(
        principal=trainee_account(f"account-{number}", id_number),
        name=f"钥匙测试{number}",
        id_number=id_number,
        sex=None,
        birth_date=None,
        phone="13800000000",
        education=Education.BACHELOR,
        major="软件工程",
        employer=None,
        county="牡丹区",
        participant_category=ParticipantCategory.GRADUATING_STUDENT,
        draws_pension=False,
        retirement_group=None,
    )


def application(database_url: str, **keys: object) -> EnrollmentApplication:
    return start(service_settings(EnrollmentSettings, database_url=database_url, **keys))


def test_rotating_the_trainee_id_key_changes_no_ones_id(database_url: str) -> None:
    before = application(database_url, trainee_id_key=FIRST_KEY)
    first = before.handle(registration(1))
    assert first == derived_id(FIRST_KEY.encode(), registration(1).id_number)
    before.close()

    after = application(
        database_url, trainee_id_key=SECOND_KEY, retired_trainee_id_keys=FIRST_KEY
    )
    assert after.trainee_id_for(registration(1).id_number) == first
    assert after.trainee(first).name == "钥匙测试1"
    with refusal("already_registered", "id_number"):  # found under the retired key
        after.handle(registration(1))
    second = after.handle(registration(2))  # a newcomer's id comes from the new key
    assert second == derived_id(SECOND_KEY.encode(), registration(2).id_number)
    assert second != derived_id(FIRST_KEY.encode(), registration(2).id_number)
    after.close()


def test_the_trainee_id_key_is_not_the_cipher_key(database_url: str) -> None:
    app = application(database_url)  # embedded: a key file of its own under the data folder
    settings = app.settings
    assert isinstance(settings, EnrollmentSettings)
    [id_key] = settings.trainee_id_keys()
    assert id_key != settings.resolved_cipher_key().encode()
    trainee_id = app.handle(registration(3))
    assert trainee_id == derived_id(id_key, registration(3).id_number)
    assert trainee_id != derived_id(
        settings.resolved_cipher_key().encode(), registration(3).id_number
    )
    app.close()


def test_a_malformed_trainee_id_key_stops_the_service_naming_it(database_url: str) -> None:
    with pytest.raises(ValueError, match="RETIRED_TRAINEE_ID_KEYS\\[1\\]"):
        application(database_url, trainee_id_key=FIRST_KEY, retired_trainee_id_keys=f"{FIRST_KEY},short")
