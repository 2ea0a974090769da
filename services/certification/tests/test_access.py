"""Who may do what in the certification service; public verification is rate-limited."""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

from httpx import AsyncClient

from heze_certification.main import definition
from heze_certification.settings import CertificationSettings
from heze_common.runtime import create_app
from heze_common.testing import Tokens, running
from heze_contracts.enums import Role


async def early_in_a_minute() -> None:
    """Wait, if need be, until a clock minute has most of its time left: the limit counts per
    minute, and the requests of a test must fall in one."""
    while time.time() % 60 > 40:
        await asyncio.sleep(0.5)


async def test_public_verification_needs_no_token_but_is_rate_limited(
    client: AsyncClient, certification_settings: CertificationSettings
) -> None:
    limit = certification_settings.verify_requests_per_minute
    await early_in_a_minute()
    statuses = [
        (
            await client.get(
                "/public/certificates/verify", params={"number": "HZSZ-X", "name": "某人"}
            )
        ).status_code
        for _ in range(limit + 1)
    ]
    assert statuses[:limit] == [200] * limit
    assert statuses[limit] == 429
    limited = await client.get(
        "/public/certificates/verify", params={"number": "X", "name": "某人"}
    )
    assert (
        limited.json()["error"]["code"] == "rate_limited" and limited.headers["Retry-After"] == "60"
    )


async def test_replicas_share_one_verification_limit_per_client(
    certification_settings: CertificationSettings,
) -> None:
    """Two instances on one database (as two replicas behind a load balancer, one after the
    other here, so that each one's tasks are checked on its own): a client's requests count
    against one allowance, whichever instance answers them."""
    limit = certification_settings.verify_requests_per_minute
    params = {"number": "HZSZ2026-2020713-J-000001", "name": "某人"}
    await early_in_a_minute()
    async with running(create_app(definition(certification_settings))) as replica:
        first = [
            (await replica.get("/public/certificates/verify", params=params)).status_code
            for _ in range(limit // 2)
        ]
    async with running(create_app(definition(certification_settings))) as replica:
        second = [
            (await replica.get("/public/certificates/verify", params=params)).status_code
            for _ in range(limit - limit // 2 + 1)
        ]
    assert first + second[:-1] == [200] * limit
    assert second[-1] == 429


async def test_verification_rejects_missing_parameters_with_422(client: AsyncClient) -> None:
    assert (
        await client.get("/public/certificates/verify", params={"number": "X"})
    ).status_code == 422


async def test_roles_are_refused_what_is_not_theirs(client: AsyncClient, tokens: Tokens) -> None:
    case = uuid4()
    forbidden = [
        ("POST", f"/cases/{case}/confirmation", None, tokens(Role.EVALUATION_INSTITUTION, uuid4())),
        ("POST", f"/cases/{case}/approval", None, tokens(Role.PROVINCIAL_DEPARTMENT)),
        ("POST", f"/cases/{case}/issuance", None, tokens(Role.NATIONAL_OFFICE)),
        (
            "PUT",
            "/calendars/2027",
            {"holidays": [], "makeup_workdays": []},
            tokens(Role.CITY_BUREAU),
        ),
        ("GET", "/talent-pool", None, tokens(Role.PROVINCIAL_DEPARTMENT)),
        ("GET", "/continuing-education/2026", None, tokens(Role.AUDITOR)),
        (
            "PUT",
            "/policy",
            {"terms": {}, "effective_from": "2026-01-01"},
            tokens(Role.PROVINCIAL_DEPARTMENT),
        ),
        (
            "GET",
            f"/talent/{uuid4()}/eligibility?title_series=x",
            None,
            tokens(Role.TRAINEE, subject=str(uuid4())),
        ),
        (
            "GET",
            f"/cases?evaluation_institution_id={uuid4()}",
            None,
            tokens(Role.EVALUATION_INSTITUTION, uuid4()),
        ),
    ]
    for method, path, body, headers in forbidden:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
    assert (await client.get("/cases")).status_code == 401


async def test_exam_based_title_series_are_not_recognised_without_review(
    client: AsyncClient, tokens: Tokens
) -> None:
    policy = {"terms": {"exam_based_title_series": ["卫生系列"]}, "effective_from": "2026-01-01"}
    assert (
        await client.put("/policy", json=policy, headers=tokens(Role.CITY_BUREAU))
    ).status_code == 200
    view = (
        await client.get("/policy", params={"on": "2026-06-01"}, headers=tokens(Role.AUDITOR))
    ).json()
    assert view["terms"]["exam_based_title_series"] == ["卫生系列"]
