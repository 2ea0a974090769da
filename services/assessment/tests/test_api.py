"""The assessment service through HTTP and Kafka, against PostgreSQL and the broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from uuid import UUID, uuid4

import psycopg
import pytest
from assessment_builders import a_candidate
from fastapi import FastAPI
from httpx import AsyncClient

from heze_assessment.main import definition
from heze_assessment.settings import AssessmentSettings
from heze_common.runtime import create_app
from heze_common.testing import Tokens, eventually, publish, read_topic, running
from heze_contracts import parse_event
from heze_contracts.enrollment import (
    TraineeRegistered,
    TraineeRegisteredPayload,
    TraineeWithdrawn,
    TraineeWithdrawnPayload,
    TrainingCompleted,
    TrainingCompletedPayload,
)
from heze_contracts.enums import (
    Field,
    HourKind,
    HourMode,
    Level,
    Role,
)

OCCUPATION = "2-02-07-13"
positions = count(1)
DECLARATION = {"education": "bachelor", "major_relevant": True}
COMMITMENT = "本人承诺所填报的学历、职称、工作年限等信息真实、准确，如有虚假，愿承担一切后果。"


def envelope(event_class, payload, subject: UUID):  # noqa: ANN001, ANN201
    return event_class.build(
        payload,
        position=next(positions),
        occurred_at=datetime.now(UTC),
        origin_id=subject,
        origin_version=next(positions),
        correlation_id=uuid4(),
        causation_id=None,
    )


def registered(trainee_id: UUID) -> TraineeRegistered:
    """A registration as enrollment publishes it (assessment ignores it)."""
    return envelope(
        TraineeRegistered,
        TraineeRegisteredPayload(
            trainee_id=trainee_id, county="牡丹区", employed=False, registered_on=date(2026, 11, 1)
        ),
        trainee_id,
    )


def completed(trainee_id: UUID) -> TrainingCompleted:
    return envelope(
        TrainingCompleted,
        TrainingCompletedPayload(
            trainee_id=trainee_id,
            programme_id=uuid4(),
            institution_id=uuid4(),
            occupation_code=OCCUPATION,
            field=Field.INTELLIGENT_MANUFACTURING,
            level=Level.JUNIOR,
            hours_by_kind={HourKind.THEORY: Decimal("80.0"), HourKind.PRACTICE: Decimal("48.0")},
            hours_by_mode={HourMode.ONLINE: Decimal("80.0"), HourMode.OFFLINE: Decimal("48.0")},
            total_hours=Decimal("128.0"),
            exam_score=Decimal("88.0"),
            training_certificate_number="HZPX2026-2020713-000007",
            subsidised_plan=True,
            completed_on=date(2026, 11, 20),
        ),
        trainee_id,
    )


def withdrawn(trainee_id: UUID) -> TraineeWithdrawn:
    return envelope(
        TraineeWithdrawn,
        TraineeWithdrawnPayload(
            trainee_id=trainee_id,
            programme_id=uuid4(),
            institution_id=uuid4(),
            occupation_code=OCCUPATION,
            level=Level.JUNIOR,
            reason="工作调动",
            withdrawn_on=date(2026, 11, 10),
        ),
        trainee_id,
    )


async def evaluation_institution(
    client: AsyncClient, tokens: Tokens, name: str = "山东省数字技术人才评价中心"
) -> UUID:
    response = await client.post(
        "/evaluation-institutions",
        json={"name": name, "occupations": {OCCUPATION: "intelligent_manufacturing"}},
        headers=tokens(Role.PROVINCIAL_DEPARTMENT),
    )
    assert response.status_code == 201, response.text
    return UUID(response.json()["id"])


async def apply(
    client: AsyncClient, tokens: Tokens, trainee_id: UUID, evaluator: UUID, **overrides: object
):  # noqa: ANN201
    body = {
        "evaluation_institution_id": str(evaluator),
        "occupation_code": OCCUPATION,
        "level": "junior",
        "declaration": DECLARATION,
        "commitment_text": COMMITMENT,
        "commitment_signed": True,
    }
    body.update(overrides)
    return await client.post(
        "/applications", json=body, headers=tokens(Role.TRAINEE, subject=str(trainee_id))
    )


def upstream_topic(settings: AssessmentSettings) -> str:
    return settings.kafka_topic_prefix + "enrollment.events.v1"


async def status_of(client: AsyncClient, tokens: Tokens, application_id: str) -> str:
    response = await client.get(
        f"/applications/{application_id}", headers=tokens(Role.PROVINCIAL_DEPARTMENT)
    )
    return response.json()["status"]


@pytest.mark.parametrize(
    "application_first", [True, False], ids=["application-first", "completion-first"]
)
async def test_the_decision_is_the_same_whichever_arrives_first(
    service: FastAPI,
    client: AsyncClient,
    tokens: Tokens,
    assessment_settings: AssessmentSettings,
    application_first: bool,
) -> None:
    evaluator = await evaluation_institution(client, tokens)
    trainee_id = uuid4()
    topic, bootstrap = (
        upstream_topic(assessment_settings),
        assessment_settings.kafka_bootstrap_servers,
    )
    await publish(bootstrap, topic, registered(trainee_id))
    if application_first:
        response = await apply(client, tokens, trainee_id, evaluator)
        assert response.json()["status"] == "awaiting_training"
        await publish(bootstrap, topic, completed(trainee_id))
    else:
        await publish(bootstrap, topic, completed(trainee_id))
        await eventually(lambda: has_training_proof(service, trainee_id))
        response = await apply(client, tokens, trainee_id, evaluator)
    application_id = response.json()["application_id"]

    async def accepted() -> bool:
        return await status_of(client, tokens, application_id) == "awaiting_review"

    await eventually(accepted)
    published = [
        parse_event(r.value)
        for r in await read_topic(
            bootstrap, assessment_settings.kafka_topic_prefix + "assessment.events.v1"
        )
    ]
    assert [e.event_type for e in published if str(e.subject_id) == str(trainee_id)] == [
        "AssessmentApplied"
    ]


def has_training_proof(service: FastAPI, trainee_id: UUID) -> bool:
    candidate = service.state.application.candidate(trainee_id)
    return candidate.proof(OCCUPATION, Level.JUNIOR) is not None


async def test_a_withdrawn_trainee_application_waiting_is_refused(
    client: AsyncClient, tokens: Tokens, assessment_settings: AssessmentSettings
) -> None:
    evaluator = await evaluation_institution(client, tokens)
    trainee_id = uuid4()
    topic, bootstrap = (
        upstream_topic(assessment_settings),
        assessment_settings.kafka_bootstrap_servers,
    )
    await publish(bootstrap, topic, registered(trainee_id))
    application_id = (await apply(client, tokens, trainee_id, evaluator)).json()["application_id"]
    await publish(bootstrap, topic, withdrawn(trainee_id))

    async def refused() -> bool:
        return await status_of(client, tokens, application_id) == "refused"

    await eventually(refused)
    again = await apply(client, tokens, trainee_id, evaluator)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "trainee_withdrawn")


async def test_a_full_assessment_passes_naming_no_one_and_can_be_voided(
    service: FastAPI, client: AsyncClient, tokens: Tokens, assessment_settings: AssessmentSettings
) -> None:
    evaluator = await evaluation_institution(client, tokens)
    trainee_id = uuid4()
    topic, bootstrap = (
        upstream_topic(assessment_settings),
        assessment_settings.kafka_bootstrap_servers,
    )
    await publish(bootstrap, topic, registered(trainee_id), completed(trainee_id))
    await eventually(lambda: has_training_proof(service, trainee_id))
    application_id = (await apply(client, tokens, trainee_id, evaluator)).json()["application_id"]
    me = tokens(Role.EVALUATION_INSTITUTION, evaluator)
    confirmed = await client.post(
        f"/applications/{application_id}/qualification", json={"confirm": True}, headers=me
    )
    assert confirmed.json()["status"] == "confirmed"
    session = await client.post(
        "/sessions",
        json={
            "occupation_code": OCCUPATION,
            "level": "junior",
            "held_on": "2026-12-05",
            "place": "菏泽学院",
        },
        headers=me,
    )
    session_id = session.json()["session_id"]
    assert (
        await client.post(
            f"/sessions/{session_id}/assignments",
            json={"application_ids": [application_id]},
            headers=me,
        )
    ).status_code == 200
    scores = f"/sessions/{session_id}/applications/{application_id}/scores"
    for bad in (
        {"theory_score": 101, "practical_score": 70},
        {"theory_score": 70.25, "practical_score": 70},
    ):
        assert (await client.put(scores, json=bad, headers=me)).status_code == 422
    passed = await client.put(
        scores, json={"theory_score": 78.5, "practical_score": 82}, headers=me
    )
    assert passed.json()["status"] == "passed"
    twice = await client.put(scores, json={"theory_score": 90, "practical_score": 90}, headers=me)
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_scored")
    voided = await client.post(
        f"/applications/{application_id}/voiding",
        json={"reason": "学历证书核查不实"},
        headers=tokens(Role.PROVINCIAL_DEPARTMENT),
    )
    assert voided.json()["voided"] is True

    async def all_published() -> bool:
        events = await read_topic(
            bootstrap, assessment_settings.kafka_topic_prefix + "assessment.events.v1"
        )
        return len(events) >= 4

    await eventually(all_published)
    events = [
        parse_event(r.value)
        for r in await read_topic(
            bootstrap, assessment_settings.kafka_topic_prefix + "assessment.events.v1"
        )
    ]
    assert [e.event_type for e in events] == [
        "AssessmentApplied",
        "QualificationConfirmed",
        "AssessmentPassed",
        "AssessmentResultVoided",
    ]
    passed_event = events[2].payload
    assert passed_event.trainee_id == trainee_id and "holder" not in passed_event.model_dump()
    assert passed_event.assessment_ended_on == date(2026, 12, 5)
    assert str(passed_event.theory_score) == "78.5"


async def test_conditions_not_met_are_refused_naming_what_is_missing(
    client: AsyncClient, tokens: Tokens
) -> None:
    evaluator = await evaluation_institution(client, tokens)
    response = await apply(
        client,
        tokens,
        uuid4(),
        evaluator,
        declaration={"education": "college", "major_relevant": True},
    )
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["field"]) == (
        409,
        "conditions_not_met",
        "declaration",
    )
    assert error["details"]["unmet"]["junior.college_1y"] == ["1 year(s) in the occupation"]


async def test_unsigned_commitments_and_malformed_bodies_are_422(
    client: AsyncClient, tokens: Tokens
) -> None:
    evaluator = await evaluation_institution(client, tokens)
    unsigned = await apply(client, tokens, uuid4(), evaluator, commitment_signed=False)
    assert (unsigned.status_code, unsigned.json()["error"]["code"]) == (
        422,
        "commitment_not_signed",
    )
    for body in ({}, {"declaration": {"education": "phd"}}, {"occupation_code": "abc"}):
        response = await client.post(
            "/applications", json=body, headers=tokens(Role.TRAINEE, subject=str(uuid4()))
        )
        assert response.status_code == 422


async def test_roles_are_refused_what_is_not_theirs(client: AsyncClient, tokens: Tokens) -> None:
    evaluator = await evaluation_institution(client, tokens)
    other = await evaluation_institution(client, tokens, "另一评价机构")
    trainee_id = uuid4()
    application_id = (await apply(client, tokens, trainee_id, evaluator)).json()["application_id"]
    session_id = (
        await client.post(
            "/sessions",
            json={
                "occupation_code": OCCUPATION,
                "level": "junior",
                "held_on": "2026-12-05",
                "place": "x",
            },
            headers=tokens(Role.EVALUATION_INSTITUTION, evaluator),
        )
    ).json()["session_id"]
    forbidden = [
        (
            "POST",
            "/evaluation-institutions",
            {"name": "n", "occupations": {OCCUPATION: "intelligent_manufacturing"}},
            tokens(Role.EVALUATION_INSTITUTION, evaluator),
        ),
        ("POST", "/applications", {}, tokens(Role.EVALUATION_INSTITUTION, evaluator)),
        (
            "GET",
            f"/applications/{application_id}",
            None,
            tokens(Role.TRAINEE, subject=str(uuid4())),
        ),
        (
            "GET",
            f"/applications/{application_id}",
            None,
            tokens(Role.EVALUATION_INSTITUTION, other),
        ),
        (
            "POST",
            f"/applications/{application_id}/qualification",
            {"confirm": True},
            tokens(Role.EVALUATION_INSTITUTION, other),
        ),
        (
            "POST",
            f"/applications/{application_id}/qualification",
            {"confirm": True},
            tokens(Role.PROVINCIAL_DEPARTMENT),
        ),
        (
            "POST",
            f"/sessions/{session_id}/assignments",
            {"application_ids": [application_id]},
            tokens(Role.EVALUATION_INSTITUTION, other),
        ),
        (
            "GET",
            f"/applications?evaluation_institution_id={evaluator}",
            None,
            tokens(Role.EVALUATION_INSTITUTION, other),
        ),
        (
            "PUT",
            f"/rules/{OCCUPATION}",
            {"name": "x", "routes": {}, "effective_from": "2027-01-01"},
            tokens(Role.EVALUATION_INSTITUTION, evaluator),
        ),
        (
            "POST",
            f"/applications/{application_id}/voiding",
            {"reason": "x"},
            tokens(Role.TRAINEE, subject=str(trainee_id)),
        ),
    ]
    for method, path, body, headers in forbidden:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
    for headers in (
        tokens(Role.TRAINEE, subject=str(trainee_id)),
        tokens(Role.AUDITOR),
        tokens(Role.EVALUATION_INSTITUTION, evaluator),
    ):
        assert (
            await client.get(f"/applications/{application_id}", headers=headers)
        ).status_code == 200


async def confirmed_applicant(
    service: FastAPI, client: AsyncClient, tokens: Tokens, evaluator: UUID
) -> str:
    """An application confirmed by `evaluator`, its trainee's training proof stored directly."""
    trainee_id = uuid4()
    candidate = a_candidate(trainee_id)
    candidate.record_completion(
        OCCUPATION, Level.JUNIOR, "HZPX2026-2020713-000001", date(2026, 11, 20)
    )
    await asyncio.to_thread(service.state.application.save, candidate)
    application_id = (await apply(client, tokens, trainee_id, evaluator)).json()["application_id"]
    confirmed = await client.post(
        f"/applications/{application_id}/qualification",
        json={"confirm": True},
        headers=tokens(Role.EVALUATION_INSTITUTION, evaluator),
    )
    assert confirmed.json()["status"] == "confirmed", confirmed.text
    return application_id


