"""A certificate's whole life through HTTP and Kafka, against PostgreSQL and the broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import pytest
from httpx import AsyncClient

from certification_builders import PEOPLE

from heze_certification.settings import CertificationSettings
from heze_common import clock
from heze_common.credential_check import Finding, Verdict, check_credential
from heze_common.credentials import unverified_parts
from heze_common.testing import Tokens, eventually, publish, read_topic
from heze_contracts import parse_event
from heze_contracts.assessment import (
    AssessmentPassed,
    AssessmentPassedPayload,
    AssessmentResultVoided,
    AssessmentResultVoidedPayload,
)
from heze_contracts.enrollment import (
    TraineeRegistered,
    TraineeRegisteredPayload,
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

positions = count(1)
NAME, ID_NUMBER, PHONE = "唐三藏", "11010519491231002X", "13712345678"
TODAY = datetime(2026, 9, 24, 2, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(TODAY):
        yield


def build(event_class, payload, subject: UUID):  # noqa: ANN001, ANN201
    return event_class.build(
        payload,
        position=next(positions),
        occurred_at=datetime.now(UTC),
        origin_id=subject,
        origin_version=next(positions),
        correlation_id=uuid4(),
        causation_id=None,
    )


def upstream(trainee_id: UUID, application_id: UUID, evaluator: UUID) -> tuple[list, list]:
    """The facts the certificate stands on, as their producers publish them; the holder's name
    and ID number only enrollment's claim check tells."""
    PEOPLE.enrol(trainee_id, NAME, ID_NUMBER)
    enrollment = [
        build(
            TraineeRegistered,
            TraineeRegisteredPayload(
                trainee_id=trainee_id,
                county="东明县",
                employed=True,
                registered_on=date(2026, 3, 1),
            ),
            trainee_id,
        ),
        build(
            TrainingCompleted,
            TrainingCompletedPayload(
                trainee_id=trainee_id,
                programme_id=uuid4(),
                institution_id=uuid4(),
                occupation_code="2-02-07-13",
                field=Field.INTELLIGENT_MANUFACTURING,
                level=Level.JUNIOR,
                hours_by_kind={
                    HourKind.THEORY: Decimal("80.0"),
                    HourKind.PRACTICE: Decimal("48.0"),
                },
                hours_by_mode={HourMode.ONLINE: Decimal("60.0"), HourMode.OFFLINE: Decimal("68.0")},
                total_hours=Decimal("128.0"),
                exam_score=Decimal("91.0"),
                training_certificate_number="HZPX2026-2020713-000009",
                subsidised_plan=True,
                completed_on=date(2026, 6, 30),
            ),
            trainee_id,
        ),
    ]
    assessment = [
        build(
            AssessmentPassed,
            AssessmentPassedPayload(
                application_id=application_id,
                trainee_id=trainee_id,
                evaluation_institution_id=evaluator,
                session_id=uuid4(),
                occupation_code="2-02-07-13",
                field=Field.INTELLIGENT_MANUFACTURING,
                level=Level.JUNIOR,
                theory_score=Decimal("81.0"),
                practical_score=Decimal("77.5"),
                assessment_ended_on=date(2026, 9, 10),
            ),
            trainee_id,
        ),
    ]
    return enrollment, assessment


async def fetched_and_checked(client: AsyncClient, signed: str) -> Finding:
    """Check a credential with the issuer keys and status lists the service publishes now."""
    served: dict[str, str] = {}
    for url in (unverified_parts(signed)[1]["issuer"], *status_lists_of(signed)):
        served[url] = (await client.get(urlsplit(url).path)).raise_for_status().text
    return check_credential(signed, Served(served), now=clock.now())


def status_lists_of(signed: str) -> list[str]:
    return [
        entry["statusListCredential"] for entry in unverified_parts(signed)[1]["credentialStatus"]
    ]


class Served:
    def __init__(self, documents: dict[str, str]):
        self.documents = documents

    def issuer_keys(self, issuer: str) -> list[dict[str, object]]:
        return json.loads(self.documents[issuer])["keys"]

    def status_list(self, url: str) -> str:
        return self.documents[url]


