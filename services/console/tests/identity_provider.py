"""A small OpenID Connect provider for the console's tests, served over HTTP on a free port.

It does what the console needs of a real one, strictly: discovery; an authorisation endpoint
that checks the client, the exact redirect URI and an S256 code challenge, shows a sign-in page
of its accounts (a button each) and answers `prompt=none` from its own session cookie or with
`login_required`; a token endpoint for `authorization_code` (client secret, single-use code,
same redirect URI, PKCE verifier), `refresh_token` and `client_credentials`; its key set; and
end-session. ID tokens are signed ES256 with a key it publishes; the services' tokens are
signed by `sign_services_token`, as the services of the test verify them."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

CLIENT_ID = "heze-console"
CLIENT_SECRET = "console-client-secret-for-tests-only"
KEY_ID = "provider-key-1"
COOKIE = "provider_session"


@dataclass
class Account:
    """A person at the provider: the ID token's subject and the services' token's claims."""

    name: str
    services_claims: dict[str, Any]
    id_claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class Provider:
    url: str
    accounts: dict[str, Account]
    sign_services_token: Callable[[dict[str, Any]], str]
    redirect_uri: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    services_token_seconds: int = 600
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    """The provider's own sign-in sessions: cookie → account name."""
    signed_out: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    id_token_tamper: Callable[[dict[str, Any]], dict[str, Any]] = lambda claims: claims
    key_id: str = KEY_ID
    token_endpoint_failure: int | None = None
    """An HTTP status the token endpoint answers every request with, while set."""

    def rotate_key(self) -> None:
        """A new signing key under a new key id, as providers rotate theirs."""
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.key_id = f"{self.key_id}-next"

    def services_token(self, account: Account) -> str:
        now = int(time.time())
        return self.sign_services_token(
            {
                **account.services_claims,
                "iat": now,
                "exp": now + self.services_token_seconds,
            }
        )

    def id_token(self, account: Account, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": f"account-{account.name}",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **account.id_claims,
        }
        return jwt.encode(
            self.id_token_tamper(claims), self.key, algorithm="ES256", headers={"kid": self.key_id}
        )


def app_of(provider: Provider) -> FastAPI:
    app = FastAPI()

    def error(status: int, code: str) -> JSONResponse:
        return JSONResponse({"error": code}, status_code=status)

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {
            "issuer": provider.url,
            "authorization_endpoint": f"{provider.url}/authorize",
            "token_endpoint": f"{provider.url}/token",
            "jwks_uri": f"{provider.url}/jwks",
            "end_session_endpoint": f"{provider.url}/end-session",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["ES256"],
        }

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        public = jwt.algorithms.ECAlgorithm.to_jwk(provider.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": provider.key_id, "use": "sig", "alg": "ES256"}]}

    def answer(request: dict[str, str], account_name: str) -> Response:
        code = secrets.token_urlsafe(24)
        provider.codes[code] = {**request, "account": account_name}
        query = urlencode({"code": code, "state": request["state"]})
        return RedirectResponse(f"{request['redirect_uri']}?{query}", status_code=303)

    @app.get("/authorize")
    def authorize(request: Request) -> Response:
        asked = dict(request.query_params)
        if (
            asked.get("client_id") != CLIENT_ID
            or asked.get("redirect_uri") != provider.redirect_uri
        ):
            return HTMLResponse("unknown client or redirect URI", status_code=400)
        if (
            asked.get("response_type") != "code"
            or asked.get("code_challenge_method") != "S256"
            or not asked.get("code_challenge")
            or "openid" not in asked.get("scope", "").split()
        ):
            query = urlencode({"error": "invalid_request", "state": asked.get("state", "")})
            return RedirectResponse(f"{provider.redirect_uri}?{query}", status_code=303)
        signed_in = provider.sessions.get(request.cookies.get(COOKIE, ""))
        if asked.get("prompt") == "none":
            if signed_in is None:
                query = urlencode({"error": "login_required", "state": asked["state"]})
                return RedirectResponse(f"{provider.redirect_uri}?{query}", status_code=303)
            return answer(asked, signed_in)
        buttons = "".join(
            f'<button type="submit" name="account" value="{escape(name)}">{escape(name)}</button>'
            for name in provider.accounts
        )
        hidden = "".join(
            f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
            for k, v in asked.items()
        )
        return HTMLResponse(
            '<!doctype html><html lang="zh-CN"><title>统一身份认证</title><h1>统一身份认证（测试）</h1>'
            f'<form method="post" action="/authorize">{hidden}{buttons}'
            '<button type="submit" name="account" value="">取消</button></form></html>'
        )

    @app.post("/authorize")
    async def signed_in_here(request: Request) -> Response:
        asked = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        name = asked.pop("account", "")
        if name not in provider.accounts:
            query = urlencode({"error": "access_denied", "state": asked.get("state", "")})
            return RedirectResponse(f"{provider.redirect_uri}?{query}", status_code=303)
        cookie = secrets.token_urlsafe(16)
        provider.sessions[cookie] = name
        response = answer(asked, name)
        response.set_cookie(COOKIE, cookie, httponly=True, samesite="lax")
        return response

    @app.post("/token")
    async def token(request: Request) -> Response:
        if (
            request.headers.get("authorization")
            != "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        ):
            return error(401, "invalid_client")
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        provider.token_requests.append(form)
        if provider.token_endpoint_failure is not None:
            status = provider.token_endpoint_failure
            return error(status, "temporarily_unavailable" if status >= 500 else "invalid_grant")
        grant = form.get("grant_type")
        if grant == "client_credentials":
            now = int(time.time())
            claims = {"sub": CLIENT_ID, "role": "trainee", "iat": now, "exp": now + 300}
            return JSONResponse(
                {
                    "access_token": provider.sign_services_token(claims),
                    "token_type": "Bearer",
                    "expires_in": 300,
                }
            )
        if grant == "refresh_token":
            name = provider.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if name is None:
                return error(400, "invalid_grant")
            refresh = secrets.token_urlsafe(24)
            provider.refresh_tokens[refresh] = name
            account = provider.accounts[name]
            return JSONResponse(
                {
                    "access_token": provider.services_token(account),
                    "token_type": "Bearer",
                    "refresh_token": refresh,
                }
            )
        if grant != "authorization_code":
            return error(400, "unsupported_grant_type")
        issued = provider.codes.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if (
            issued is None
            or form.get("redirect_uri") != issued["redirect_uri"]
            or challenge != issued["code_challenge"]
        ):
            return error(400, "invalid_grant")
        account = provider.accounts[issued["account"]]
        refresh = secrets.token_urlsafe(24)
        provider.refresh_tokens[refresh] = account.name
        return JSONResponse(
            {
                "access_token": provider.services_token(account),
                "token_type": "Bearer",
                "id_token": provider.id_token(account, issued["nonce"]),
                "refresh_token": refresh,
            }
        )

    @app.get("/end-session")
    def end_session(request: Request) -> Response:
        asked = dict(request.query_params)
        provider.signed_out.append(asked)
        provider.sessions.pop(request.cookies.get(COOKIE, ""), None)
        response = RedirectResponse(asked["post_logout_redirect_uri"], status_code=303)
        response.delete_cookie(COOKIE)
        return response

    return app


@contextmanager
def serving(app: Any, port: int) -> Iterator[None]:
    """An ASGI app served by uvicorn on 127.0.0.1:`port` in a thread until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the server on port {port} did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def running(provider: Provider, port: int) -> Iterator[Provider]:
    """The provider served on 127.0.0.1:`port` until the block ends."""
    with serving(app_of(provider), port):
        yield provider
