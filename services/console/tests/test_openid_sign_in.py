"""Signing in with OpenID Connect against a provider served over HTTP (`identity_provider`),
with the services mocked: the code flow with state, nonce and PKCE, ID tokens and services'
tokens checked, renewal, sign-out at the provider, a new trainee's token for their trainee id,
the public pages' client token, and what production requires."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from heze_console.main import create_app
from heze_console.sessions import COOKIE
from heze_console.settings import ConsoleSettings
from heze_console.web import renewed
from identity_provider import CLIENT_ID, CLIENT_SECRET, KEY_ID, Account, Provider, running
from test_console_app import EVALUATORS, INSTITUTIONS, csrf_of

pytestmark = pytest.mark.fast

CONSOLE = "http://testserver"
INSTITUTION_ID = INSTITUTIONS[0]["institution_id"]
TRAINEE_ID = "3f0c2b1a-8d7e-5f6a-9b0c-1d2e3f4a5b6c"


def free_port() -> int:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        return listening.getsockname()[1]


@dataclass
class Services:
    """The four services, mocked: the bearer tokens they were sent, and a trainee's record."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    registered: list[dict[str, Any]] = field(default_factory=list)
    on_registration: Any = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.seen.append((request.url.path, token))
        path = request.url.path
        if path == "/institutions":
            return httpx.Response(200, json=INSTITUTIONS)
        if path == "/evaluation-institutions":
            return httpx.Response(200, json=EVALUATORS)
        if path in ("/programmes", "/occupations", "/enrolments", "/applications", "/cases"):
            return httpx.Response(200, json=[])
        if path == "/trainees" and request.method == "POST":
            self.registered.append(jwt.decode(token, options={"verify_signature": False}))
            self.on_registration()
            return httpx.Response(201, json={"trainee_id": TRAINEE_ID})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "?"}})

    def claims_sent(self, path: str | None = None) -> dict[str, Any]:
        """The claims of the last token sent (to `path`), other than the console's own."""
        for seen, token in reversed(self.seen):
            claims = jwt.decode(token, options={"verify_signature": False})
            if path is not None and seen == path or path is None and claims["sub"] != CLIENT_ID:
                return claims
        raise AssertionError(f"no token sent to {path}")


@dataclass
class World:
    provider: Provider
    services: Services
    console: TestClient
    browser: httpx.Client
    """The browser at the provider (its own cookie jar, as a browser keeps one per site)."""

    def sign_in(self, account: str, *, start: str = "/sign-in") -> httpx.Response:
        """Through the provider's page, choosing `account`; the console's answer to the callback."""
        self.console.get("/sign-in")  # a session first
        to_provider = self.console.get(start)
        assert to_provider.status_code == 303, to_provider.text
        page = self.browser.get(to_provider.headers["location"])
        assert page.status_code == 200 and "统一身份认证" in page.text
        form = dict(
            (name, value)
            for name, value in re.findall(r'name="([^"]+)" value="([^"]*)"', page.text)
            if name != "account"
        )
        back = self.browser.post("/authorize", data={**form, "account": account})
        return self.callback(back)

    def callback(self, answer: httpx.Response) -> httpx.Response:
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith(f"{CONSOLE}/sign-in/callback?"), location
        return self.console.get(location.removeprefix(CONSOLE))