async def scheduled(
    client: AsyncClient,
    tokens: Tokens,
    evaluator: UUID,
    held_on: str,
    place: str,
    level: str = "junior",
) -> str:
    response = await client.post(
        "/sessions",
        json={"occupation_code": OCCUPATION, "level": level, "held_on": held_on, "place": place},
        headers=tokens(Role.EVALUATION_INSTITUTION, evaluator),
    )
    assert response.status_code == 201, response.text
    return response.json()["session_id"]


async def test_sessions_are_listed_with_their_applicant_counts_each_institution_its_own(
    service: FastAPI, client: AsyncClient, tokens: Tokens
) -> None:
    evaluator = await evaluation_institution(client, tokens)
    other = await evaluation_institution(client, tokens, "另一评价机构")
    me = tokens(Role.EVALUATION_INSTITUTION, evaluator)
    first = await scheduled(client, tokens, evaluator, "2026-12-05", "菏泽学院")
    empty = await scheduled(client, tokens, evaluator, "2026-12-12", "菏泽职业学院")
    theirs = await scheduled(client, tokens, other, "2026-12-19", "别处")

    async def listed(headers: dict[str, str], **params: str) -> list[dict]:
        response = await client.get("/sessions", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    # Scheduled, nobody assigned yet: each is listed, with no applicants.
    assert [(s["session_id"], s["applicant_count"]) for s in await listed(me)] == [
        (first, 0),
        (empty, 0),
    ]
    applications = [await confirmed_applicant(service, client, tokens, evaluator) for _ in "ab"]
    assigned = await client.post(
        f"/sessions/{first}/assignments", json={"application_ids": applications}, headers=me
    )
    assert assigned.status_code == 200, assigned.text
    mine = await listed(me)
    assert mine == [
        {
            "session_id": first,
            "evaluation_institution_id": str(evaluator),
            "occupation_code": OCCUPATION,
            "level": "junior",
            "held_on": "2026-12-05",
            "place": "菏泽学院",
            "applicant_count": 2,
        },
        {
            "session_id": empty,
            "evaluation_institution_id": str(evaluator),
            "occupation_code": OCCUPATION,
            "level": "junior",
            "held_on": "2026-12-12",
            "place": "菏泽职业学院",
            "applicant_count": 0,
        },
    ]
    # The same institution's id named, as the token's: the same list.
    assert await listed(me, evaluation_institution_id=str(evaluator)) == mine
    # The province and auditors read every institution's, or one's.
    for reader in (tokens(Role.PROVINCIAL_DEPARTMENT), tokens(Role.AUDITOR)):
        assert [s["session_id"] for s in await listed(reader)] == [first, empty, theirs]
        assert [
            s["session_id"] for s in await listed(reader, evaluation_institution_id=str(other))
        ] == [theirs]
    # Another institution's sessions are refused, and the other's own list holds none of these.
    refused = await client.get(
        "/sessions",
        params={"evaluation_institution_id": str(evaluator)},
        headers=tokens(Role.EVALUATION_INSTITUTION, other),
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "other_organisation")
    assert [s["session_id"] for s in await listed(tokens(Role.EVALUATION_INSTITUTION, other))] == [
        theirs
    ]
    trainee = await client.get("/sessions", headers=tokens(Role.TRAINEE, subject=str(uuid4())))
    assert (trainee.status_code, trainee.json()["error"]["code"]) == (403, "role_not_allowed")


async def test_sessions_are_filtered_by_occupation_and_level_and_paginated(
    client: AsyncClient, tokens: Tokens
) -> None:
    evaluator = await evaluation_institution(client, tokens)
    me = tokens(Role.EVALUATION_INSTITUTION, evaluator)
    junior = [
        await scheduled(client, tokens, evaluator, f"2026-12-0{day}", f"考点{day}")
        for day in (1, 2, 3)
    ]
    intermediate = await scheduled(
        client, tokens, evaluator, "2026-12-04", "考点4", level="intermediate"
    )

    async def ids(**params: object) -> list[str]:
        response = await client.get("/sessions", params=params, headers=me)
        assert response.status_code == 200, response.text
        return [s["session_id"] for s in response.json()]

    assert await ids() == [*junior, intermediate]
    assert await ids(level="junior") == junior
    assert await ids(level="intermediate", occupation_code=OCCUPATION) == [intermediate]
    assert await ids(occupation_code="2-02-10-11") == []

    # Pages of two, the next linked; after the last item, nothing.
    response = await client.get("/sessions", params={"limit": 2}, headers=me)
    assert [s["session_id"] for s in response.json()] == junior[:2]
    following = response.links["next"]["url"]
    assert f"after={junior[1]}" in following and "limit=2" in following
    response = await client.get(following, headers=me)
    assert [s["session_id"] for s in response.json()] == [junior[2], intermediate]
    assert "next" not in response.links
    assert await ids(after=intermediate) == []
    assert await ids(level="junior", after=junior[0]) == junior[1:]

    # A cursor naming no session, a limit out of range, malformed filters: 422 naming the field.
    for params, field in (
        ({"after": str(uuid4())}, "after"),
        ({"after": "not-a-uuid"}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"level": "expert"}, "level"),
        ({"occupation_code": "abc"}, "occupation_code"),
        ({"evaluation_institution_id": "x"}, "evaluation_institution_id"),
    ):
        response = await client.get("/sessions", params=params, headers=me)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["field"] == field, (params, response.text)
    unknown = await client.get("/sessions", params={"after": str(uuid4())}, headers=me)
    assert unknown.json()["error"]["code"] == "unknown_cursor"


