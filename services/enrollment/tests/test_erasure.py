"""Erasing a person, on the city bureau's decision or at the end of the retention period,
against PostgreSQL and the broker: afterwards nothing the service holds yields their name, ID
number or phone, and everyone else is untouched."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import psycopg
import pytest
from httpx import AsyncClient

from heze_common import clock
from heze_common.auth import Principal
from heze_common.service_calls import ServiceCaller
from heze_common.signing import EmbeddedKeyring
from heze_common.testing import Tokens, eventually, read_topic
from heze_contracts import parse_event
from heze_contracts.enums import Role
from heze_enrollment.application import EnrollmentApplication
from heze_enrollment.commands import EraseTrainee
from heze_enrollment.domain.counties import county_id
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import Institution
from heze_enrollment.domain.trainee import Trainee
from heze_enrollment.retention import RetentionFinder, sweep
from heze_enrollment.settings import EnrollmentSettings

UPC = Institution.create_id("中国石油大学(华东)")
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


def person(number: int, name: str) -> dict:
    return {
        "name": name,
        "id_number": ResidentId.compose("371702", date(1995, 1, 1), 300 + 2 * number + 1),
        "phone": f"1390000{number:04d}",
        "education": "bachelor",
        "major": "数据科学与大数据技术",
        "employer": f"菏泽{name}科技有限公司",
        "county": "牡丹区",
        "participant_category": "graduating_student",
    }


async def register(client: AsyncClient, tokens: Tokens, body: dict) -> tuple[str, dict]:
    me = tokens.trainee_verified_as(body["id_number"], subject=f"account-{body['id_number'][-4:]}")
    answer = await client.post("/trainees", json=body, headers=me)
    assert answer.status_code == 201, answer.text
    return answer.json()["trainee_id"], me


def personal_values(body: dict) -> list[str]:
    return [body["name"], body["id_number"], body["phone"], body["employer"]]


def pg_dump(database_url: str) -> bytes:
    return subprocess.run(
        ["pg_dump", "--no-owner", database_url], check=True, capture_output=True, timeout=300
    ).stdout


async def test_the_city_bureau_erases_a_person_and_nothing_yields_their_data_again(
    client: AsyncClient, tokens: Tokens, enrollment_settings: EnrollmentSettings
) -> None:
    erased_body, kept_body = person(1, "欧阳𠮷"), person(2, "李四")
    erased_id, erased_token = await register(client, tokens, erased_body)
    kept_id, _ = await register(client, tokens, kept_body)
    city = tokens(Role.CITY_BUREAU)
    path = f"/trainees/{erased_id}/erasure"

    for others in (
        erased_token,
        tokens(Role.AUDITOR),
        tokens(Role.COUNTY_BUREAU, county_id("牡丹区")),
        tokens(Role.TRAINING_INSTITUTION, UPC),
    ):
        refused = await client.post(path, json={"reason": "本人申请"}, headers=others)
        assert refused.status_code == 403
    naming = await client.post(path, json={"reason": "欧阳𠮷本人申请删除"}, headers=city)
    assert (naming.status_code, naming.json()["error"]["code"]) == (422, "reason_names_the_person")
    assert naming.json()["error"]["field"] == "reason"
    assert "欧阳𠮷" not in naming.text  # the refusal does not echo the person's data
    blank = await client.post(path, json={"reason": "   "}, headers=city)
    assert blank.status_code == 422

    erased = await client.post(path, json={"reason": "本人书面申请删除个人信息"}, headers=city)
    assert erased.status_code == 200, erased.text
    assert erased.json() == {
        "trainee_id": erased_id,
        "grounds": "request",
        "reason": "本人书面申请删除个人信息",
        "erased_on": "2026-11-27",
    }

    # No endpoint answers with the person: their record, the claim check, the lists.
    for reader in (city, erased_token):
        record = await client.get(f"/trainees/{erased_id}", headers=reader)
        assert (record.status_code, record.json()["error"]["code"]) == (409, "person_erased")
    again = await client.post(path, json={"reason": "重复申请"}, headers=city)
    assert again.json()["error"]["code"] == "person_erased"
    listed = (await client.get("/registrations", headers=city)).json()
    assert [line["trainee_id"] for line in listed] == [kept_id]
    erasures = (await client.get("/erasures", headers=tokens(Role.AUDITOR))).json()
    assert [(e["trainee_id"], e["grounds"]) for e in erasures] == [(erased_id, "request")]
    # The auditors' trail still has every event, the erasure last; the past state as well,
    # without the data.
    trail = (await client.get(f"/audit/trail/{erased_id}", headers=tokens(Role.AUDITOR))).json()
    assert [event["topic"] for event in trail] == [
        "enrollment.Trainee.Registered.v1",
        "enrollment.Trainee.Erased.v1",
    ]
    assert trail[0]["data"]["name"] is None and trail[0]["data"]["county"] == "牡丹区"
    past = await client.get(
        f"/audit/aggregates/{erased_id}", params={"version": 1}, headers=tokens(Role.AUDITOR)
    )
    assert past.status_code == 200 and past.json()["state"]["name"] is None

    # The erasure is published, with the id alone.
    topic = enrollment_settings.kafka_topic_prefix + "enrollment.events.v1"

    async def erasure_published() -> list:
        records = await read_topic(enrollment_settings.kafka_bootstrap_servers, topic)
        return [e for r in records if (e := parse_event(r.value)).event_type == "PersonErased"]

    await eventually(erasure_published)
    (published,) = await erasure_published()
    assert published.payload.model_dump(mode="json") == {
        "trainee_id": erased_id,
        "grounds": "request",
        "erased_on": "2026-11-27",
    }

    # The claim check refuses the person; an institution registering them again learns
    # nothing (the answer any registration gets) and changes nothing.
    caller = ServiceCaller(EmbeddedKeyring(enrollment_settings.data_dir).caller("certification"))
    holders = await client.get(
        f"/internal/holders/{erased_id}", headers=caller.headers("enrollment")
    )
    assert (holders.status_code, holders.json()["error"]["code"]) == (409, "person_erased")
    institution = tokens(Role.TRAINING_INSTITUTION, UPC)
    again = await client.post(
        "/trainees", json={**erased_body, "person_consents": True}, headers=institution
    )
    assert (again.status_code, again.json()) == (201, {"trainee_id": erased_id})
    trail_after = (
        await client.get(f"/audit/trail/{erased_id}", headers=tokens(Role.AUDITOR))
    ).json()
    assert len(trail_after) == len(trail)

    # An insider with every key the service holds (its cipher key, its person master key, the
    # keys left), reading the event store, and a dump of the whole database, find none of the
    # person's data; the other person's is there, readable to the service.
    insider = EnrollmentApplication(
        enrollment_settings.model_copy(update={"aggregate_cache_size": 0})
    )
    try:
        notifications = insider.recorder.select_notifications(start=1, limit=10_000)
        decoded = [insider.mapper.to_domain_event(n).model_dump_json() for n in notifications]
        assert insider.trainee(UUID(kept_id)).name == "李四"
    finally:
        insider.close()
    for value in personal_values(erased_body):
        assert not any(value in event for event in decoded), value
    assert any(kept_body["name"] in event for event in decoded)
    with psycopg.connect(enrollment_settings.database_url) as connection:
        (tombstone,) = connection.execute(
            "SELECT wrapped, erased_at FROM person_keys WHERE person_id = %s", (erased_id,)
        ).fetchall()
    assert tombstone[0] is None and tombstone[1] is not None
    dump = pg_dump(enrollment_settings.database_url)
    for value in personal_values(erased_body):
        assert value.encode() not in dump, value
    assert kept_body["name"].encode() in dump  # the city's list of the one kept


async def test_registrants_without_training_are_erased_when_the_retention_period_ends(
    client: AsyncClient, tokens: Tokens, enrollment_settings: EnrollmentSettings
) -> None:
    city = tokens(Role.CITY_BUREAU)
    rule = (await client.get("/personal-data/retention", headers=city)).json()
    assert rule["days_today"] == 730
    backdated = await client.put(
        "/personal-data/retention", json={"days": 365, "effective_from": "2026-01-01"}, headers=city
    )
    assert (backdated.status_code, backdated.json()["error"]["code"]) == (
        422,
        "effective_date_in_past",
    )
    too_long = await client.put(
        "/personal-data/retention", json={"days": 0, "effective_from": "2026-12-01"}, headers=city
    )
    assert too_long.status_code == 422
    later = await client.put(
        "/personal-data/retention", json={"days": 365, "effective_from": "2026-12-01"}, headers=city
    )
    assert later.status_code == 200, later.text
    assert later.json()["days_today"] == 730  # not yet in force
    with clock.frozen_at(datetime(2026, 12, 1, 1, tzinfo=UTC)):
        in_force = (await client.get("/personal-data/retention", headers=city)).json()
    assert in_force["days_today"] == 365
    assert [p["days"] for p in in_force["periods"]] == [730, 365]
    corrected = await client.put(
        "/personal-data/retention", json={"days": 730, "effective_from": "2026-12-01"}, headers=city
    )
    assert corrected.json()["periods"][-1] == {"days": 730, "effective_from": "2026-12-01"}
    not_yours = await client.put(
        "/personal-data/retention",
        json={"days": 365, "effective_from": "2026-12-01"},
        headers=tokens(Role.TRAINING_INSTITUTION, UPC),
    )
    assert not_yours.status_code == 403

    never_enrolled, _ = await register(client, tokens, person(3, "张三"))
    enrolled_body = person(4, "王五")
    enrolled, enrolled_token = await register(client, tokens, enrolled_body)
    withdrew_body = person(5, "赵六")
    withdrew, withdrew_token = await register(client, tokens, withdrew_body)
    programme = await client.post(
        "/programmes",
        json={
            "occupation_code": "2-02-10-11",
            "level": "junior",
            "title": "大数据工程技术人员（初级）第二期",
            "capacity": 30,
            "starts_on": "2026-11-01",
            "ends_on": "2027-01-31",
        },
        headers=tokens(Role.TRAINING_INSTITUTION, UPC),
    )
    programme_id = programme.json()["id"]
    for trainee_id, token in ((enrolled, enrolled_token), (withdrew, withdrew_token)):
        answer = await client.post(
            f"/trainees/{trainee_id}/enrolments", json={"programme_id": programme_id}, headers=token
        )
        assert answer.status_code == 201, answer.text
    with clock.frozen_at(NOW + timedelta(days=10)):
        answer = await client.post(
            f"/trainees/{withdrew}/enrolments/{programme_id}/withdrawal",
            json={"reason": "工作调动"},
            headers=withdrew_token,
        )
        assert answer.status_code == 200, answer.text

    app = EnrollmentApplication(enrollment_settings)
    finder = RetentionFinder(app)
    try:
        with clock.frozen_at(NOW + timedelta(days=730)):
            assert sweep(app, finder) == 0  # the period is not over on its last day
        with clock.frozen_at(NOW + timedelta(days=731)):
            assert sweep(app, finder) == 1
            assert sweep(app, finder) == 0  # once
        with clock.frozen_at(NOW + timedelta(days=741)):
            assert sweep(app, finder) == 1
        erased = {
            trainee_id: app.get(Trainee, UUID(trainee_id), "trainee")
            for trainee_id in (never_enrolled, withdrew)
        }
        assert {t.erasure.grounds.value for t in erased.values()} == {"retention"}
        assert all(t.name is None and t.id_number is None for t in erased.values())
        assert app.trainee(UUID(enrolled)).name == "王五"  # in training: kept
    finally:
        app.close()
    listed = (await client.get("/registrations", headers=city)).json()
    assert [line["trainee_id"] for line in listed] == [enrolled]


async def test_an_erasure_whose_key_outlived_it_is_finished_by_the_sweep(
    client: AsyncClient, tokens: Tokens, enrollment_settings: EnrollmentSettings
) -> None:
    """A crash between recording the erasure and deleting the key leaves the key: the next
    sweep deletes it."""
    trainee_id, _ = await register(client, tokens, person(6, "孙七"))
    app = EnrollmentApplication(enrollment_settings)
    try:
        app.handle(
            EraseTrainee(
                principal=Principal(role=Role.CITY_BUREAU, subject="city-1"),
                trainee_id=UUID(trainee_id),
                reason="本人申请",
            )
        )  # and no `forget`: as if the process stopped here
        with psycopg.connect(enrollment_settings.database_url) as connection:
            count = (
                "SELECT count(*) FROM person_keys WHERE person_id = %s AND wrapped IS NOT NULL"
            )
            assert connection.execute(count, (trainee_id,)).fetchone() == (1,)
            assert sweep(app, RetentionFinder(app)) == 0
            assert connection.execute(count, (trainee_id,)).fetchone() == (0,)
    finally:
        app.close()
