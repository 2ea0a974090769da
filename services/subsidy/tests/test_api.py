"""The subsidy service through HTTP and Kafka, against PostgreSQL and the broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count, permutations
from uuid import UUID, uuid4

from fastapi import FastAPI
from httpx import AsyncClient

from heze_common.testing import Tokens, eventually, publish, read_topic
from heze_contracts import parse_event
from heze_contracts.certification import (
    CertificateIssued,
    CertificateIssuedPayload,
    CertificateRevoked,
    CertificateRevokedPayload,
)
from heze_contracts.enrollment import (
    TraineeEnrolled,
    TraineeEnrolledPayload,
    TrainingCompleted,
    TrainingCompletedPayload,
)
from heze_contracts.enums import Field, HourKind, HourMode, Level, Role
from heze_subsidy.settings import SubsidySettings

OCCUPATION = "2-02-10-11"
positions = count(1)


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


def enrollment_facts(trainee_id: UUID, programme_id: UUID, institution_id: UUID) -> list:
    return [
        build(
            TraineeEnrolled,
            TraineeEnrolledPayload(
                trainee_id=trainee_id,
                programme_id=programme_id,
                institution_id=institution_id,
                occupation_code=OCCUPATION,
                field=Field.BIG_DATA,
                level=Level.JUNIOR,
                subsidised_plan=True,
                enrolled_on=date(2026, 3, 1),
            ),
            trainee_id,
        ),
        build(
            TrainingCompleted,
            TrainingCompletedPayload(
                trainee_id=trainee_id,
                programme_id=programme_id,
                institution_id=institution_id,
                occupation_code=OCCUPATION,
                field=Field.BIG_DATA,
                level=Level.JUNIOR,
                hours_by_kind={
                    HourKind.THEORY: Decimal("80.0"),
                    HourKind.PRACTICE: Decimal("48.0"),
                },
                hours_by_mode={HourMode.ONLINE: Decimal("128.0"), HourMode.OFFLINE: Decimal("0.0")},
                total_hours=Decimal("128.0"),
                exam_score=Decimal("70.0"),
                training_certificate_number="HZPX2026-2021011-000003",
                subsidised_plan=True,
                completed_on=date(2026, 6, 1),
            ),
            trainee_id,
        ),
    ]


def certification_facts(trainee_id: UUID) -> list:
    return [
        build(
            CertificateIssued,
            CertificateIssuedPayload(
                case_id=uuid4(),
                trainee_id=trainee_id,
                certificate_number=f"HZSZ2026-2021011-J-{next(positions):06d}",
                occupation_code=OCCUPATION,
                field=Field.BIG_DATA,
                level=Level.JUNIOR,
                evaluation_institution_id=uuid4(),
                issued_on=date(2026, 9, 1),
            ),
            trainee_id,
        ),
    ]


async def certified_trainee(service: FastAPI, settings: SubsidySettings) -> tuple[UUID, UUID]:
    """A trainee whose enrolment, completion and level certificate the service has learnt."""
    trainee_id, programme_id = uuid4(), uuid4()
    prefix, bootstrap = settings.kafka_topic_prefix, settings.kafka_bootstrap_servers
    await publish(
        bootstrap,
        prefix + "enrollment.events.v1",
        *enrollment_facts(trainee_id, programme_id, uuid4()),
    )
    await publish(bootstrap, prefix + "certification.events.v1", *certification_facts(trainee_id))
    beneficiary = service.state.application.beneficiary
    await eventually(
        lambda: bool(
            beneficiary(trainee_id).level_certificates and beneficiary(trainee_id).completions
        )
    )
    return trainee_id, programme_id


def claim_body(programme_id: UUID) -> dict:
    return {"programme_id": str(programme_id), "occupation_code": OCCUPATION, "level": "junior"}


async def test_every_order_of_the_facts_and_the_claim_gives_the_same_decision(
    service: FastAPI, client: AsyncClient, tokens: Tokens, subsidy_settings: SubsidySettings
) -> None:
    prefix, bootstrap = (
        subsidy_settings.kafka_topic_prefix,
        subsidy_settings.kafka_bootstrap_servers,
    )
    app = service.state.application
    decisions = {}
    for order in permutations(["claim", "enrollment", "certification"]):
        trainee_id, programme_id, institution_id = uuid4(), uuid4(), uuid4()
        claim_id = None
        for step in order:
            if step == "claim":
                response = await client.post(
                    "/claims",
                    json=claim_body(programme_id),
                    headers=tokens(Role.TRAINEE, subject=str(trainee_id)),
                )
                assert response.status_code == 201, response.text
                claim_id = response.json()["claim_id"]
            else:
                facts = (
                    enrollment_facts(trainee_id, programme_id, institution_id)
                    if step == "enrollment"
                    else certification_facts(trainee_id)
                )
                await publish(bootstrap, f"{prefix}{step}.events.v1", *facts)
                expected = len(facts)

                def learnt(
                    trainee_id: UUID = trainee_id, step: str = step, expected: int = expected
                ) -> bool:
                    beneficiary = app.beneficiary(trainee_id)
                    known = (
                        len(beneficiary.enrolments) + len(beneficiary.completions)
                        if step == "enrollment"
                        else len(beneficiary.level_certificates)
                    )
                    return known >= expected

                await eventually(learnt)
        view = (await client.get(f"/claims/{claim_id}", headers=tokens(Role.CITY_BUREAU))).json()
        decisions[order] = (view["status"], view["amount_fen"], view["standard_id"])
    assert len(set(decisions.values())) == 1, decisions
    assert next(iter(decisions.values()))[0] == "approved"


async def test_twenty_identical_claims_at_once_give_exactly_one_approval(
    service: FastAPI, client: AsyncClient, tokens: Tokens, subsidy_settings: SubsidySettings
) -> None:
    trainee_id, programme_id = await certified_trainee(service, subsidy_settings)
    me = tokens(Role.TRAINEE, subject=str(trainee_id))
    responses = await asyncio.gather(
        *(client.post("/claims", json=claim_body(programme_id), headers=me) for _ in range(20))
    )
    assert all(response.status_code == 201 for response in responses), [
        r.text for r in responses if r.status_code != 201
    ]
    claims = (
        await client.get(
            "/claims", params={"trainee_id": str(trainee_id)}, headers=tokens(Role.CITY_BUREAU)
        )
    ).json()
    statuses = sorted(claim["status"] for claim in claims)
    assert statuses == ["approved"] + ["rejected"] * 19
    assert {claim["reason_code"] for claim in claims if claim["status"] == "rejected"} == {
        "already_subsidised"
    }


async def test_payment_the_monthly_report_and_the_published_events(
    service: FastAPI, client: AsyncClient, tokens: Tokens, subsidy_settings: SubsidySettings
) -> None:
    prefix, bootstrap = (
        subsidy_settings.kafka_topic_prefix,
        subsidy_settings.kafka_bootstrap_servers,
    )
    trainee_id, programme_id = await certified_trainee(service, subsidy_settings)
    claim = (
        await client.post(
            "/claims",
            json=claim_body(programme_id),
            headers=tokens(Role.TRAINEE, subject=str(trainee_id)),
        )
    ).json()
    assert (claim["status"], claim["amount_fen"]) == ("approved", 150_000)
    city = tokens(Role.CITY_BUREAU)
    paid = (
        await client.post(
            f"/claims/{claim['claim_id']}/payment",
            json={"payment_reference": "HZCZ-2026-0001"},
            headers=city,
        )
    ).json()
    assert paid["status"] == "paid"
    again = await client.post(
        f"/claims/{claim['claim_id']}/payment",
        json={"payment_reference": "HZCZ-2026-0002"},
        headers=city,
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_paid")
    month = paid["paid_on"][:7]
    report = (await client.get(f"/reports/disbursements/{month}", headers=city)).json()
    assert (report["count"], report["total_fen"]) == (1, 150_000)
    csv = await client.get(
        f"/reports/disbursements/{month}", params={"format": "csv"}, headers=tokens(Role.AUDITOR)
    )
    assert "HZCZ-2026-0001" in csv.content.decode("utf-8-sig")
    assert (await client.get("/reports/disbursements/2026-13", headers=city)).status_code == 422

    async def published() -> bool:
        return len(await read_topic(bootstrap, prefix + "subsidy.events.v1", idle_ms=200)) >= 3

    await eventually(published)
    types = [
        parse_event(r.value).event_type
        for r in await read_topic(bootstrap, prefix + "subsidy.events.v1")
    ]
    assert types == ["SubsidyApplied", "SubsidyApproved", "SubsidyPaid"]


async def test_a_revoked_certificate_cancels_an_unpaid_claim_and_lists_a_paid_ones_recovery(
    service: FastAPI, client: AsyncClient, tokens: Tokens, subsidy_settings: SubsidySettings
) -> None:
    city = tokens(Role.CITY_BUREAU)
    claims = {}
    for who in ("unpaid", "paid"):
        trainee_id, programme_id = await certified_trainee(service, subsidy_settings)
        me = tokens(Role.TRAINEE, subject=str(trainee_id))
        claim = (await client.post("/claims", json=claim_body(programme_id), headers=me)).json()
        claims[who] = (trainee_id, claim["claim_id"])
    paid_trainee, paid_claim = claims["paid"]
    await client.post(
        f"/claims/{paid_claim}/payment", json={"payment_reference": "HZCZ-2026-0099"}, headers=city
    )
    application = service.state.application
    for trainee_id, _ in claims.values():
        [number] = application.beneficiary(trainee_id).level_certificates
        revocation = build(
            CertificateRevoked,
            CertificateRevokedPayload(
                case_id=uuid4(),
                trainee_id=trainee_id,
                certificate_number=number,
                reason="承诺事项核查不实",
                revoked_at=datetime.now(UTC),
            ),
            trainee_id,
        )
        prefix = subsidy_settings.kafka_topic_prefix
        await publish(
            subsidy_settings.kafka_bootstrap_servers, prefix + "certification.events.v1", revocation
        )

    async def recovery_listed() -> bool:
        return bool((await client.get("/recoveries", headers=city)).json())

    await eventually(recovery_listed)
    [recovery] = (await client.get("/recoveries", headers=tokens(Role.AUDITOR))).json()
    assert (recovery["claim_id"], recovery["trainee_id"], recovery["amount_fen"]) == (
        paid_claim,
        str(paid_trainee),
        150_000,
    )
    assert recovery["reason"] == "承诺事项核查不实"
    _, unpaid_claim = claims["unpaid"]

    async def cancelled() -> bool:
        claim = (await client.get(f"/claims/{unpaid_claim}", headers=city)).json()
        return claim["status"] == "cancelled"

    await eventually(cancelled)
    refused = await client.post(
        f"/claims/{unpaid_claim}/payment", json={"payment_reference": "X-1"}, headers=city
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "claim_cancelled")
    listed = (
        await client.get("/claims", params={"trainee_id": str(claims["unpaid"][0])}, headers=city)
    ).json()
    assert [c["status"] for c in listed] == ["cancelled"]
    trainee = tokens(Role.TRAINEE, subject=str(paid_trainee))
    assert (await client.get("/recoveries", headers=trainee)).status_code == 403


async def test_a_waiting_claim_decided_by_the_city_names_what_is_missing(
    client: AsyncClient, tokens: Tokens
) -> None:
    trainee_id = uuid4()
    claim = (
        await client.post(
            "/claims",
            json=claim_body(uuid4()),
            headers=tokens(Role.TRAINEE, subject=str(trainee_id)),
        )
    ).json()
    assert (claim["status"], claim["waiting_for_code"], claim["waiting_for"]) == (
        "waiting",
        "not_enrolled",
        "no enrolment of the trainee in this programme is known",
    )
    listed = (
        await client.get("/claims", headers=tokens(Role.TRAINEE, subject=str(trainee_id)))
    ).json()
    assert [(c["claim_id"], c["waiting_for_code"]) for c in listed] == [
        (claim["claim_id"], "not_enrolled")
    ]
    decided = (
        await client.post(f"/claims/{claim['claim_id']}/decision", headers=tokens(Role.CITY_BUREAU))
    ).json()
    assert (decided["status"], decided["reason_code"]) == ("rejected", "not_enrolled")
    assert (decided["waiting_for_code"], decided["waiting_for"]) == (None, None)


async def test_the_same_tuition_is_not_reimbursed_twice(
    client: AsyncClient, tokens: Tokens
) -> None:
    employer = uuid4()
    body = {"trainee_id": str(uuid4()), "programme_id": str(uuid4()), "amount_fen": 380_000}
    first = await client.post("/reimbursements", json=body, headers=tokens(Role.EMPLOYER, employer))
    second = await client.post("/reimbursements", json=body, headers=tokens(Role.EMPLOYER, uuid4()))
    assert first.status_code == 201
    assert (second.status_code, second.json()["error"]["code"]) == (409, "already_reimbursed")
    report = (
        await client.get(f"/reimbursements/{employer}", headers=tokens(Role.EMPLOYER, employer))
    ).json()
    assert report["total_fen"] == 380_000 and len(report["reimbursements"]) == 1
    assert (
        await client.get(f"/reimbursements/{employer}", headers=tokens(Role.EMPLOYER, uuid4()))
    ).status_code == 403
    assert (
        await client.post(
            "/reimbursements",
            json={**body, "amount_fen": 0},
            headers=tokens(Role.EMPLOYER, employer),
        )
    ).status_code == 422


async def test_roles_are_refused_what_is_not_theirs(client: AsyncClient, tokens: Tokens) -> None:
    trainee_id = uuid4()
    claim = (
        await client.post(
            "/claims",
            json=claim_body(uuid4()),
            headers=tokens(Role.TRAINEE, subject=str(trainee_id)),
        )
    ).json()
    forbidden = [
        ("GET", f"/claims/{claim['claim_id']}", None, tokens(Role.TRAINEE, subject=str(uuid4()))),
        ("GET", f"/claims/{claim['claim_id']}", None, tokens(Role.TRAINING_INSTITUTION, uuid4())),
        (
            "POST",
            "/claims",
            {**claim_body(uuid4()), "trainee_id": str(trainee_id)},
            tokens(Role.TRAINING_INSTITUTION, uuid4()),
        ),
        (
            "POST",
            f"/claims/{claim['claim_id']}/payment",
            {"payment_reference": "x"},
            tokens(Role.AUDITOR),
        ),
        (
            "POST",
            "/standards",
            {
                "occupation_code": OCCUPATION,
                "level": "junior",
                "amount_fen": 1,
                "effective_from": "2026-01-01",
            },
            tokens(Role.TRAINEE, subject=str(trainee_id)),
        ),
        ("PUT", "/policy", {"policy": {}, "effective_from": "2026-01-01"}, tokens(Role.AUDITOR)),
        ("GET", "/reports/disbursements/2026-01", None, tokens(Role.EMPLOYER, uuid4())),
        (
            "POST",
            "/reimbursements",
            {"trainee_id": str(trainee_id), "programme_id": str(uuid4()), "amount_fen": 1},
            tokens(Role.CITY_BUREAU),
        ),
    ]
    for method, path, body, headers in forbidden:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)


async def test_institutions_claim_on_behalf_only_when_the_policy_allows(
    service: FastAPI, client: AsyncClient, tokens: Tokens, subsidy_settings: SubsidySettings
) -> None:
    prefix, bootstrap = (
        subsidy_settings.kafka_topic_prefix,
        subsidy_settings.kafka_bootstrap_servers,
    )
    trainee_id, programme_id, institution_id = uuid4(), uuid4(), uuid4()
    await publish(
        bootstrap,
        prefix + "enrollment.events.v1",
        *enrollment_facts(trainee_id, programme_id, institution_id),
    )
    await eventually(lambda: bool(service.state.application.beneficiary(trainee_id).enrolments))
    body = {**claim_body(programme_id), "trainee_id": str(trainee_id)}
    refused = await client.post(
        "/claims", json=body, headers=tokens(Role.TRAINING_INSTITUTION, institution_id)
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "institution_claims_off")
    policy = {"policy": {"institutions_may_claim": True}, "effective_from": "2026-01-01"}
    assert (
        await client.put("/policy", json=policy, headers=tokens(Role.CITY_BUREAU))
    ).status_code == 200
    allowed = await client.post(
        "/claims", json=body, headers=tokens(Role.TRAINING_INSTITUTION, institution_id)
    )
    assert allowed.status_code == 201, allowed.text
    listed = (
        await client.get("/claims", headers=tokens(Role.TRAINING_INSTITUTION, institution_id))
    ).json()
    assert [claim["trainee_id"] for claim in listed] == [str(trainee_id)]


async def test_claims_are_listed_in_pages_that_link_to_the_next(
    service: FastAPI, client: AsyncClient, tokens: Tokens, subsidy_settings: SubsidySettings
) -> None:
    filed = []
    for _ in range(3):
        trainee_id, programme_id = await certified_trainee(service, subsidy_settings)
        response = await client.post(
            "/claims",
            json=claim_body(programme_id),
            headers=tokens(Role.TRAINEE, subject=str(trainee_id)),
        )
        assert response.status_code == 201, response.text
        filed.append(response.json()["claim_id"])
    city = tokens(Role.CITY_BUREAU)

    first = await client.get("/claims", params={"limit": 2}, headers=city)
    assert [claim["claim_id"] for claim in first.json()] == filed[:2]
    following = first.links["next"]["url"]
    assert f"after={filed[1]}" in following
    last = await client.get(following, headers=city)
    assert [claim["claim_id"] for claim in last.json()] == filed[2:]
    assert "link" not in last.headers

    unknown = await client.get("/claims", params={"after": str(uuid4())}, headers=city)
    assert unknown.status_code == 422
    assert (unknown.json()["error"]["code"], unknown.json()["error"]["field"]) == (
        "unknown_cursor",
        "after",
    )
    for limit in (0, 501):
        assert (
            await client.get("/claims", params={"limit": limit}, headers=city)
        ).status_code == 422
