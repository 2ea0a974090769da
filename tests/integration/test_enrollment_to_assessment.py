"""Two real services over the real broker: enrollment's TrainingCompleted lets an assessment
application through; a withdrawn trainee's application is refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from httpx import AsyncClient

from heze_assessment.main import definition as assessment_definition
from heze_assessment.settings import AssessmentSettings
from heze_common import clock
from heze_common.auth import TokenIssuer
from heze_common.runtime import create_app
from heze_common.testing import Tokens, eventually, running, service_settings
from heze_contracts.enums import Role
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import Institution
from heze_enrollment.main import definition as enrollment_definition
from heze_enrollment.settings import EnrollmentSettings

LDU = Institution.create_id("鲁东大学")  # intelligent manufacturing
OCCUPATION = "2-02-07-13"


@pytest.fixture
async def services(
    database_url: str, second_database_url: str, kafka_bootstrap_servers: str
) -> AsyncIterator[tuple]:
    common = {
        "kafka_bootstrap_servers": kafka_bootstrap_servers,
        "kafka_topic_prefix": f"t{uuid.uuid4().hex[:10]}.",
    }
    enrollment = service_settings(EnrollmentSettings, database_url=database_url, **common)
    assessment = service_settings(AssessmentSettings, database_url=second_database_url, **common)
    with clock.frozen_at(datetime(2026, 11, 27, 2, 0, tzinfo=UTC)):
        async with running(create_app(enrollment_definition(enrollment))) as enrollment_client:
            async with running(create_app(assessment_definition(assessment))) as assessment_client:
                yield enrollment_client, assessment_client, Tokens(TokenIssuer(enrollment))


async def register_and_enrol(
    client: AsyncClient, tokens: Tokens, programme_id: str, number: int
) -> str:
    institution = tokens(Role.TRAINING_INSTITUTION, LDU)
    body = {
        "name": f"学员{number}",
        "id_number": ResidentId.compose("371702", date(1994, 3, 3), 2 * number + 1),
        "phone": "13800000000",
        "education": "bachelor",
        "major": "机械设计制造及其自动化",
        "county": "巨野县",
        "participant_category": "digital_worker",
        "person_consents": True,
    }
    trainee_id = (await client.post("/trainees", json=body, headers=institution)).json()[
        "trainee_id"
    ]
    enrolled = await client.post(
        f"/trainees/{trainee_id}/enrolments",
        json={"programme_id": programme_id},
        headers=institution,
    )
    assert enrolled.status_code == 201, enrolled.text
    return trainee_id


async def test_completion_through_kafka_lets_the_application_through_and_withdrawal_refuses_it(
    services: tuple,
) -> None:
    enrollment, assessment, tokens = services
    city, province = tokens(Role.CITY_BUREAU), tokens(Role.PROVINCIAL_DEPARTMENT)
    institution = tokens(Role.TRAINING_INSTITUTION, LDU)
    await enrollment.put(
        f"/occupations/{OCCUPATION}/hour-requirements/junior",
        json={"hours": {"theory": 4, "practice": 2}, "effective_from": "2026-01-01"},
        headers=city,
    )
    programme_id = (
        await enrollment.post(
            "/programmes",
            json={
                "occupation_code": OCCUPATION,
                "level": "junior",
                "title": "智能制造工程技术人员（初级）",
                "capacity": 10,
                "starts_on": "2026-11-01",
                "ends_on": "2027-01-31",
            },
            headers=institution,
        )
    ).json()["id"]
    evaluator = (
        await assessment.post(
            "/evaluation-institutions",
            json={
                "name": "山东省智能制造评价中心",
                "occupations": {OCCUPATION: "intelligent_manufacturing"},
            },
            headers=province,
        )
    ).json()["id"]

    finisher = await register_and_enrol(enrollment, tokens, programme_id, 1)
    leaver = await register_and_enrol(enrollment, tokens, programme_id, 2)
    base = f"/programmes/{programme_id}/trainees/{finisher}"
    await enrollment.post(
        f"{base}/sessions",
        json={"date": "2026-11-10", "hours": 4, "kind": "theory", "mode": "online"},
        headers=institution,
    )
    await enrollment.post(
        f"{base}/sessions",
        json={"date": "2026-11-11", "hours": 2, "kind": "practice", "mode": "offline"},
        headers=institution,
    )
    await enrollment.put(f"{base}/exam", json={"score": 75}, headers=institution)
    assert (await enrollment.post(f"{base}/completion", headers=institution)).status_code == 200
    await enrollment.post(
        f"/trainees/{leaver}/enrolments/{programme_id}/withdrawal",
        json={"reason": "工作调动"},
        headers=institution,
    )

    application = {
        "evaluation_institution_id": evaluator,
        "occupation_code": OCCUPATION,
        "level": "junior",
        "declaration": {"education": "bachelor", "major_relevant": True},
        "commitment_text": "本人承诺申报信息真实。",
        "commitment_signed": True,
    }
    accepted = await assessment.post(
        "/applications", json=application, headers=tokens(Role.TRAINEE, subject=finisher)
    )
    refused = await assessment.post(
        "/applications", json=application, headers=tokens(Role.TRAINEE, subject=leaver)
    )
    assert accepted.status_code == 201 and refused.status_code in (201, 409)

    async def decided() -> bool:
        view = await assessment.get(
            f"/applications/{accepted.json()['application_id']}", headers=province
        )
        return view.json()["status"] == "awaiting_review"

    await eventually(decided)
    if refused.status_code == 201:  # filed before the withdrawal arrived: refused when it does

        async def refused_later() -> bool:
            view = await assessment.get(
                f"/applications/{refused.json()['application_id']}", headers=province
            )
            return view.json()["status"] == "refused"

        await eventually(refused_later)
    else:
        assert refused.json()["error"]["code"] == "trainee_withdrawn"