async def test_a_certificate_from_pass_to_revocation(
    client: AsyncClient, tokens: Tokens, certification_settings: CertificationSettings
) -> None:
    prefix, bootstrap = (
        certification_settings.kafka_topic_prefix,
        certification_settings.kafka_bootstrap_servers,
    )
    trainee_id, application_id, evaluator = uuid4(), uuid4(), uuid4()
    enrollment_events, assessment_events = upstream(trainee_id, application_id, evaluator)
    await publish(bootstrap, prefix + "assessment.events.v1", *assessment_events)
    await publish(bootstrap, prefix + "enrollment.events.v1", *enrollment_events)
    me, province, national = (
        tokens(Role.EVALUATION_INSTITUTION, evaluator),
        tokens(Role.PROVINCIAL_DEPARTMENT),
        tokens(Role.NATIONAL_OFFICE),
    )

    async def case_opened() -> bool:
        return bool((await client.get("/cases", headers=me)).json())

    await eventually(case_opened)
    case_id = (await client.get("/cases", headers=me)).json()[0]["case_id"]
    assert (await client.post(f"/cases/{case_id}/confirmation", headers=province)).json()["error"][
        "code"
    ] == "wrong_stage"
    reported = (await client.post(f"/cases/{case_id}/report", headers=me)).json()
    assert (reported["due_on"], reported["due_is_provisional"]) == ("2026-10-15", False)
    returned = await client.post(
        f"/cases/{case_id}/return", json={"reasons": ["身份证号与照片不符"]}, headers=province
    )
    assert returned.json()["status"] == "awaiting_report"
    await client.post(f"/cases/{case_id}/report", headers=me)
    assert (await client.post(f"/cases/{case_id}/confirmation", headers=province)).json()[
        "status"
    ] == "awaiting_approval"
    assert (await client.post(f"/cases/{case_id}/approval", headers=me)).status_code == 403
    assert (await client.post(f"/cases/{case_id}/approval", headers=national)).json()[
        "due_on"
    ] == "2026-10-24"
    issued = (await client.post(f"/cases/{case_id}/issuance", headers=me)).json()
    number = issued["certificate_number"]
    assert number == "HZSZ2026-2020713-J-000001"

    holder = tokens(Role.TRAINEE, subject=str(trainee_id))
    signed = (await client.get(f"/certificates/{number}/credential", headers=holder)).text
    assert (await fetched_and_checked(client, signed)).verdict is Verdict.VALID
    assert (await client.get(f"/certificates/{number}/credential", headers=me)).text == signed
    other_trainee = tokens(Role.TRAINEE, subject=str(uuid4()))
    refused = await client.get(f"/certificates/{number}/credential", headers=other_trainee)
    assert refused.json()["error"]["code"] == "not_your_certificate"
    guessed = await client.get(
        f"/public/certificates/{number}/verification", params={"code": "AAAAAAAAAAAAAAAA"}
    )
    assert guessed.json() == {**dict.fromkeys(guessed.json()), "status": "unknown"}

    verify = "/public/certificates/verify"
    valid = (await client.get(verify, params={"number": number, "name": NAME})).json()
    assert valid == {
        "status": "valid",
        "occupation_code": "2-02-07-13",
        "level": "junior",
        "issued_on": "2026-09-24",
    }
    assert (await client.get(verify, params={"number": number, "name": "别人"})).json() == {
        "status": "unknown",
        "occupation_code": None,
        "level": None,
        "issued_on": None,
    }
    assert (
        await client.get(verify, params={"number": "HZSZ2026-0000000-J-999999", "name": NAME})
    ).json()["status"] == "unknown"
    # A sweep of consecutive numbers (the issued one among them) with made-up names learns
    # nothing: an issued number answers as one never issued.
    sweep = [
        (await client.get(verify, params={"number": f"{number[:-6]}{n:06d}", "name": f"某{n}"}))
        for n in range(1, 6)
    ]
    assert {response.text for response in sweep} == {
        '{"status":"unknown","occupation_code":null,"level":null,"issued_on":null}'
    }

    pool = (
        await client.get(
            "/talent-pool",
            params={"field": "intelligent_manufacturing", "county": "东明县"},
            headers=tokens(Role.CITY_BUREAU),
        )
    ).json()
    assert [entry["trainee_id"] for entry in pool] == [str(trainee_id)]
    credits = (
        await client.get("/continuing-education/2026", headers=tokens(Role.CITY_BUREAU))
    ).json()
    assert [(c["name"], c["hours"]) for c in credits] == [(NAME, "128.0")]
    csv = await client.get(
        "/continuing-education/2026", params={"format": "csv"}, headers=tokens(Role.CITY_BUREAU)
    )
    assert NAME in csv.content.decode("utf-8-sig") and csv.headers["content-type"].startswith(
        "text/csv"
    )
    eligibility = (
        await client.get(
            f"/talent/{trainee_id}/eligibility",
            params={"title_series": "工程系列"},
            headers=tokens(Role.TRAINEE, subject=str(trainee_id)),
        )
    ).json()
    assert eligibility["certificates"][0]["title_recognition"] == "recognised_without_second_review"
    assert eligibility["entrepreneurship_loan_eligible"] is True

    voided = build(
        AssessmentResultVoided,
        AssessmentResultVoidedPayload(
            application_id=application_id,
            trainee_id=trainee_id,
            evaluation_institution_id=evaluator,
            reason="承诺事项核查不实",
            voided_at=datetime.now(UTC),
        ),
        trainee_id,
    )
    await publish(bootstrap, prefix + "assessment.events.v1", voided)

    async def revoked() -> bool:
        return (await client.get(verify, params={"number": number, "name": NAME})).json()[
            "status"
        ] == "revoked"

    await eventually(revoked)
    finding = await fetched_and_checked(client, signed)
    assert (finding.verdict, finding.reasons[-1]) == (
        Verdict.REVOKED,
        "the revocation list sets entry 0",
    )
    response = await client.get(verify, params={"number": number, "name": NAME})
    assert ID_NUMBER not in response.text and PHONE not in response.text

    async def published_all() -> bool:
        events = await read_topic(bootstrap, prefix + "certification.events.v1", idle_ms=200)
        return len(events) >= 9

    await eventually(published_all)
    published = await read_topic(bootstrap, prefix + "certification.events.v1")
    assert not any(NAME.encode() in r.value or ID_NUMBER.encode() in r.value for r in published)
    types = [parse_event(r.value).event_type for r in published]
    assert sorted(types) == sorted(
        [
            "ContinuingEducationHoursCredited",
            "CertificateDataReported",
            "ProvinceReturned",
            "CertificateDataReported",
            "ProvinceConfirmed",
            "NationalApproved",
            "CertificateIssued",
            "TalentPoolAdmitted",
            "CertificateRevoked",
        ]
    )


