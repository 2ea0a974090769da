"""The enrollment service through HTTP, against PostgreSQL and the broker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from httpx import AsyncClient

from heze_common import clock
from heze_common.credential_check import Verdict, check_credential
from heze_common.credentials import unverified_parts
from heze_common.service_calls import ServiceCaller
from heze_common.signing import EmbeddedKeyring
from heze_common.testing import Tokens, eventually, read_topic
from heze_contracts import parse_event
from heze_contracts.enums import Role
from heze_enrollment.domain.counties import county_id
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import Institution
from heze_enrollment.settings import EnrollmentSettings

UPC = Institution.create_id("中国石油大学(华东)")  # big data, blockchain
LDU = Institution.create_id("鲁东大学")  # intelligent manufacturing
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


def person(number: int, county: str = "牡丹区", **overrides: object) -> dict:
    body = {
        "name": f"测试学员{number}",
        "id_number": ResidentId.compose("371702", date(1995, 1, 1), 100 + 2 * number + 1),
        "phone": "13800000000",
        "education": "bachelor",
        "major": "数据科学与大数据技术",
        "county": county,
        "participant_category": "graduating_student",
    }
    body.update(overrides)
    return body


async def publish_programme(client: AsyncClient, tokens: Tokens, **overrides: object) -> str:
    body = {
        "occupation_code": "2-02-10-11",
        "level": "junior",
        "title": "大数据工程技术人员（初级）第一期",
        "capacity": 30,
        "starts_on": "2026-11-01",
        "ends_on": "2027-01-31",
        "subsidised_plan": True,
    }
    body.update(overrides)
    response = await client.post(
        "/programmes", json=body, headers=tokens(Role.TRAINING_INSTITUTION, UPC)
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def lower_hour_requirement(client: AsyncClient, tokens: Tokens) -> None:
    response = await client.put(
        "/occupations/2-02-10-11/hour-requirements/junior",
        json={"hours": {"theory": 8, "practice": 4}, "effective_from": "2026-01-01"},
        headers=tokens(Role.CITY_BUREAU),
    )
    assert response.status_code == 204, response.text


async def a_training_credential_verifies(
    client: AsyncClient, url: str, holder: dict[str, str], certificate: str
) -> None:
    """The training institution's signed credential, checked against its published key."""
    signed = await client.get(url, headers=holder)
    assert signed.headers["content-type"] == "application/vc+jwt"
    issuer = unverified_parts(signed.text)[1]["issuer"]["id"]
    assert issuer.endswith(f"/public/issuers/{UPC}")
    keys = (await client.get(urlsplit(issuer).path)).json()["keys"]

    class Published:
        def issuer_keys(self, _: str) -> list[dict[str, object]]:
            return keys

        def status_list(self, url: str) -> str:
            raise AssertionError(f"a training credential has no status list, asked for {url}")

    finding = check_credential(signed.text, Published())
    assert finding.verdict is Verdict.VALID, finding.reasons
    subject = finding.credential["credentialSubject"]
    assert (subject["name"], subject["certificate"]["number"]) == ("王𠀀明", certificate)
    assert subject["certificate"]["hoursByKind"] == {"theory": "8.0", "practice": "4.0"}
    assert person(1)["id_number"] not in json.dumps(finding.credential)


