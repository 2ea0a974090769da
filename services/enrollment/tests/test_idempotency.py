"""A client that lost an answer sends the same command again with its `Idempotency-Key`: the
command takes effect once and the repeat gets the first outcome (shared plumbing, shown on the
enrollment service against PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import date

from httpx import AsyncClient

from heze_common.testing import Tokens
from heze_contracts.enums import Role
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import Institution

UPC = Institution.create_id("中国石油大学(华东)")
PROGRAMME = {
    "occupation_code": "2-02-10-11",
    "level": "junior",
    "title": "大数据工程技术人员（初级）第一期",
    "capacity": 30,
    "starts_on": "2026-11-01",
    "ends_on": "2027-01-31",
}


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def enrolled_trainee(client: AsyncClient, tokens: Tokens) -> tuple[str, str]:
    institution = keyed(tokens(Role.TRAINING_INSTITUTION, UPC), "publish-1")
    programme = await client.post("/programmes", json=PROGRAMME, headers=institution)
    assert programme.status_code == 201, programme.text
    id_number = ResidentId.compose("371702", date(1996, 3, 8), 123)
    me = tokens.trainee_verified_as(id_number, subject="account-li")
    body = {
        "name": "李䶮",
        "id_number": id_number,
        "phone": "13800000000",
        "education": "bachelor",
        "major": "数据科学与大数据技术",
        "county": "牡丹区",
        "participant_category": "graduating_student",
    }
    trainee_id = (await client.post("/trainees", json=body, headers=me)).json()["trainee_id"]
    enrolment = await client.post(
        f"/trainees/{trainee_id}/enrolments",
        json={"programme_id": programme.json()["id"]},
        headers=me,
    )
    assert enrolment.status_code == 201, enrolment.text
    return programme.json()["id"], trainee_id


async def test_a_repeated_create_returns_the_first_record_and_creates_no_second(
    client: AsyncClient, tokens: Tokens
) -> None:
    institution = keyed(tokens(Role.TRAINING_INSTITUTION, UPC), "publish-autumn-class")
    first, repeat = [
        await client.post("/programmes", json=PROGRAMME, headers=institution) for _ in range(2)
    ]
    assert first.status_code == repeat.status_code == 201
    assert first.json() == repeat.json()

    listed = await client.get(
        "/programmes", params={"institution_id": str(UPC)}, headers=institution
    )
    assert [p["programme_id"] for p in listed.json()] == [first.json()["id"]]


async def test_concurrent_repeats_of_one_keyed_session_log_its_hours_once(
    client: AsyncClient, tokens: Tokens
) -> None:
    programme_id, trainee_id = await enrolled_trainee(client, tokens)
    base = f"/programmes/{programme_id}/trainees/{trainee_id}"
    institution = keyed(tokens(Role.TRAINING_INSTITUTION, UPC), "session-2026-11-20-theory")
    session = {"date": "2026-11-20", "hours": 8, "kind": "theory", "mode": "online"}

    answers = await asyncio.gather(
        *(client.post(f"{base}/sessions", json=session, headers=institution) for _ in range(5))
    )
    assert {answer.status_code for answer in answers} == {201}, [a.text for a in answers]

    record = await client.get(f"/trainees/{trainee_id}", headers=tokens(Role.CITY_BUREAU))
    assert record.json()["enrolments"][0]["hours_by_kind"]["theory"] == "8"

    unkeyed = await client.post(
        f"{base}/sessions", json=session, headers=tokens(Role.TRAINING_INSTITUTION, UPC)
    )
    assert unkeyed.status_code == 201
    record = await client.get(f"/trainees/{trainee_id}", headers=tokens(Role.CITY_BUREAU))
    assert record.json()["enrolments"][0]["hours_by_kind"]["theory"] == "16"


async def test_a_repeated_state_change_answers_as_the_first_did_instead_of_refusing(
    client: AsyncClient, tokens: Tokens
) -> None:
    programme_id, trainee_id = await enrolled_trainee(client, tokens)
    institution = keyed(tokens(Role.TRAINING_INSTITUTION, UPC), "withdraw-li")
    path = f"/trainees/{trainee_id}/enrolments/{programme_id}/withdrawal"
    body = {"reason": "工作调动，无法继续参加培训"}

    first = await client.post(path, json=body, headers=institution)
    repeat = await client.post(path, json=body, headers=institution)
    assert first.status_code == repeat.status_code, (first.text, repeat.text)
    assert first.json() == repeat.json()

    unkeyed = await client.post(path, json=body, headers=tokens(Role.TRAINING_INSTITUTION, UPC))
    assert unkeyed.status_code == 409


async def test_a_key_reused_for_another_request_is_refused_by_name(
    client: AsyncClient, tokens: Tokens
) -> None:
    institution = keyed(tokens(Role.TRAINING_INSTITUTION, UPC), "one-key")
    assert (
        await client.post("/programmes", json=PROGRAMME, headers=institution)
    ).status_code == 201

    other = await client.post(
        "/programmes", json={**PROGRAMME, "capacity": 40}, headers=institution
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert other.json()["error"]["field"] == "Idempotency-Key"


async def test_keys_belong_to_their_caller(client: AsyncClient, tokens: Tokens) -> None:
    ldu = Institution.create_id("鲁东大学")
    smart_manufacturing = {**PROGRAMME, "occupation_code": "2-02-07-13"}
    mine = await client.post(
        "/programmes", json=PROGRAMME, headers=keyed(tokens(Role.TRAINING_INSTITUTION, UPC), "k1")
    )
    theirs = await client.post(
        "/programmes",
        json=smart_manufacturing,
        headers=keyed(tokens(Role.TRAINING_INSTITUTION, ldu), "k1"),
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


async def test_a_malformed_key_is_refused_with_the_header_named(
    client: AsyncClient, tokens: Tokens
) -> None:
    for bad in ("", "x" * 201, "tab\tin-key"):
        answer = await client.post(
            "/programmes",
            json=PROGRAMME,
            headers={**tokens(Role.TRAINING_INSTITUTION, UPC), "Idempotency-Key": bad},
        )
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["error"] == {
            "code": "invalid_idempotency_key",
            "message": "the Idempotency-Key header is 1 to 200 printable ASCII characters",
            "field": "Idempotency-Key",
        }
