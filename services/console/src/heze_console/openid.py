"""Signing in with OpenID Connect: the authorisation-code flow with PKCE against the identity
provider that issues the services' tokens.

The browser goes to the provider's authorisation endpoint with a random `state` (the answer must
come back to the session that asked), a `nonce` (the ID token must be for this request) and an
S256 code challenge (a code caught on the way is useless without the verifier, which never
leaves the server). The callback exchanges the code at the token endpoint, with the client
secret, and keeps:
- the ID token, checked against the provider's published keys, its issuer, audience (the
  client id), expiry and nonce;
- the access token, the services' bearer token, checked as the services check it
  (`heze_common.auth.TokenVerifier`): its `sub`, `role` and `org` are who the person is to the
  services, and so to the console;
- the refresh token, to renew the access token before it expires.

Public pages read with a token of the console's own client (the client-credentials grant)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
import jwt

from heze_common.auth import Principal, TokenVerifier
from heze_common.errors import Unauthorized
from heze_console.settings import ConsoleSettings

ID_TOKEN_ALGORITHMS = ("RS256", "ES256", "EdDSA")
"""The ID-token signatures accepted: asymmetric only, so no client secret can forge one."""

RENEW_BEFORE_SECONDS = 60
"""An access token this close to its expiry is renewed (or a new client token fetched)."""


ID_TOKEN_LEEWAY_SECONDS = 60
"""The clock difference allowed with the provider on an ID token's `iat` and `exp`."""

PENDING_SECONDS = 600
"""How long an authorisation request waits for its answer."""