def services_key_pair(tmp_path: Path) -> tuple[ec.EllipticCurvePrivateKey, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = tmp_path / "services-public.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, public


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    services_key, public_key_file = services_key_pair(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def sign_services_token(claims: dict[str, Any]) -> str:
        claims = {"iss": "heze-programme", "aud": "heze-services", **claims}
        return jwt.encode(claims, services_key, algorithm="ES256")

    accounts = {
        "机构经办人": Account(
            "机构经办人", {"sub": "staff-1", "role": "training_institution", "org": INSTITUTION_ID}
        ),
        "用人单位经办人": Account(
            "用人单位经办人",
            {"sub": "hr-1", "role": "employer", "org": "0b1c2d3e-4f50-5617-8293-a4b5c6d7e8f9"},
            {"org_name": "菏泽市牡丹区数字科技有限公司"},
        ),
        "新学员": Account("新学员", {"sub": "account-new", "role": "trainee", "idh": "x" * 43}),
    }
    provider = Provider(url, accounts, sign_services_token, f"{CONSOLE}/sign-in/callback")
    settings = ConsoleSettings(
        data_dir=tmp_path,
        oidc_issuer=url,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        public_url=CONSOLE,
        jwt_algorithm="ES256",
        jwt_public_key_file=public_key_file,
    )
    services = Services()
    with running(provider, port), httpx.Client(base_url=url) as browser:
        with TestClient(
            create_app(settings, httpx.MockTransport(services)), follow_redirects=False
        ) as console:
            yield World(provider, services, console, browser)


def test_an_institution_signs_in_at_the_provider_and_the_services_get_its_token(
    world: World,
) -> None:
    landed = world.sign_in("机构经办人")
    assert (landed.status_code, landed.headers["location"]) == (303, "/institution")
    page = world.console.get("/notices").text
    assert "当前身份：培训机构" in page and INSTITUTIONS[0]["name"] in page
    assert "仅限开发环境" not in page
    world.console.get("/institution")
    sent = world.services.claims_sent()
    assert (sent["sub"], sent["role"], sent["org"]) == (
        "staff-1",
        "training_institution",
        INSTITUTION_ID,
    )
    [exchange] = [
        r for r in world.provider.token_requests if r["grant_type"] == "authorization_code"
    ]
    assert len(exchange["code_verifier"]) >= 43  # PKCE: the provider checked it against S256
    assert "eyJ" not in world.console.cookies[COOKIE]  # no token reaches the browser


def test_an_employer_is_named_from_the_id_tokens_org_name(world: World) -> None:
    assert world.sign_in("用人单位经办人").headers["location"] == "/employer"
    assert "菏泽市牡丹区数字科技有限公司" in world.console.get("/notices").text


def session_of(world: World) -> Any:
    [session] = world.console.app.state.sessions.sessions.values()  # type: ignore[attr-defined]
    return session


def start_at_the_provider(world: World) -> str:
    """A sign-in begun: the provider's authorisation URL the console sent the browser to."""
    world.console.get("/sign-in")
    return world.console.get("/sign-in").headers["location"]


def test_an_answer_with_another_state_or_used_twice_or_late_is_refused(world: World) -> None:
    state = parse_qs(urlsplit(start_at_the_provider(world)).query)["state"][0]
    for forged in (f"{state[:-2]}xx", "é", ""):  # a non-ASCII state is refused, not a 500
        refused = world.console.get("/sign-in/callback", params={"code": "x", "state": forged})
        assert refused.status_code == 400 and "登录请求已失效" in refused.text
    cancelled = f"/sign-in/callback?error=access_denied&state={state}"
    assert world.console.get(cancelled).status_code == 401  # this session's own answer, once
    assert world.console.get(cancelled).status_code == 400  # used: no longer awaited
    state = parse_qs(urlsplit(start_at_the_provider(world)).query)["state"][0]
    session_of(world).pending_sign_in = replace(
        session_of(world).pending_sign_in, asked_at=time.time() - 601
    )
    assert world.console.get(cancelled.replace("state=", f"state={state}&x=")).status_code == 400


def test_a_provider_error_is_shown_escaped(world: World) -> None:
    state = parse_qs(urlsplit(start_at_the_provider(world)).query)["state"][0]
    page = world.console.get(
        "/sign-in/callback", params={"error": "<script>alert(1)</script>", "state": state}
    )
    assert page.status_code == 401
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text


def expired(claims: dict[str, Any]) -> dict[str, Any]:
    return {**claims, "iat": claims["iat"] - 900, "exp": claims["iat"] - 600}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda claims: {**claims, "nonce": "another-request"},
        lambda claims: {**claims, "aud": "another-client"},
        lambda claims: {**claims, "iss": "http://127.0.0.1:1"},
        lambda claims: {k: v for k, v in claims.items() if k != "nonce"},
        expired,
        lambda claims: {**claims, "aud": [CLIENT_ID, "another-client"]},  # no azp
        lambda claims: {**claims, "aud": [CLIENT_ID, "other"], "azp": "other"},
    ],
    ids=["nonce", "audience", "issuer", "no-nonce", "expired", "two-audiences", "azp"],
)
def test_an_id_token_not_for_this_request_is_refused(world: World, tamper: Any) -> None:
    world.provider.id_token_tamper = tamper
    refused = world.sign_in("机构经办人")
    assert refused.status_code == 502 and "未能通过统一身份认证平台登录" in refused.text
    assert world.console.get("/institution").headers["location"] == "/sign-in"