async def test_province_sets_rules_for_an_occupation_from_a_date(
    client: AsyncClient, tokens: Tokens
) -> None:
    rules = {
        "name": "大数据工程技术人员国家职业标准",
        "routes": {"junior": [{"name": "junior.any_bachelor", "education_at_least": "bachelor"}]},
        "effective_from": "2026-01-01",
    }
    assert (
        await client.put(
            "/rules/2-02-10-11", json=rules, headers=tokens(Role.PROVINCIAL_DEPARTMENT)
        )
    ).status_code == 204
    in_force = (
        await client.get("/rules/2-02-10-11?on=2026-06-01", headers=tokens(Role.AUDITOR))
    ).json()
    before = (
        await client.get("/rules/2-02-10-11?on=2025-06-01", headers=tokens(Role.AUDITOR))
    ).json()
    assert (in_force["applies"], in_force["rules"]["name"]) == (
        "2-02-10-11",
        "大数据工程技术人员国家职业标准",
    )
    assert before["applies"] == "*"


async def test_the_openapi_and_asyncapi_documents_are_served(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {
        "/applications",
        "/sessions",
        "/evaluation-institutions",
        "/rules/{occupation_code}",
    } <= set(paths)
    asyncapi = (await client.get("/asyncapi.json")).json()
    assert any("assessment.events.v1" in name for name in asyncapi["channels"])


async def test_sessions_scheduled_before_the_listing_existed_are_listed_after_the_upgrade(
    assessment_settings: AssessmentSettings, tokens: Tokens, database_url: str
) -> None:
    """A database of the release before `GET /sessions`: its sessions are in the log but its
    views have no `sessions` table. The upgraded service makes the table and fills it from the
    whole log beside the live views."""
    async with running(create_app(definition(assessment_settings))) as client:
        evaluator = await evaluation_institution(client, tokens)
        before = await scheduled(client, tokens, evaluator, "2026-12-05", "菏泽学院")
    with psycopg.connect(database_url, autocommit=True) as connection:  # as the release before
        connection.execute("DROP TABLE views.sessions, views.incomplete_tables")
    async with running(create_app(definition(assessment_settings))) as client:
        after = await scheduled(client, tokens, evaluator, "2026-12-12", "菏泽职业学院")
        me = tokens(Role.EVALUATION_INSTITUTION, evaluator)

        async def both_listed() -> bool:
            listed = (await client.get("/sessions", headers=me)).json()
            return [s["session_id"] for s in listed] == [before, after]

        await eventually(both_listed)