class SignInFailed(Exception):
    """The sign-in did not happen: the provider did not answer, or what it answered does not
    hold; `reason` is for the log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ProviderRefused(SignInFailed):
    """The provider answered with an error of its own (e.g. `invalid_grant`): final, unlike a
    provider that is away for a moment."""


@dataclass(frozen=True)
class PendingSignIn:
    """What the console remembers of an authorisation request until its answer comes back."""

    state: str
    nonce: str
    code_verifier: str
    asked_at: float
    silent_for: str | None = None
    """Asked with `prompt=none` for the account of this ID-token subject (a trainee just
    registered): an answer for another account is not taken."""
    after_registration: bool = False

    @classmethod
    def new(
        cls, *, silent_for: str | None = None, after_registration: bool = False
    ) -> PendingSignIn:
        return cls(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(48),
            asked_at=time.time(),
            silent_for=silent_for,
            after_registration=after_registration,
        )

    @property
    def silent(self) -> bool:
        return self.silent_for is not None

    def answers(self, state: str) -> bool:
        """Whether an answer with this `state` is this request's, and still awaited."""
        fresh = time.time() - self.asked_at < PENDING_SECONDS
        return fresh and secrets.compare_digest(state.encode(), self.state.encode())

    @property
    def code_challenge(self) -> str:
        digest = hashlib.sha256(self.code_verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SignedIn:
    """A person as the provider vouched for them: the services' token and what it says."""

    principal: Principal
    access_token: str
    expires_at: float
    refresh_token: str | None
    id_token: str | None
    id_claims: dict[str, Any]


@dataclass(frozen=True)
class ProviderMetadata:
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


class OpenIdSignIn:
    development = False

    def __init__(self, settings: ConsoleSettings):
        assert settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self.scopes = settings.oidc_scopes
        self.redirect_uri = f"{settings.console_url}/sign-in/callback"
        self.after_sign_out_uri = f"{settings.console_url}/"
        self.verifier = TokenVerifier(settings)
        # client_secret_basic: both parts form-encoded first (RFC 6749, 2.3.1); only the token
        # endpoint is sent them.
        self.client_auth = httpx.BasicAuth(
            quote_plus(self.client_id), quote_plus(settings.oidc_client_secret.get_secret_value())
        )
        self.http = httpx.AsyncClient(timeout=settings.service_timeout_seconds)
        self._metadata: ProviderMetadata | None = None
        self._keys: jwt.PyJWKSet | None = None
        self._client_token: SignedIn | None = None
        self._client_token_lock = asyncio.Lock()

    async def close(self) -> None:
        await self.http.aclose()

    async def metadata(self) -> ProviderMetadata:
        """The provider's discovery document, read once; its issuer must be the one configured
        (OpenID Connect Discovery 1.0, 4.3)."""
        if self._metadata is None:
            url = f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"
            document = await self._json("GET", url)
            if document.get("issuer") != self.issuer:
                raise SignInFailed(
                    f"the discovery document names issuer {document.get('issuer')!r}"
                )
            try:
                self._metadata = ProviderMetadata(
                    authorization_endpoint=document["authorization_endpoint"],
                    token_endpoint=document["token_endpoint"],
                    jwks_uri=document["jwks_uri"],
                    end_session_endpoint=document.get("end_session_endpoint"),
                )
            except KeyError as missing:
                raise SignInFailed(f"the discovery document lacks {missing}") from None
            if self.issuer.startswith("https://"):
                plain = [
                    url
                    for url in vars(self._metadata).values()
                    if url and not url.startswith("https://")
                ]
                if plain:
                    self._metadata = None
                    raise SignInFailed(
                        f"the discovery document names endpoints not on https: {plain}"
                    )
        return self._metadata

    async def authorization_url(self, pending: PendingSignIn) -> str:
        parameters = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": pending.code_challenge,
            "code_challenge_method": "S256",
        }
        if pending.silent:
            parameters["prompt"] = "none"
        return f"{(await self.metadata()).authorization_endpoint}?{urlencode(parameters)}"

    async def complete(self, pending: PendingSignIn, code: str) -> SignedIn:
        """The code of an authorisation answer (its state already checked) exchanged and checked."""
        answer = await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": pending.code_verifier,
            }
        )
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("the token endpoint answered without an ID token")
        claims = await self._id_claims(id_token)
        if not secrets.compare_digest(str(claims["nonce"]).encode(), pending.nonce.encode()):
            raise SignInFailed("the ID token's nonce is not this sign-in's")
        return self._signed_in(answer, id_token, claims)

    async def renew(self, signed_in: SignedIn) -> SignedIn:
        """A new access token from the refresh token; the ID token stays the one of the sign-in."""
        if signed_in.refresh_token is None:
            raise SignInFailed("the sign-in has no refresh token")
        answer = await self._token(
            {"grant_type": "refresh_token", "refresh_token": signed_in.refresh_token}
        )
        renewed = self._signed_in(answer, signed_in.id_token, signed_in.id_claims)
        before, after = signed_in.principal, renewed.principal
        if (after.subject, after.role, after.organisation_id) != (
            before.subject,
            before.role,
            before.organisation_id,
        ):  # the person is now someone else to the services: sign in again
            raise ProviderRefused("the renewed token names another subject, role or organisation")
        if renewed.refresh_token is None:  # the provider does not rotate refresh tokens
            renewed = replace(renewed, refresh_token=signed_in.refresh_token)
        return renewed

    async def public_reader_token(self) -> str:
        """The console client's own token (client credentials), for the public pages."""
        async with self._client_token_lock:
            token = self._client_token
            if token is None or token.expires_at - time.time() < RENEW_BEFORE_SECONDS:
                answer = await self._token({"grant_type": "client_credentials"})
                token = self._client_token = self._signed_in(answer, None, {})
            return token.access_token

    async def end_session_url(self, id_token: str | None) -> str | None:
        """Where to send the browser so the provider signs the person out too (RP-initiated
        logout), if the provider offers it."""
        endpoint = (await self.metadata()).end_session_endpoint
        if endpoint is None:
            return None
        parameters = {
            "client_id": self.client_id,
            "post_logout_redirect_uri": self.after_sign_out_uri,
        }
        if id_token is not None:
            parameters["id_token_hint"] = id_token
        return f"{endpoint}?{urlencode(parameters)}"

    def _signed_in(
        self, answer: dict[str, Any], id_token: str | None, id_claims: dict[str, Any]
    ) -> SignedIn:
        access_token = answer.get("access_token")
        if not isinstance(access_token, str):
            raise SignInFailed("the token endpoint answered without an access token")
        try:
            principal = self.verifier.verify(access_token)
        except Unauthorized as refused:
            raise SignInFailed(f"the access token is not a services' token: {refused}") from None
        expires_at = jwt.decode(access_token, options={"verify_signature": False})["exp"]
        refresh_token = answer.get("refresh_token")
        return SignedIn(
            principal=principal,
            access_token=access_token,
            expires_at=float(expires_at),
            refresh_token=refresh_token if isinstance(refresh_token, str) else None,
            id_token=id_token,
            id_claims=id_claims,
        )

    async def _id_claims(self, id_token: str) -> dict[str, Any]:
        """The ID token's claims, checked as OpenID Connect Core 3.1.3.7 asks."""
        try:
            key = await self._signing_key(id_token)
            claims = jwt.decode(
                id_token,
                key,
                algorithms=list(ID_TOKEN_ALGORITHMS),
                audience=self.client_id,
                issuer=self.issuer,
                leeway=ID_TOKEN_LEEWAY_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "nonce"]},
            )
        except jwt.InvalidTokenError as error:
            raise SignInFailed(f"the ID token is invalid: {error}") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != self.client_id:
            raise SignInFailed("the ID token was issued to another party (azp)")
        return claims

    async def _signing_key(self, id_token: str) -> jwt.PyJWK:
        """The provider's key the token names; the key set is read again once for an unknown
        key id, as the provider rotates its keys."""
        key_id = jwt.get_unverified_header(id_token).get("kid")
        for fresh in (False, True):
            if fresh or self._keys is None:
                document = await self._json("GET", (await self.metadata()).jwks_uri)
                try:
                    self._keys = jwt.PyJWKSet.from_dict(document)
                except jwt.PyJWKSetError as error:
                    raise SignInFailed(f"the provider's key set is unusable: {error}") from None
            matching = [key for key in self._keys.keys if key_id is None or key.key_id == key_id]
            if len(matching) == 1:
                return matching[0]
        raise SignInFailed(f"the provider publishes no single key {key_id!r}")

    async def _token(self, form: dict[str, str]) -> dict[str, Any]:
        endpoint = (await self.metadata()).token_endpoint
        return await self._json("POST", endpoint, data=form, auth=self.client_auth)

    async def _json(self, method: str, url: str, **arguments: Any) -> dict[str, Any]:
        try:
            response = await self.http.request(method, url, **arguments)
        except httpx.HTTPError as error:
            raise SignInFailed(f"the identity provider did not answer: {error!r}") from None
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise SignInFailed(f"{url} answered {response.status_code} without a JSON object")
        if response.is_error:
            refusal = ProviderRefused if response.status_code < 500 else SignInFailed
            raise refusal(f"{url} answered {response.status_code} {document.get('error', '')!r}")
        return document