def test_an_id_token_a_little_early_by_the_providers_clock_is_taken(world: World) -> None:
    world.provider.id_token_tamper = lambda claims: {**claims, "iat": claims["iat"] + 5}
    assert world.sign_in("机构经办人").headers["location"] == "/institution"
    world.provider.id_token_tamper = lambda claims: {
        **claims,
        "aud": [CLIENT_ID, "x"],
        "azp": CLIENT_ID,
    }
    assert world.sign_in("机构经办人").headers["location"] == "/institution"


@pytest.mark.parametrize("algorithm", ["none", "HS256"])
def test_an_id_token_signed_by_another_key_or_none_is_refused(world: World, algorithm: str) -> None:
    genuine = world.provider.id_token

    def forged(account: Account, nonce: str) -> str:
        claims = jwt.decode(genuine(account, nonce), options={"verify_signature": False})
        if algorithm == "none":
            return jwt.encode(claims, None, "none", {"kid": KEY_ID})
        return jwt.encode(claims, CLIENT_SECRET * 2, "HS256", {"kid": KEY_ID})

    world.provider.id_token = forged  # type: ignore[method-assign]
    assert world.sign_in("机构经办人").status_code == 502
    world.provider.id_token = lambda account, nonce: jwt.encode(  # type: ignore[method-assign]
        jwt.decode(genuine(account, nonce), options={"verify_signature": False}),
        ec.generate_private_key(ec.SECP256R1()),
        "ES256",
        {"kid": KEY_ID},
    )
    assert world.sign_in("机构经办人").status_code == 502


def test_a_rotated_provider_key_is_fetched_once(world: World) -> None:
    assert world.sign_in("机构经办人").headers["location"] == "/institution"
    world.provider.rotate_key()  # the console holds the old key set
    assert world.sign_in("机构经办人").headers["location"] == "/institution"


def test_an_access_token_the_services_would_not_accept_is_refused(world: World) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    world.provider.sign_services_token = lambda claims: jwt.encode(
        {"iss": "heze-programme", "aud": "heze-services", **claims}, other, "ES256"
    )
    assert world.sign_in("机构经办人").status_code == 502


def test_the_access_token_is_renewed_before_it_expires_and_a_refused_renewal_signs_out(
    world: World,
) -> None:
    world.provider.services_token_seconds = 30  # within the minute before expiry: renewed
    world.sign_in("机构经办人")
    at_sign_in = session_of(world).identity.token
    world.console.get("/institution")
    renewed = session_of(world).identity.provider.access_token
    assert renewed != at_sign_in
    assert world.services.seen[-1][1] == renewed  # the services got the renewed token
    assert [r["grant_type"] for r in world.provider.token_requests].count("refresh_token") == 1
    world.provider.refresh_tokens.clear()  # the provider revoked the sign-in
    assert world.console.get("/institution").headers["location"] == "/sign-in"


