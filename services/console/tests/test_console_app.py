"""The console without the services: sessions and CSRF, the production refusal, pages for every
failure (no JSON, no stack trace), and lists followed page by page."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from heze_common.auth import identity_claim
from heze_common.settings import ServiceSettings
from heze_console.identity import DevelopmentSignIn
from heze_console.main import create_app
from heze_console.services import ServiceError, Services
from heze_console.sessions import COOKIE
from heze_console.settings import ConsoleSettings

Handler = Callable[[httpx.Request], httpx.Response]

INSTITUTIONS = [
    {
        "institution_id": "6f1c3b52-33a8-5d53-b3b9-4d2a7b8f3a11",
        "directory_number": 1,
        "name": "中国石油大学(华东)",
        "fields": ["big_data"],
        "contact_name": "唐莉",
        "contact_phone": "0532-86980900",
        "suspended": False,
        "in_city_training_directory": False,
    }
]

EVALUATORS = [
    {
        "evaluation_institution_id": "0b8f7c0e-4b7e-5a55-9d0e-2f1b8c3d4e55",
        "name": "山东省数字技术评价中心",
        "occupations": {"2-02-10-11": "big_data"},
        "suspended": False,
    }
]


def console(tmp_path: Path, handler: Handler) -> TestClient:
    settings = ConsoleSettings(data_dir=tmp_path)
    return TestClient(create_app(settings, httpx.MockTransport(handler)), follow_redirects=False)


def directory_only(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/institutions":
        return httpx.Response(200, json=INSTITUTIONS)
    if request.url.path == "/evaluation-institutions":
        return httpx.Response(200, json=EVALUATORS)
    return httpx.Response(404, json={"error": {"code": "not_found", "message": "?"}})


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def signed_in_as_city(client: TestClient) -> str:
    client.get("/sign-in")  # the first visit gets a session, then the form
    token = csrf_of(client.get("/sign-in").text)
    answer = client.post("/sign-in", data={"role": "city_bureau", "csrf_token": token})
    assert (answer.status_code, answer.headers["location"]) == (303, "/city")
    return token


def test_the_session_cookie_is_signed_http_only_and_same_site_lax(tmp_path: Path) -> None:
    client = console(tmp_path, directory_only)
    cookie = client.get("/sign-in").headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "eyJ" not in cookie  # the bearer token (a JWT) never leaves the server
    client.cookies.set(COOKIE, client.cookies[COOKIE][:-2] + "xx")  # a forged signature
    assert client.get("/sign-in").status_code == 303  # treated as no session: a new one


def test_a_form_post_without_the_sessions_csrf_token_is_refused(tmp_path: Path) -> None:
    client = console(tmp_path, directory_only)
    client.get("/sign-in")
    for data in ({"role": "city_bureau"}, {"role": "city_bureau", "csrf_token": "forged"}):
        refused = client.post("/sign-in", data=data)
        assert refused.status_code == 403
        assert "页面已过期或来源不明" in refused.text
    signed_in_as_city(client)
    assert client.post("/sign-out", data={}).status_code == 403  # signed in: still needed


def test_signing_in_gives_a_new_session_and_signing_out_ends_it(tmp_path: Path) -> None:
    client = console(tmp_path, directory_only)
    client.get("/sign-in")
    anonymous = client.cookies[COOKIE]
    token = signed_in_as_city(client)
    assert client.cookies[COOKIE] != anonymous  # no session fixation
    page = client.get("/verify").text
    assert "仅限开发环境" in page and "当前身份：市人社局" in page
    new_token = csrf_of(page)
    assert new_token != token
    assert client.post("/sign-out", data={"csrf_token": new_token}).status_code == 303
    assert client.get("/city").headers["location"] == "/sign-in"


def test_an_organisation_is_required_for_an_institution_and_named_in_chinese(
    tmp_path: Path,
) -> None:
    client = console(tmp_path, directory_only)
    client.get("/sign-in")
    token = csrf_of(client.get("/sign-in").text)
    refused = client.post("/sign-in", data={"role": "training_institution", "csrf_token": token})
    assert refused.status_code == 422 and "培训机构：请选择" in refused.text


def test_a_new_trainee_signs_in_with_a_verified_id_number_and_the_token_holds_only_its_hash(
    tmp_path: Path,
) -> None:
    client = console(tmp_path, directory_only)
    client.get("/sign-in")
    token = csrf_of(client.get("/sign-in").text)
    for typed, problem in (("", "请输入 18 位身份证号码"), ("371702199501011013", "校验码不正确")):
        data = {"role": "trainee", "id_number": typed, "csrf_token": token}
        refused = client.post("/sign-in", data=data)
        assert refused.status_code == 422 and f"身份证号码：{problem}" in refused.text
    number = "37170219950101108x"  # as typed: the claim is of the number with a capital X
    data = {"role": "trainee", "id_number": number, "csrf_token": token}
    assert client.post("/sign-in", data=data).headers["location"] == "/trainee"
    [session] = client.app.state.sessions.sessions.values()  # type: ignore[attr-defined]
    claims = jwt.decode(session.identity.token, options={"verify_signature": False})
    key = ServiceSettings(service_name="console", data_dir=tmp_path).resolved_identity_claim_key()
    assert claims["idh"] == identity_claim(key, number.upper())
    assert number.upper() not in session.identity.token


def test_the_development_sign_in_is_refused_in_production(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SESSION_KEY, OIDC_ISSUER, PUBLIC_URL"):
        ConsoleSettings(environment="production", data_dir=tmp_path)
    embedded = ConsoleSettings(data_dir=tmp_path)
    production = embedded.model_copy(update={"environment": "production"})  # unvalidated
    with pytest.raises(RuntimeError, match="development sign-in is refused"):
        DevelopmentSignIn(production)


def test_a_service_away_gives_a_chinese_page_naming_it(tmp_path: Path) -> None:
    def away(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    page = console(tmp_path, away).get("/notices")
    assert page.status_code == 503
    assert "培训报名服务暂时无法访问，请稍后再试。" in page.text
    assert "Traceback" not in page.text and "{" not in page.text.split("<main")[1]


def test_an_unexpected_failure_gives_a_page_with_a_reference_and_no_trace(tmp_path: Path) -> None:
    def nonsense(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"unexpected": "shape"})

    client = TestClient(
        create_app(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(nonsense)),
        raise_server_exceptions=False,
    )
    page = client.get("/notices")
    assert page.status_code == 500
    assert re.search(
        r"系统内部错误，请稍后再试。如需帮助，请提供错误编号 [0-9a-f]{12}。", page.text
    )
    assert "Traceback" not in page.text and "KeyError" not in page.text


def test_an_unknown_page_is_a_chinese_page(tmp_path: Path) -> None:
    page = console(tmp_path, directory_only).get("/nowhere")
    assert page.status_code == 404 and "您访问的页面不存在" in page.text


def test_lists_are_followed_by_link_headers_and_by_offset_pages(tmp_path: Path) -> None:
    def pages(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        if request.url.path == "/claims":
            if after is None:
                link = '<http://127.0.0.1:8004/claims?limit=500&after=b>; rel="next"'
                return httpx.Response(200, json=["a", "b"], headers={"Link": link})
            return httpx.Response(200, json=["c"])
        offset = int(request.url.params.get("offset", 0))
        return httpx.Response(
            200, json={"items": [offset, offset + 1], "total": 3, "offset": offset, "limit": 2}
        )

    services = Services(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(pages))
    assert asyncio.run(services.all_items("subsidy", "/claims", "t")) == ["a", "b", "c"]
    assert asyncio.run(services.all_items("enrollment", "/programmes", "t")) == [0, 1, 2, 3]


def test_a_next_page_on_another_address_is_not_followed_with_the_token(tmp_path: Path) -> None:
    def elsewhere(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "127.0.0.1"
        return httpx.Response(
            200, json=[1], headers={"Link": '<http://evil.example/x>; rel="next"'}
        )

    services = Services(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(elsewhere))
    with pytest.raises(ServiceError) as refused:
        asyncio.run(services.all_items("subsidy", "/claims", "t"))
    assert refused.value.code == "foreign_link"


def test_a_refusal_keeps_the_services_code_field_and_details(tmp_path: Path) -> None:
    def refusing(request: httpx.Request) -> httpx.Response:
        body = {
            "error": {
                "code": "already_registered",
                "message": "m",
                "field": "id_number",
                "details": {"trainee_id": "x"},
            }
        }
        return httpx.Response(409, content=json.dumps(body))

    services = Services(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(refusing))
    with pytest.raises(ServiceError) as refused:
        asyncio.run(services.send("enrollment", "POST", "/trainees", "t", {}))
    error = refused.value
    assert (error.status, error.code, error.field, error.details) == (
        409,
        "already_registered",
        "id_number",
        {"trainee_id": "x"},
    )