async def test_a_trainee_registered_enrolled_trained_and_completed_is_published_in_order(
    client: AsyncClient, tokens: Tokens, enrollment_settings: EnrollmentSettings
) -> None:
    await lower_hour_requirement(client, tokens)
    programme_id = await publish_programme(client, tokens)
    me = tokens.trainee_verified_as(person(1)["id_number"], subject="account-wang")
    registered = await client.post("/trainees", json=person(1, name="王𠀀明"), headers=me)
    assert registered.status_code == 201, registered.text
    trainee_id = registered.json()["trainee_id"]

    assert (
        await client.post(
            f"/trainees/{trainee_id}/enrolments", json={"programme_id": programme_id}, headers=me
        )
    ).status_code == 201
    institution = tokens(Role.TRAINING_INSTITUTION, UPC)
    base = f"/programmes/{programme_id}/trainees/{trainee_id}"
    for session in (
        {"date": "2026-11-20", "hours": 8, "kind": "theory", "mode": "online"},
        {"date": "2026-11-21", "hours": "4.0", "kind": "practice", "mode": "offline"},
    ):
        assert (
            await client.post(f"{base}/sessions", json=session, headers=institution)
        ).status_code == 201
    assert (
        await client.put(f"{base}/exam", json={"score": 86.5}, headers=institution)
    ).status_code == 200
    credential_url = f"/trainees/{trainee_id}/enrolments/{programme_id}/credential"
    before = await client.get(credential_url, headers=me)
    assert before.json()["error"]["code"] == "no_training_certificate"
    completed = await client.post(f"{base}/completion", headers=institution)
    assert completed.status_code == 200, completed.text
    certificate = completed.json()["training_certificate_number"]
    assert certificate == "HZPX2026-2021011-000001"
    await a_training_credential_verifies(client, credential_url, me, certificate)

    record = (await client.get(f"/trainees/{trainee_id}", headers=me)).json()
    assert record["name"] == "王𠀀明"
    assert record["enrolments"][0]["status"] == "completed"

    topic = enrollment_settings.kafka_topic_prefix + "enrollment.events.v1"

    async def published() -> list:
        return [
            parse_event(r.value)
            for r in await read_topic(enrollment_settings.kafka_bootstrap_servers, topic)
        ]

    async def trainee_events_arrived() -> bool:
        return sum(str(e.subject_id) == trainee_id for e in await published()) >= 3

    await eventually(trainee_events_arrived)
    events = await published()
    mine = [e for e in events if str(e.subject_id) == trainee_id]
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
    raw = await read_topic(enrollment_settings.kafka_bootstrap_servers, topic)
    on_the_wire = b"".join(r.value for r in raw if r.value)
    assert "王𠀀明".encode() not in on_the_wire
    assert person(1)["id_number"].encode() not in on_the_wire
    assert b"13800000000" not in on_the_wire  # the phone never leaves enrollment
    assert (registration.county, registration.employed) == ("牡丹区", False)
    assert str(completion.hours_by_kind["theory"]) == "8.0"
    assert str(completion.hours_by_mode["offline"]) == "4.0"
    assert completion.training_certificate_number == certificate
    assert {"InstitutionAccredited", "ProgrammePublished"} <= {e.event_type for e in events}


async def test_already_registered_tells_the_person_and_tells_a_foreign_caller_nothing(
    client: AsyncClient, tokens: Tokens
) -> None:
    me = tokens.trainee_verified_as(person(2)["id_number"], subject="account-li")
    first = await client.post("/trainees", json=person(2), headers=me)
    again = await client.post("/trainees", json=person(2), headers=me)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_registered"
    assert again.json()["error"]["details"]["trainee_id"] == first.json()["trainee_id"]
    # An institution registering a person who is registered gets what it gets for one who is
    # not: the same status and the same shape, and no refusal to learn from.
    institution = tokens(Role.TRAINING_INSTITUTION, UPC)
    answers = [
        await client.post("/trainees", json=person(n, person_consents=True), headers=institution)
        for n in (2, 9)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert [set(a.json()) for a in answers] == [{"trainee_id"}, {"trainee_id"}]
    assert answers[0].json() == first.json()
    # Another trainee (any token, any subject) cannot register that person at all.
    stranger = tokens.trainee_verified_as(person(3)["id_number"], subject="account-zhao")
    refused = await client.post("/trainees", json=person(2), headers=stranger)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "identity_mismatch")
    assert "details" not in refused.json()["error"]
    unverified = await client.post(
        "/trainees", json=person(2), headers=tokens(Role.TRAINEE, subject="account-zhao")
    )
    assert unverified.json()["error"]["code"] == "identity_not_verified"


async def test_an_id_number_typed_in_full_width_registers_the_same_person(
    client: AsyncClient, tokens: Tokens
) -> None:
    ascii_number = person(5)["id_number"]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in ascii_number)  # １２…Ｘ
    me = tokens.trainee_verified_as(ascii_number, subject="account-wide")
    first = await client.post("/trainees", json=person(5, id_number=full_width), headers=me)
    assert first.status_code == 201, first.text
    record = await client.get(f"/trainees/{first.json()['trainee_id']}", headers=me)
    assert record.json()["id_number"] == ascii_number
    again = await client.post("/trainees", json=person(5), headers=me)
    assert again.json()["error"]["code"] == "already_registered"


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"id_number": "11010519491231002Y"}, "invalid_id_number", "id_number"),
        ({"id_number": "440524188001010014"}, "retired", "id_number"),
        ({"draws_pension": True}, "retired", "draws_pension"),
        ({"sex": "female"}, "id_number_mismatch", "sex"),
        ({"county": "济南市"}, "unknown_county", "county"),
    ],
)
async def test_refused_registrations_name_the_rule_and_field(
    client: AsyncClient, tokens: Tokens, overrides: dict, code: str, field: str
) -> None:
    body = person(3, **overrides)
    me = tokens.trainee_verified_as(body["id_number"], subject="a3")
    response = await client.post("/trainees", json=body, headers=me)
    assert response.status_code == 422
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == (code, field)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "张三"},
        person(4, education="kindergarten"),
        person(4, unexpected="field"),
        person(4, birth_date="1995-02-30"),
        person(4, name=""),
        person(4, id_number=12345),
    ],
)
async def test_malformed_bodies_are_422_never_500(
    client: AsyncClient, tokens: Tokens, body: dict
) -> None:
    me = tokens.trainee_verified_as(person(4)["id_number"], subject="a4")
    response = await client.post("/trainees", json=body, headers=me)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in {
        "invalid_request",
        "invalid_id_number",
        "blank_name",
    }