def test_a_provider_away_for_a_moment_signs_nobody_out(world: World) -> None:
    world.provider.services_token_seconds = 30
    world.sign_in("机构经办人")
    world.provider.token_endpoint_failure = 503
    page = world.console.get("/institution")
    assert page.status_code != 303 and session_of(world).identity is not None  # 30 s more: kept
    world.provider.token_endpoint_failure = 400  # invalid_grant: final
    assert world.console.get("/institution").headers["location"] == "/sign-in"


def test_a_renewal_that_names_another_role_signs_out(world: World) -> None:
    world.provider.services_token_seconds = 30
    world.sign_in("机构经办人")
    world.provider.accounts["机构经办人"].services_claims["role"] = "city_bureau"
    assert world.console.get("/institution").headers["location"] == "/sign-in"


def test_requests_side_by_side_renew_once(world: World) -> None:
    world.provider.services_token_seconds = 30
    world.sign_in("机构经办人")
    world.provider.services_token_seconds = 600  # the renewed token is good for a while
    session = session_of(world)
    request = SimpleNamespace(app=world.console.app)

    async def side_by_side() -> None:
        await asyncio.gather(*(renewed(request, session) for _ in range(3)))  # type: ignore[arg-type]

    world.console.portal.call(side_by_side)  # type: ignore[union-attr]
    assert [r["grant_type"] for r in world.provider.token_requests].count("refresh_token") == 1
    assert session.identity is not None


def test_signing_out_ends_the_session_at_the_provider_too(world: World) -> None:
    world.sign_in("机构经办人")
    token = csrf_of(world.console.get("/notices").text)
    out = world.console.post("/sign-out", data={"csrf_token": token})
    asked = parse_qs(urlsplit(out.headers["location"]).query)
    assert out.headers["location"].startswith(f"{world.provider.url}/end-session?")
    assert asked["post_logout_redirect_uri"] == [f"{CONSOLE}/"] and asked["id_token_hint"]
    back = world.browser.get(out.headers["location"])
    assert back.headers["location"] == f"{CONSOLE}/"
    assert world.console.get("/institution").headers["location"] == "/sign-in"
    assert world.provider.sessions == {}  # the provider's session is gone too


def register(world: World) -> httpx.Response:
    token = csrf_of(world.console.get("/trainee").text)
    fields = {"name": "张晓梅", "id_number": "37170219950101108X", "csrf_token": token}
    return world.console.post("/trainee/registration", data=fields)


def test_a_new_trainee_who_registers_gets_a_token_for_their_trainee_id_without_a_new_sign_in(
    world: World,
) -> None:
    def bind() -> None:  # the provider keeps the trainee id with the account (账号绑定)
        world.provider.accounts["新学员"].services_claims["sub"] = TRAINEE_ID

    world.services.on_registration = bind
    assert world.sign_in("新学员").headers["location"] == "/trainee"
    assert world.console.get("/sign-in/silent").headers["location"] == "/sign-in"  # not yet
    registered = register(world)
    assert registered.headers["location"] == "/sign-in/silent"
    assert world.services.registered[0]["idh"] == "x" * 43
    silent = world.console.get("/sign-in/silent").headers["location"]
    assert parse_qs(urlsplit(silent).query)["prompt"] == ["none"]
    landed = world.callback(world.browser.get(silent))  # no page: the provider's session
    assert landed.headers["location"] == "/trainee"
    assert session_of(world).identity.trainee_id == TRAINEE_ID
    assert f"您的学员编号是 {TRAINEE_ID}" in (session_of(world).flash or "")
    assert world.console.get("/sign-in/silent").headers["location"] == "/sign-in"  # once only


def test_a_trainee_the_provider_has_not_bound_yet_is_told_so(world: World) -> None:
    world.services.on_registration = lambda: None
    world.sign_in("新学员")
    register(world)
    silent = world.console.get("/sign-in/silent").headers["location"]
    world.callback(world.browser.get(silent))
    session = session_of(world)
    assert session.identity.trainee_id is None
    assert TRAINEE_ID in session.flash and "尚未将您的账号关联到学员编号" in session.flash


