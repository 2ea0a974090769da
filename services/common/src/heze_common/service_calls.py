"""Calls from one service to another's internal API, and who made them.

The services otherwise talk only through events. A claim check is the exception: personal data
never travels on the broker, so a consumer that needs some (certification: a certificate
holder's name and ID number) asks the service that holds it. The caller proves who it is with a
short-lived JWT (EdDSA) signed by its own `calls` key, whose public half is in the trust list
every service already reads (`TRUSTED_KEYS_FILE`); the callee believes a call only from a
trusted, unrevoked `calls` key whose signer is the token's issuer, addressed to itself, living
at most a minute. User tokens cannot call these endpoints, nor these tokens user endpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from heze_common.errors import Forbidden, Unauthorized
from heze_common.signing import Purpose, Signer, TrustedKeys

CALL_LIFETIME = timedelta(seconds=60)


class ServiceCaller:
    """Mints the tokens of one service's calls."""

    def __init__(self, signer: Signer):
        self.signer = signer

    def headers(self, callee: str) -> dict[str, str]:
        issued_at = datetime.now(UTC)
        claims = {
            "iss": self.signer.signer,
            "sub": self.signer.signer,
            "aud": callee,
            "iat": issued_at,
            "exp": issued_at + CALL_LIFETIME,
        }
        token = jwt.encode(
            claims, self.signer.private_key, algorithm="EdDSA", headers={"kid": self.signer.key_id}
        )
        return {"Authorization": f"Bearer {token}"}


class CallVerifier:
    """Who made a call to this service (`service`), by the trust list's `calls` keys."""

    def __init__(self, trusted: TrustedKeys, service: str):
        self.trusted = trusted
        self.service = service

    def caller(self, token: str) -> str:
        try:
            key_id = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError as error:
            raise Unauthorized(
                "invalid_call_token", f"not a service call token: {error}"
            ) from error
        key = self.trusted.keys.get(key_id) if isinstance(key_id, str) else None
        if key is None or key.purpose is not Purpose.CALLS:
            raise Unauthorized(
                "invalid_call_token", "the call is not signed by a trusted calls key"
            )
        if key.revoked:
            raise Unauthorized("invalid_call_token", f"calls key {key.key_id!r} is revoked")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.verifier(),
                algorithms=["EdDSA"],
                audience=self.service,
                issuer=key.signer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as error:
            raise Unauthorized(
                "invalid_call_token", f"the call token is invalid: {error}"
            ) from error
        issued_at = datetime.fromtimestamp(int(claims["iat"]), UTC)
        if int(claims["exp"]) - int(claims["iat"]) > CALL_LIFETIME.total_seconds():
            raise Unauthorized("invalid_call_token", "a call token lives at most 60 s")
        if key.retired_from is not None and issued_at >= key.retired_from:
            raise Unauthorized("invalid_call_token", f"calls key {key.key_id!r} is retired")
        if claims["sub"] != key.signer:
            raise Unauthorized("invalid_call_token", "a service calls only as itself")
        return key.signer


_bearer = HTTPBearer(auto_error=False, description="A service's call token (EdDSA JWT)")


def require_caller(*callers: str) -> Callable[..., str]:
    """A dependency admitting calls from the named services only; it returns the caller."""
    allowed = frozenset(callers)

    def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> str:
        if credentials is None:
            raise Unauthorized("missing_token", "this endpoint requires a service call token")
        verifier: CallVerifier = request.app.state.call_verifier
        caller = verifier.caller(credentials.credentials)
        if caller not in allowed:
            raise Forbidden(
                "caller_not_allowed", f"{caller} may not call this; allowed: {sorted(allowed)}"
            )
        return caller

    dependency.allowed_callers = allowed  # type: ignore[attr-defined]
    return dependency