async def test_invalid_json_is_422(client: AsyncClient, tokens: Tokens) -> None:
    response = await client.post(
        "/trainees",
        content=b"{not json",
        headers={**tokens(Role.TRAINEE, subject="x"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422


async def test_an_out_of_scope_programme_is_refused(client: AsyncClient, tokens: Tokens) -> None:
    response = await client.post(
        "/programmes",
        json={
            "occupation_code": "2-02-07-13",
            "level": "junior",
            "title": "智能制造",
            "capacity": 5,
            "starts_on": "2026-11-01",
            "ends_on": "2027-01-31",
        },
        headers=tokens(Role.TRAINING_INSTITUTION, UPC),
    )
    assert (response.status_code, response.json()["error"]["code"]) == (409, "outside_scope")


async def test_a_full_programme_refuses_enrolment(client: AsyncClient, tokens: Tokens) -> None:
    await lower_hour_requirement(client, tokens)
    programme_id = await publish_programme(client, tokens, capacity=1)
    ids = []
    for number in (5, 6):
        response = await client.post(
            "/trainees",
            json=person(number, person_consents=True),
            headers=tokens(Role.TRAINING_INSTITUTION, UPC),
        )
        ids.append(response.json()["trainee_id"])
    institution = tokens(Role.TRAINING_INSTITUTION, UPC)
    first = await client.post(
        f"/trainees/{ids[0]}/enrolments", json={"programme_id": programme_id}, headers=institution
    )
    second = await client.post(
        f"/trainees/{ids[1]}/enrolments", json={"programme_id": programme_id}, headers=institution
    )
    assert first.status_code == 201
    assert (second.status_code, second.json()["error"]["code"]) == (409, "programme_full")


async def test_each_role_is_refused_what_is_not_its_own(
    client: AsyncClient, tokens: Tokens
) -> None:
    await lower_hour_requirement(client, tokens)
    programme_id = await publish_programme(client, tokens)
    trainee_id = (
        await client.post(
            "/trainees",
            json=person(7, county="曹县"),
            headers=tokens.trainee_verified_as(person(7)["id_number"], subject="acct-7"),
        )
    ).json()["trainee_id"]
    other_institution = tokens(Role.TRAINING_INSTITUTION, LDU)
    forbidden = [
        (
            "POST",
            "/institutions",
            {
                "name": "某学院",
                "fields": ["big_data"],
                "contact_name": "甲",
                "contact_phone": "0530-1234567",
            },
            tokens(Role.TRAINING_INSTITUTION, UPC),
        ),
        (
            "POST",
            "/institutions",
            {
                "name": "某学院",
                "fields": ["big_data"],
                "contact_name": "甲",
                "contact_phone": "0530-1234567",
            },
            tokens(Role.TRAINEE, subject="acct-7"),
        ),
        (
            "POST",
            "/programmes",
            {
                "occupation_code": "2-02-10-11",
                "level": "junior",
                "title": "t",
                "capacity": 1,
                "starts_on": "2026-11-01",
                "ends_on": "2026-12-01",
            },
            tokens(Role.CITY_BUREAU),
        ),
        ("POST", f"/programmes/{programme_id}/closure", None, other_institution),
        ("GET", f"/programmes/{programme_id}/roster", None, other_institution),
        ("GET", f"/programmes/{programme_id}/roster", None, tokens(Role.TRAINEE, subject="acct-7")),
        (
            "POST",
            f"/trainees/{trainee_id}/enrolments",
            {"programme_id": programme_id},
            tokens(Role.TRAINEE, subject="someone-else"),
        ),
        (
            "POST",
            f"/trainees/{trainee_id}/enrolments",
            {"programme_id": programme_id},
            other_institution,
        ),
        ("GET", f"/trainees/{trainee_id}", None, tokens(Role.TRAINEE, subject="someone-else")),
        ("GET", f"/trainees/{trainee_id}", None, tokens(Role.COUNTY_BUREAU, county_id("单县"))),
        ("GET", f"/trainees/{trainee_id}", None, other_institution),
        ("GET", "/registrations?county=曹县", None, tokens(Role.COUNTY_BUREAU, county_id("单县"))),
        ("GET", "/registrations", None, tokens(Role.TRAINING_INSTITUTION, UPC)),
        (
            "PUT",
            "/occupations/2-02-10-11/hour-requirements/junior",
            {"hours": {"theory": 1, "practice": 1}, "effective_from": "2026-01-01"},
            tokens(Role.TRAINING_INSTITUTION, UPC),
        ),
        (
            "PUT",
            f"/programmes/{programme_id}/city-plan",
            {"subsidised_plan": False, "in_city_training_directory": False},
            tokens(Role.TRAINING_INSTITUTION, UPC),
        ),
    ]
    for method, path, body, headers in forbidden:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
    allowed = [
        ("GET", f"/trainees/{trainee_id}", tokens(Role.COUNTY_BUREAU, county_id("曹县"))),
        ("GET", f"/trainees/{trainee_id}", tokens(Role.CITY_BUREAU)),
        ("GET", f"/trainees/{trainee_id}", tokens(Role.TRAINEE, subject="acct-7")),
        ("GET", "/registrations", tokens(Role.COUNTY_BUREAU, county_id("曹县"))),
        ("GET", f"/programmes/{programme_id}/roster", tokens(Role.TRAINING_INSTITUTION, UPC)),
    ]
    for method, path, headers in allowed:
        assert (await client.request(method, path, headers=headers)).status_code == 200, path


async def test_personal_data_is_masked_for_roles_that_do_not_need_it(
    client: AsyncClient, tokens: Tokens
) -> None:
    body = person(8, county="单县", phone="13912345678")
    trainee_id = (
        await client.post(
            "/trainees",
            json=body,
            headers=tokens.trainee_verified_as(body["id_number"], subject="acct-8"),
        )
    ).json()["trainee_id"]
    county_view = (
        await client.get(
            f"/trainees/{trainee_id}", headers=tokens(Role.COUNTY_BUREAU, county_id("单县"))
        )
    ).json()
    own_view = (
        await client.get(f"/trainees/{trainee_id}", headers=tokens(Role.TRAINEE, subject="acct-8"))
    ).json()
    assert own_view["id_number"] == body["id_number"] and own_view["phone"] == "13912345678"
    assert county_view["id_number"] != body["id_number"] and "*" in county_view["id_number"]
    assert county_view["phone"] == "139****5678"


async def test_the_openapi_document_is_served(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/trainees", "/programmes", "/institutions", "/registrations"} <= set(paths)


async def test_unknown_ids_are_404(client: AsyncClient, tokens: Tokens) -> None:
    response = await client.get(f"/trainees/{uuid4()}", headers=tokens(Role.CITY_BUREAU))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_trainee")


async def test_certification_alone_learns_a_holders_name_and_id_number_by_a_service_call(
    client: AsyncClient, tokens: Tokens, enrollment_settings: EnrollmentSettings
) -> None:
    body = person(21, name="欧阳𠮷")
    me = tokens.trainee_verified_as(body["id_number"], subject="account-21")
    trainee_id = (await client.post("/trainees", json=body, headers=me)).json()["trainee_id"]
    path = f"/internal/holders/{trainee_id}"
    keyring = EmbeddedKeyring(enrollment_settings.data_dir)

    def call_of(service: str) -> dict[str, str]:
        return ServiceCaller(keyring.caller(service)).headers("enrollment")

    answer = await client.get(path, headers=call_of("certification"))
    assert answer.json() == {
        "trainee_id": trainee_id,
        "name": "欧阳𠮷",
        "id_number": body["id_number"],
    }
    refused = await client.get(path, headers=call_of("assessment"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "caller_not_allowed")
    for person_token in (tokens(Role.CITY_BUREAU), me):  # no person's token is a service's call
        denied = await client.get(path, headers=person_token)
        assert (denied.status_code, denied.json()["error"]["code"]) == (401, "invalid_call_token")
    unknown = await client.get(f"/internal/holders/{uuid4()}", headers=call_of("certification"))
    assert unknown.status_code == 404