def test_a_silent_answer_for_another_account_is_not_taken(world: World) -> None:
    world.services.on_registration = lambda: None
    world.sign_in("新学员")
    register(world)
    # Meanwhile someone else signed in at the provider in this browser.
    world.provider.sessions = {cookie: "机构经办人" for cookie in world.provider.sessions}
    silent = world.console.get("/sign-in/silent").headers["location"]
    again = world.callback(world.browser.get(silent))
    assert again.status_code == 303 and "prompt" not in parse_qs(
        urlsplit(again.headers["location"]).query
    )
    session = session_of(world)
    assert session.identity is None and session.flash is None  # nor the trainee's message


def test_silent_sign_in_refused_at_the_provider_asks_the_person(world: World) -> None:
    world.services.on_registration = lambda: None
    world.sign_in("新学员")
    register(world)
    silent = world.console.get("/sign-in/silent").headers["location"]
    world.provider.sessions.clear()  # signed out at the provider meanwhile
    answer = world.browser.get(silent)
    assert parse_qs(urlsplit(answer.headers["location"]).query)["error"] == ["login_required"]
    asked = world.callback(answer).headers["location"]
    assert asked.startswith(f"{world.provider.url}/authorize?") and "prompt=none" not in asked
    assert session_of(world).pending_sign_in.after_registration  # its message still comes


def test_an_identity_provider_away_gives_a_chinese_page(world: World) -> None:
    world.provider.token_endpoint_failure = 503
    page = world.console.get("/notices")  # needs the console client's token
    assert page.status_code == 502 and "统一身份认证平台暂时无法访问" in page.text


def test_public_pages_read_with_the_consoles_own_client_token(world: World) -> None:
    for _ in range(2):
        assert world.console.get("/notices").status_code == 200
    sent = world.services.claims_sent("/institutions")
    assert (sent["sub"], sent["role"]) == (CLIENT_ID, "trainee")
    grants = [r["grant_type"] for r in world.provider.token_requests]
    assert grants == ["client_credentials"]  # fetched once, kept until near its expiry


def test_the_development_sign_in_form_is_not_there(world: World) -> None:
    world.console.get("/sign-in")
    [session] = world.console.app.state.sessions.sessions.values()  # type: ignore[attr-defined]
    data = {"role": "city_bureau", "csrf_token": session.csrf_token}
    refused = world.console.post("/sign-in", data=data)
    assert refused.status_code == 404


def test_production_requires_the_provider_https_and_the_services_public_key(
    tmp_path: Path,
) -> None:
    _, public_key_file = services_key_pair(tmp_path)
    complete = {
        "environment": "production",
        "data_dir": tmp_path,
        "session_key": "A" * 43 + "=",
        "oidc_issuer": "https://id.example.gov.cn",
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "public_url": "https://console.example.gov.cn",
        "jwt_algorithm": "ES256",
        "jwt_public_key_file": public_key_file,
    }
    create_app(ConsoleSettings(**complete))  # no development sign-in: OpenID Connect
    for missing in ("session_key", "oidc_issuer", "public_url", "jwt_public_key_file"):
        with pytest.raises(ValueError, match=missing.upper()):
            ConsoleSettings(**{k: v for k, v in complete.items() if k != missing})
    with pytest.raises(ValueError, match="OIDC_CLIENT_SECRET"):
        ConsoleSettings(**{k: v for k, v in complete.items() if k != "oidc_client_secret"})
    with pytest.raises(ValueError, match="asymmetric"):
        ConsoleSettings(**{**complete, "jwt_algorithm": "HS256"})
    for plain in ("oidc_issuer", "public_url"):
        with pytest.raises(ValueError, match="https"):
            ConsoleSettings(**{**complete, plain: "http://example.gov.cn"})
