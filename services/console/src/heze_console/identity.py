"""Who may sign in, and how: the seam between the console and an identity provider.

The services trust a bearer JWT whose claims are `sub` (subject), `role`, `org` (organisation,
for county bureaus, institutions and employers), `iss`, `aud`, `iat`, `exp`, and for a trainee
who has not registered yet `idh`, the keyed hash of the ID number the provider verified
(`heze_common.auth.TokenVerifier`). In the embedded mode the console's development sign-in
mints such a token for a role and organisation picked on a page, with the data folder's
development secret. With `OIDC_ISSUER` set (always in production) people sign in with OpenID
Connect against the identity provider that issues those tokens (`heze_console.openid`)."""

from __future__ import annotations

from uuid import UUID, uuid5

from heze_common.auth import TokenIssuer
from heze_common.settings import ServiceSettings
from heze_console.openid import OpenIdSignIn
from heze_console.settings import ConsoleSettings
from heze_contracts.enums import Role

WORKSPACES = {
    Role.TRAINEE: "/trainee",
    Role.TRAINING_INSTITUTION: "/institution",
    Role.CITY_BUREAU: "/city",
    Role.EVALUATION_INSTITUTION: "/evaluation",
    Role.PROVINCIAL_DEPARTMENT: "/province",
    Role.NATIONAL_OFFICE: "/national",
    Role.AUDITOR: "/auditor",
    Role.COUNTY_BUREAU: "/county",
    Role.EMPLOYER: "/employer",
}
"""The roles with a workspace in the console, and its address."""

EMPLOYER_NAMESPACE = UUID("6a1f3e2d-9c8b-5a7f-8e6d-5c4b3a2f1e0d")


def employer_id(name: str) -> UUID:
    """The organisation id the development sign-in gives the employer of that name (in
    production the identity provider names each employer's organisation)."""
    return uuid5(EMPLOYER_NAMESPACE, name)


PUBLIC_READER = "heze-console-public"
"""The subject of the token public pages read with: a trainee's role, which reads the directory
and the enrolment notices and nothing personal of anyone."""


class DevelopmentSignIn:
    """Embedded mode only (仅限开发环境): no password, any role and organisation."""

    development = True

    def __init__(self, settings: ConsoleSettings):
        if settings.environment == "production":
            raise RuntimeError(
                "the development sign-in is refused when ENVIRONMENT=production: set OIDC_ISSUER"
            )
        self.issuer = TokenIssuer(
            ServiceSettings(service_name="console", data_dir=settings.data_dir)
        )

    def token(
        self,
        role: Role,
        subject: str,
        organisation_id: UUID | None = None,
        *,
        verified_id_number: str | None = None,
    ) -> str:
        """A token as the identity provider would issue it; for a new trainee, vouching for the
        ID number they gave as verified (the `idh` claim)."""
        return self.issuer.mint(
            role,
            subject=subject,
            organisation_id=organisation_id,
            verified_id_number=verified_id_number,
        )

    async def public_reader_token(self) -> str:
        return self.issuer.mint(Role.TRAINEE, subject=PUBLIC_READER)

    async def close(self) -> None:
        pass


def sign_in_for(settings: ConsoleSettings) -> DevelopmentSignIn | OpenIdSignIn:
    """OpenID Connect when an identity provider is configured, else the development sign-in
    (which refuses production)."""
    if settings.oidc_issuer is not None:
        return OpenIdSignIn(settings)
    return DevelopmentSignIn(settings)
