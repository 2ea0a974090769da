"""Bearer tokens (JWT) carrying a role and, where it applies, an organisation id.

Every endpoint declares the roles that may call it with `Depends(require_roles(...))`; an
organisation-scoped principal acts only on its own records (`principal.ensure_acts_for`).
Embedded mode signs tokens with a shared secret; production verifies with a public key only
and cannot mint tokens.

A trainee's token may also carry `idh`, the identity provider's word that it verified the
person's resident ID (实名认证): a keyed hash of the ID number (`identity_claim`), under a key
the provider shares with enrollment. A trainee registers only that identity.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, ValidationError

from heze_common.errors import Forbidden, Unauthorized
from heze_common.settings import ServiceSettings, TokenSettings
from heze_contracts.enums import Role

ORGANISATION_ROLES = frozenset(
    {Role.COUNTY_BUREAU, Role.TRAINING_INSTITUTION, Role.EVALUATION_INSTITUTION, Role.EMPLOYER}
)
"""Roles that act for one organisation and must carry its id (a county bureau's is its county)."""

IDENTITY_CLAIM = "idh"


def identity_claim(key: bytes, id_number: str) -> str:
    """The `idh` claim for a verified ID number: HMAC-SHA256 under the identity-claim key of the
    18 characters (a final x as X), base64url without padding. Keyed, because ID numbers are
    few enough to hash them all."""
    digest = hmac.new(key, id_number.strip().upper().encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Principal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str
    role: Role
    organisation_id: UUID | None = None
    verified_identity: str | None = None
    """The `idh` claim: the ID number the identity provider verified, as a keyed hash."""

    def ensure_verified_as(self, key: bytes, id_number: str) -> None:
        """Refuse unless the token vouches for this ID number (403 on field `id_number`)."""
        if self.verified_identity is None:
            raise Forbidden(
                "identity_not_verified",
                "the sign-in has not verified a resident ID (no 'idh' claim)",
                field="id_number",
            )
        if not hmac.compare_digest(self.verified_identity, identity_claim(key, id_number)):
            raise Forbidden(
                "identity_mismatch",
                "this is not the ID number the sign-in verified",
                field="id_number",
            )

    def ensure_acts_for(self, organisation_id: UUID | None) -> None:
        """Refuse an organisation-scoped principal acting on another organisation's record."""
        if self.role in ORGANISATION_ROLES and self.organisation_id != organisation_id:
            raise Forbidden(
                "other_organisation",
                f"a {self.role.value} may act only on its own organisation's records",
            )

    def listing_scope(self, organisation_id: UUID | None) -> UUID | None:
        """The organisation a list is narrowed to: an organisation-scoped principal sees only its
        own (403 `other_organisation` when it names another); anyone else, the one it names."""
        if self.role in ORGANISATION_ROLES:
            self.ensure_acts_for(organisation_id or self.organisation_id)
            return self.organisation_id
        return organisation_id

    @property
    def trainee_id(self) -> UUID | None:
        """The trainee id a trainee's token names as its subject; None if it names none."""
        try:
            return UUID(self.subject)
        except ValueError:
            return None

    def own_trainee_id(self) -> UUID:
        """The trainee id of the token's subject, or 403 `no_trainee_id`."""
        if (trainee_id := self.trainee_id) is None:
            raise Forbidden("no_trainee_id", "the token's subject must be the trainee id")
        return trainee_id

    @property
    def actor(self) -> str:
        organisation = f"@{self.organisation_id}" if self.organisation_id else ""
        return f"{self.role.value}:{self.subject}{organisation}"


class TokenVerifier:
    def __init__(self, settings: TokenSettings):
        self.settings = settings
        if settings.jwt_public_key_file is not None:
            self.key: str = settings.jwt_public_key_file.read_text()
        else:
            self.key = settings.resolved_jwt_secret()

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[self.settings.jwt_algorithm],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_seconds,
                options={"require": ["exp", "iat", "sub", "role"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthorized("token_expired", "the bearer token has expired") from error
        except jwt.InvalidTokenError as error:
            raise Unauthorized("invalid_token", f"the bearer token is invalid: {error}") from error
        # PyJWT has checked that both are integers (or read as one), that iat is not in the
        # future and exp not in the past; a token valid for years is a leaked key waiting.
        lifetime = int(claims["exp"]) - int(claims["iat"])
        longest = self.settings.jwt_max_lifetime_seconds
        if lifetime > longest:
            raise Unauthorized(
                "invalid_token",
                f"the bearer token is invalid: its lifetime (exp - iat) is {lifetime} s; at most"
                f" {longest} s is accepted (JWT_MAX_LIFETIME_SECONDS)",
            )
        try:
            principal = Principal(
                subject=claims["sub"],
                role=claims["role"],
                organisation_id=claims.get("org"),
                verified_identity=claims.get(IDENTITY_CLAIM),
            )
        except ValidationError as error:
            # Named by claim and rule, without the values: reasons are logged.
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                for e in error.errors(include_input=False)
            )
            raise Unauthorized(
                "invalid_token", f"the token's claims are invalid: {problems}"
            ) from error
        if principal.role in ORGANISATION_ROLES and principal.organisation_id is None:
            raise Unauthorized(
                "invalid_token", f"a {principal.role.value} token needs an 'org' claim"
            )
        return principal


class TokenIssuer:
    """Mints tokens for the embedded mode and tests; refuses to exist in production."""

    def __init__(self, settings: ServiceSettings):
        if settings.environment == "production" or settings.jwt_algorithm != "HS256":
            raise RuntimeError("tokens are minted only in the embedded mode")
        self.settings = settings
        self.secret = settings.resolved_jwt_secret()
        self.identity_key = settings.resolved_identity_claim_key()

    def mint(
        self,
        role: Role,
        *,
        subject: str | None = None,
        organisation_id: UUID | None = None,
        verified_id_number: str | None = None,
        ttl: timedelta = timedelta(hours=8),
    ) -> str:
        """A token; with `verified_id_number`, carrying the `idh` claim for it, as the identity
        provider's does once it has verified that person."""
        issued_at = datetime.now(
            UTC
        )  # real time: PyJWT checks expiry against it, not the domain clock
        claims: dict[str, object] = {
            "sub": subject or f"dev-{role.value}",
            "role": role.value,
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "iat": issued_at,
            "exp": issued_at + ttl,
        }
        if organisation_id is not None:
            claims["org"] = str(organisation_id)
        if verified_id_number is not None:
            claims[IDENTITY_CLAIM] = identity_claim(self.identity_key, verified_id_number)
        return jwt.encode(claims, self.secret, algorithm="HS256")


_bearer = HTTPBearer(
    auto_error=False, description="JWT carrying `role` and, where it applies, `org`"
)


def authenticated(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    if credentials is None:
        raise Unauthorized("missing_token", "this endpoint requires a bearer token")
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(credentials.credentials)


def require_roles(*roles: Role) -> Callable[..., Principal]:
    """A dependency that admits only the given roles."""
    allowed = frozenset(roles)

    def dependency(principal: Principal = Depends(authenticated)) -> Principal:
        if principal.role not in allowed:
            names = ", ".join(sorted(role.value for role in allowed))
            raise Forbidden(
                "role_not_allowed", f"{principal.role.value} may not do this; allowed: {names}"
            )
        return principal

    dependency.allowed_roles = allowed  # type: ignore[attr-defined] - listed in the OpenAPI document
    return dependency