async def test_breaches_are_published_once_and_listed_as_overdue(
    client: AsyncClient, tokens: Tokens, certification_settings: CertificationSettings
) -> None:
    prefix, bootstrap = (
        certification_settings.kafka_topic_prefix,
        certification_settings.kafka_bootstrap_servers,
    )
    trainee_id, evaluator = uuid4(), uuid4()
    _, assessment_events = upstream(trainee_id, uuid4(), evaluator)
    await publish(bootstrap, prefix + "assessment.events.v1", *assessment_events)
    me = tokens(Role.EVALUATION_INSTITUTION, evaluator)

    async def has_case() -> bool:
        return bool((await client.get("/cases", headers=me)).json())

    await eventually(has_case)
    with clock.frozen_at(datetime(2026, 10, 20, 2, tzinfo=UTC)):  # the report was due on 10 October

        async def breach_published() -> bool:
            events = [
                parse_event(r.value)
                for r in await read_topic(
                    bootstrap, prefix + "certification.events.v1", idle_ms=200
                )
            ]
            return any(e.event_type == "DeadlineBreached" for e in events)

        await eventually(breach_published)
        overdue = (
            await client.get(
                "/deadlines/overdue", params={"stage": "report_to_province"}, headers=me
            )
        ).json()
        assert [(o["trainee_id"], o["days_late"]) for o in overdue] == [(str(trainee_id), 10)]
        await asyncio.sleep(1.0)  # the watcher runs several more rounds
    events = [
        parse_event(r.value)
        for r in await read_topic(bootstrap, prefix + "certification.events.v1")
    ]
    breaches = [e.payload for e in events if e.event_type == "DeadlineBreached"]
    assert len(breaches) == 1
    assert (breaches[0].stage.value, breaches[0].due_on, breaches[0].days_late) == (
        "report_to_province",
        date(2026, 10, 10),
        10,
    )


async def test_a_2027_deadline_is_provisional_in_the_api_until_the_calendar_is_loaded(
    client: AsyncClient, tokens: Tokens, certification_settings: CertificationSettings
) -> None:
    prefix, bootstrap = (
        certification_settings.kafka_topic_prefix,
        certification_settings.kafka_bootstrap_servers,
    )
    evaluator = uuid4()
    _, assessment_events = upstream(uuid4(), uuid4(), evaluator)
    await publish(bootstrap, prefix + "assessment.events.v1", *assessment_events)
    me = tokens(Role.EVALUATION_INSTITUTION, evaluator)

    async def has_case() -> bool:
        return bool((await client.get("/cases", headers=me)).json())

    await eventually(has_case)
    case_id = (await client.get("/cases", headers=me)).json()[0]["case_id"]
    with clock.frozen_at(datetime(2026, 12, 28, 2, tzinfo=UTC)):
        reported = (await client.post(f"/cases/{case_id}/report", headers=me)).json()
    assert (reported["due_on"], reported["due_is_provisional"]) == ("2027-01-11", True)
    calendar = {"holidays": ["2027-01-01", "2027-01-04"], "makeup_workdays": ["2027-01-09"]}
    loaded = await client.put(
        "/calendars/2027", json=calendar, headers=tokens(Role.PROVINCIAL_DEPARTMENT)
    )
    assert loaded.json() == {"year": 2027, "deadlines_recomputed": 1}
    case = (await client.get(f"/cases/{case_id}", headers=me)).json()
    assert (case["due_on"], case["due_is_provisional"]) == ("2027-01-12", False)
    bad = await client.put(
        "/calendars/2027",
        json={"holidays": ["2026-01-01"], "makeup_workdays": []},
        headers=tokens(Role.PROVINCIAL_DEPARTMENT),
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "date_outside_year")

    async def change_published() -> bool:
        events = [
            parse_event(r.value)
            for r in await read_topic(bootstrap, prefix + "certification.events.v1", idle_ms=200)
        ]
        return any(e.event_type == "DeadlineChanged" for e in events)

    await eventually(change_published)
    assert json.dumps(case, ensure_ascii=False)  # the view serialises (Chinese names included)
