"""The enrollment service's lists, read from its views in PostgreSQL through HTTP: each is paged
in log order with a `Link` to the next page and refuses a limit outside 1..500 and a cursor that
names nothing in it; its items are what the records say; a reader sees its own write at once;
Chinese names stay byte-exact; a rebuild leaves every list as it was."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from httpx import AsyncClient

from heze_common import clock
from heze_common.testing import Tokens
from heze_contracts.enums import Role
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import SEED_DIRECTORY, Institution
from heze_enrollment.settings import EnrollmentSettings

UPC = Institution.create_id("中国石油大学(华东)")  # big data, blockchain
OUC = Institution.create_id("中国海洋大学")  # big data
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


async def created(client: AsyncClient, path: str, body: dict[str, Any], headers: Any) -> Any:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def accredit(client: AsyncClient, tokens: Tokens, name: str, contact: str = "甲") -> str:
    body = {
        "name": name,
        "fields": ["big_data"],
        "contact_name": contact,
        "contact_phone": "0530-1234567",
    }
    return (await created(client, "/institutions", body, tokens(Role.CITY_BUREAU)))["id"]


async def publish(client: AsyncClient, tokens: Tokens, institution_id: Any, title: str) -> str:
    body = {
        "occupation_code": "2-02-10-11",
        "level": "junior",
        "title": title,
        "capacity": 30,
        "starts_on": "2026-11-01",
        "ends_on": "2027-01-31",
        "required_hours": {"theory": 80, "practice": 48},
    }
    headers = tokens(Role.TRAINING_INSTITUTION, institution_id)
    return (await created(client, "/programmes", body, headers))["id"]


async def register(
    client: AsyncClient,
    tokens: Tokens,
    number: int,
    county: str,
    name: str | None = None,
    by: Any = UPC,
) -> str:
    """Person `number` registered by institution `by`, with their consent."""
    body = {
        "name": name or f"测试学员{number}",
        "id_number": ResidentId.compose("371702", date(1995, 1, 1), 100 + 2 * number + 1),
        "phone": "13800000000",
        "education": "bachelor",
        "major": "数据科学与大数据技术",
        "county": county,
        "participant_category": "graduating_student",
        "person_consents": True,
    }
    headers = tokens(Role.TRAINING_INSTITUTION, by)
    return (await created(client, "/trainees", body, headers))["trainee_id"]


async def enrol(
    client: AsyncClient, tokens: Tokens, trainee_id: str, programme_id: str, by: Any = UPC
) -> None:
    headers = tokens(Role.TRAINING_INSTITUTION, by)
    await created(
        client, f"/trainees/{trainee_id}/enrolments", {"programme_id": programme_id}, headers
    )


@dataclass(frozen=True)
class Listing:
    path: str
    params: dict[str, str]
    key: str
    expected: list[str]
    """The ids the list holds, in its order."""
    outsider: str
    """An id that is not in this list (of another county or institution, or unknown)."""


@pytest.fixture
async def lists(client: AsyncClient, tokens: Tokens) -> dict[str, Listing]:
    """Five institutions, four programmes of two institutions, five trainees of two counties,
    three of them on one programme's roster in an order other than their registration's."""
    accredited = [await accredit(client, tokens, f"菏泽第{n}职业技术学院") for n in (1, 2)]
    ours = [await publish(client, tokens, UPC, "大数据初级第一期")]
    theirs = await publish(client, tokens, OUC, "大数据初级（海大）")
    ours += [await publish(client, tokens, UPC, f"大数据初级第{n}期") for n in ("二", "三")]
    counties = ["郓城县", "曹县", "郓城县", "曹县", "郓城县"]
    trainees = [await register(client, tokens, n, county) for n, county in enumerate(counties)]
    enrolled = [trainees[4], trainees[0], trainees[2]]
    for trainee_id in enrolled:
        await enrol(client, tokens, trainee_id, ours[0])
    await enrol(client, tokens, trainees[1], ours[1])
    directory = [str(Institution.create_id(entry[1])) for entry in SEED_DIRECTORY] + accredited
    in_yuncheng = [t for t, county in zip(trainees, counties, strict=True) if county == "郓城县"]
    return {
        "institutions": Listing("/institutions", {}, "institution_id", directory, str(uuid4())),
        "programmes": Listing(
            "/programmes", {}, "programme_id", [ours[0], theirs, *ours[1:]], str(uuid4())
        ),
        "programmes of an institution": Listing(
            "/programmes", {"institution_id": str(UPC)}, "programme_id", ours, theirs
        ),
        "roster": Listing(f"/programmes/{ours[0]}/roster", {}, "trainee_id", enrolled, trainees[1]),
        "registrations": Listing("/registrations", {}, "trainee_id", trainees, str(uuid4())),
        "registrations of a county": Listing(
            "/registrations", {"county": "郓城县"}, "trainee_id", in_yuncheng, trainees[1]
        ),
    }


LISTS = [
    "institutions",
    "programmes",
    "programmes of an institution",
    "roster",
    "registrations",
    "registrations of a county",
]


@pytest.mark.parametrize("name", LISTS)
async def test_each_list_is_paged_in_log_order_and_refuses_bad_limits_and_cursors(
    client: AsyncClient, tokens: Tokens, lists: dict[str, Listing], name: str
) -> None:
    listing, city = lists[name], tokens(Role.CITY_BUREAU)
    response = await client.get(listing.path, params={**listing.params, "limit": 2}, headers=city)
    pages = []
    while True:
        assert response.status_code == 200, response.text
        pages.append([item[listing.key] for item in response.json()])
        if "next" not in response.links:
            break
        following = response.links["next"]["url"]
        assert f"after={pages[-1][-1]}" in following and "limit=2" in following
        response = await client.get(following, headers=city)
    expected = listing.expected
    assert pages == [expected[n : n + 2] for n in range(0, len(expected), 2)]

    whole = await client.get(listing.path, params={**listing.params, "limit": 500}, headers=city)
    assert [item[listing.key] for item in whole.json()] == expected
    assert "link" not in whole.headers
    for limit in (0, 501, "many"):
        refused = await client.get(
            listing.path, params={**listing.params, "limit": limit}, headers=city
        )
        assert (refused.status_code, refused.json()["error"]["field"]) == (422, "limit")
    unknown = await client.get(
        listing.path, params={**listing.params, "after": listing.outsider}, headers=city
    )
    assert unknown.status_code == 422, unknown.text
    assert (unknown.json()["error"]["code"], unknown.json()["error"]["field"]) == (
        "unknown_cursor",
        "after",
    )


async def test_list_items_are_what_the_records_say(
    client: AsyncClient, tokens: Tokens, lists: dict[str, Listing]
) -> None:
    city = tokens(Role.CITY_BUREAU)
    for institution in (await client.get("/institutions", headers=city)).json():
        one = await client.get(f"/institutions/{institution['institution_id']}", headers=city)
        assert institution == one.json()
    for programme in (await client.get("/programmes", headers=city)).json():
        one = await client.get(f"/programmes/{programme['programme_id']}", headers=city)
        assert programme == one.json()
    roster = lists["roster"].path
    for line in (await client.get(roster, headers=city)).json():
        record = (await client.get(f"/trainees/{line['trainee_id']}", headers=city)).json()
        enrolment = next(e for e in record["enrolments"] if e["programme_id"] in roster)
        assert line == {
            "trainee_id": record["trainee_id"],
            "name": record["name"],
            "status": enrolment["status"],
            "enrolled_on": enrolment["enrolled_on"],
            "hours_by_kind": enrolment["hours_by_kind"],
            "exam_score": enrolment["exam_score"],
            "certificate_number": enrolment["training_certificate_number"],
        }
    for line in (await client.get("/registrations", headers=city)).json():
        record = (await client.get(f"/trainees/{line['trainee_id']}", headers=city)).json()
        assert line == {key: record[key] for key in line}


async def test_a_reader_sees_its_own_write_at_once(client: AsyncClient, tokens: Tokens) -> None:
    city, institution = tokens(Role.CITY_BUREAU), tokens(Role.TRAINING_INSTITUTION, UPC)
    programme_id = await publish(client, tokens, UPC, "大数据初级第一期")
    listed = await client.get("/programmes", params={"institution_id": str(UPC)}, headers=city)
    assert [programme["programme_id"] for programme in listed.json()] == [programme_id]
    trainee_id = await register(client, tokens, 1, "单县")
    registered = await client.get("/registrations", params={"county": "单县"}, headers=city)
    assert [line["trainee_id"] for line in registered.json()] == [trainee_id]
    await enrol(client, tokens, trainee_id, programme_id)

    async def roster_line() -> dict[str, Any]:
        roster = await client.get(f"/programmes/{programme_id}/roster", headers=institution)
        [line] = roster.json()
        return line  # type: ignore[no-any-return]

    assert (await roster_line())["status"] == "enrolled"
    base = f"/programmes/{programme_id}/trainees/{trainee_id}"
    hours = {"theory": Decimal(0), "practice": Decimal(0)}
    for day, kind, logged in (
        (20, "theory", "24"),
        (21, "theory", "24"),
        (22, "theory", "24"),
        (23, "theory", "8.0"),
        (24, "practice", "24"),
        (25, "practice", "24"),
    ):
        body = {"date": f"2026-11-{day}", "hours": logged, "kind": kind, "mode": "offline"}
        await created(client, f"{base}/sessions", body, institution)
        hours[kind] += Decimal(logged)
        assert (await roster_line())["hours_by_kind"] == {k: str(h) for k, h in hours.items()}
    assert (await client.put(f"{base}/exam", json={"score": 86.5}, headers=institution)).is_success
    assert (await roster_line())["exam_score"] == "86.5"
    completed = await client.post(f"{base}/completion", headers=institution)
    line = await roster_line()
    assert (line["status"], line["certificate_number"]) == (
        "completed",
        completed.json()["training_certificate_number"],
    )

    await client.post(f"/institutions/{OUC}/suspension", json={"reason": "年度检查"}, headers=city)
    directory = (await client.get("/institutions", headers=city)).json()
    assert [i["suspended"] for i in directory if i["institution_id"] == str(OUC)] == [True]
    await client.post(f"/programmes/{programme_id}/closure", headers=institution)
    listed = await client.get("/programmes", params={"institution_id": str(UPC)}, headers=city)
    assert [programme["enrolment_open"] for programme in listed.json()] == [False]


async def test_chinese_names_round_trip_byte_exact(
    client: AsyncClient, tokens: Tokens, enrollment_settings: EnrollmentSettings
) -> None:
    # Characters outside the Basic Multilingual Plane and from the CJK extensions.
    school, contact, title, name = "菏泽𠀀数字技术学院", "唐䶮", "大数据𠮷班（初级）", "欧阳𠮷"
    institution_id = await accredit(client, tokens, school, contact)
    programme_id = await publish(client, tokens, institution_id, title)
    trainee_id = await register(client, tokens, 7, "鄄城县", name, by=institution_id)
    await enrol(client, tokens, trainee_id, programme_id, by=institution_id)
    city = tokens(Role.CITY_BUREAU)

    async def listed(path: str, key: str, value: str, **params: str) -> dict[str, Any]:
        response = await client.get(path, params={**params, "limit": 500}, headers=city)
        [item] = [item for item in response.json() if item[key] == value]
        return item  # type: ignore[no-any-return]

    institution = await listed("/institutions", "institution_id", institution_id)
    programme = await listed("/programmes", "programme_id", programme_id)
    line = await listed(f"/programmes/{programme_id}/roster", "trainee_id", trainee_id)
    registration = await listed("/registrations", "trainee_id", trainee_id, county="鄄城县")
    for sent, returned in (
        (school, institution["name"]),
        (contact, institution["contact_name"]),
        (title, programme["title"]),
        (name, line["name"]),
        (name, registration["name"]),
    ):
        assert returned.encode() == sent.encode()
    with psycopg.connect(enrollment_settings.database_url) as connection:
        stored = connection.execute(
            "SELECT convert_to(name, 'UTF8') FROM views.registrations WHERE trainee_id = %s",
            (trainee_id,),
        ).fetchone()
    assert stored == (name.encode(),)


async def test_a_rebuild_gives_the_same_lists_and_switches_to_it(
    client: AsyncClient, tokens: Tokens, lists: dict[str, Listing]
) -> None:
    city = tokens(Role.CITY_BUREAU)

    async def every_list() -> dict[str, Any]:
        return {
            name: (
                await client.get(
                    listing.path, params={**listing.params, "limit": 500}, headers=city
                )
            ).json()
            for name, listing in lists.items()
        }

    before = await every_list()
    rebuilt = await client.post("/audit/read-models/rebuild", headers=tokens(Role.AUDITOR))
    assert rebuilt.status_code == 200, rebuilt.text
    report = rebuilt.json()
    assert (report["switched"], report["differences"]) == (True, [])
    assert report["read_models"] == ["Directory", "Programmes", "Registrations"]
    assert await every_list() == before
