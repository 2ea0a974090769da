"""The shared auth dependency: who may call an endpoint, and on whose records."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import jwt
import pytest
from fastapi import Depends, FastAPI
from httpx import ASGITransport, AsyncClient

from heze_common import clock
from heze_common.auth import Principal, TokenIssuer, TokenVerifier, identity_claim, require_roles
from heze_common.errors import Forbidden
from heze_common.http_errors import install_error_handlers
from heze_common.settings import ServiceSettings
from heze_common.testing import service_settings
from heze_contracts.enums import Role

OWN_INSTITUTION = uuid4()
OTHER_INSTITUTION = uuid4()
RECORD_OWNERS = {"p1": OWN_INSTITUTION}


@pytest.fixture
def settings(tmp_path) -> ServiceSettings:
    return service_settings(ServiceSettings, service_name="auth-test", data_dir=tmp_path)


@pytest.fixture
async def client(settings: ServiceSettings) -> AsyncClient:
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(settings)
    install_error_handlers(app)

    @app.post("/programmes/{programme_id}/close")
    def close_programme(
        programme_id: str,
        principal: Principal = Depends(require_roles(Role.TRAINING_INSTITUTION, Role.CITY_BUREAU)),
    ) -> dict[str, str]:
        principal.ensure_acts_for(RECORD_OWNERS[programme_id])
        return {"closed": programme_id, "by": principal.actor}

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as http:
        yield http


@pytest.fixture
def issuer(settings: ServiceSettings) -> TokenIssuer:
    return TokenIssuer(settings)


async def call(client: AsyncClient, token: str | None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/programmes/p1/close", headers=headers)
    return response.status_code, response.json()


async def test_own_institution_and_city_bureau_may_act(
    client: AsyncClient, issuer: TokenIssuer
) -> None:
    own = issuer.mint(Role.TRAINING_INSTITUTION, organisation_id=OWN_INSTITUTION)
    assert (await call(client, own))[0] == 200
    assert (await call(client, issuer.mint(Role.CITY_BUREAU)))[0] == 200


async def test_another_institution_is_refused_on_this_record(
    client: AsyncClient, issuer: TokenIssuer
) -> None:
    other = issuer.mint(Role.TRAINING_INSTITUTION, organisation_id=OTHER_INSTITUTION)
    assert await call(client, other) == (
        403,
        {
            "error": {
                "code": "other_organisation",
                "message": "a training_institution may act only on its own organisation's records",
            }
        },
    )


async def test_missing_token_is_401(client: AsyncClient) -> None:
    status, body = await call(client, None)
    assert (status, body["error"]["code"]) == (401, "missing_token")


async def test_expired_token_is_401(client: AsyncClient, issuer: TokenIssuer) -> None:
    token = issuer.mint(Role.CITY_BUREAU, ttl=timedelta(seconds=-1))
    status, body = await call(client, token)
    assert (status, body["error"]["code"]) == (401, "token_expired")


async def test_token_signed_with_another_key_is_401(client: AsyncClient) -> None:
    now = clock.now()
    forged = jwt.encode(
        {
            "sub": "x",
            "role": "city_bureau",
            "iss": "heze-programme",
            "aud": "heze-services",
            "iat": now,
            "exp": now + timedelta(hours=1),
        },
        "another-secret-of-at-least-32-bytes!!",
        algorithm="HS256",
    )
    status, body = await call(client, forged)
    assert (status, body["error"]["code"]) == (401, "invalid_token")


async def test_unsigned_token_is_401(client: AsyncClient) -> None:
    now = clock.now()
    unsigned = jwt.encode(
        {
            "sub": "x",
            "role": "city_bureau",
            "iss": "heze-programme",
            "aud": "heze-services",
            "iat": now,
            "exp": now + timedelta(hours=1),
        },
        None,
        algorithm="none",
    )
    assert (await call(client, unsigned))[0] == 401


async def test_wrong_role_is_403(client: AsyncClient, issuer: TokenIssuer) -> None:
    status, body = await call(client, issuer.mint(Role.TRAINEE, subject=str(uuid4())))
    assert (status, body["error"]["code"]) == (403, "role_not_allowed")


async def test_organisation_role_without_organisation_claim_is_401(
    client: AsyncClient, issuer: TokenIssuer
) -> None:
    status, body = await call(client, issuer.mint(Role.TRAINING_INSTITUTION))
    assert (status, body["error"]["code"]) == (401, "invalid_token")


async def test_unknown_role_is_401(client: AsyncClient, settings: ServiceSettings) -> None:
    now = clock.now()
    token = jwt.encode(
        {
            "sub": "x",
            "role": "mayor",
            "iss": "heze-programme",
            "aud": "heze-services",
            "iat": now,
            "exp": now + timedelta(hours=1),
        },
        settings.resolved_jwt_secret(),
        algorithm="HS256",
    )
    assert (await call(client, token))[0] == 401


def test_tokens_cannot_be_minted_in_production(tmp_path) -> None:
    key_file = tmp_path / "public.pem"
    key_file.write_text("unused")
    production = ServiceSettings(
        service_name="x",
        environment="production",
        database_url="postgresql://db/x",
        kafka_bootstrap_servers="kafka:9092",
        cipher_key="MDEyMzQ1Njc4OWFiY2RlZg==",
        jwt_public_key_file=key_file,
        jwt_algorithm="EdDSA",
    )
    with pytest.raises(RuntimeError, match="embedded mode"):
        TokenIssuer(production)


def test_principal_actor_names_role_subject_and_organisation() -> None:
    organisation = UUID("12345678-1234-5678-1234-567812345678")
    principal = Principal(subject="u1", role=Role.EMPLOYER, organisation_id=organisation)
    assert principal.actor == f"employer:u1@{organisation}"


def test_a_token_vouching_for_an_identity_carries_only_its_keyed_hash(
    settings: ServiceSettings,
) -> None:
    number = "371702199501011012"
    token = TokenIssuer(settings).mint(Role.TRAINEE, subject="account-1", verified_id_number=number)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert number not in token and number not in str(claims)
    principal = TokenVerifier(settings).verify(token)
    key = settings.resolved_identity_claim_key()
    assert principal.verified_identity == claims["idh"] == identity_claim(key, number)
    assert identity_claim(key, number.lower()) == identity_claim(key, number)  # a final x is X
    assert identity_claim(b"another key of the same length!!", number) != claims["idh"]
    principal.ensure_verified_as(key, number)
    with pytest.raises(Forbidden) as mismatch:
        principal.ensure_verified_as(key, "37170219950101103X")
    assert (mismatch.value.code, mismatch.value.field) == ("identity_mismatch", "id_number")
    unverified = TokenVerifier(settings).verify(TokenIssuer(settings).mint(Role.TRAINEE))
    with pytest.raises(Forbidden) as missing:
        unverified.ensure_verified_as(key, number)
    assert (missing.value.code, missing.value.field) == ("identity_not_verified", "id_number")


def test_production_needs_the_identity_claim_key_and_embedded_mode_makes_one(tmp_path) -> None:
    embedded = ServiceSettings(service_name="auth-test", data_dir=tmp_path)
    key = embedded.resolved_identity_claim_key()
    assert len(key) == 32 and (tmp_path / "dev-identity-claim-key").stat().st_mode & 0o777 == 0o600
    assert (
        ServiceSettings(service_name="other", data_dir=tmp_path).resolved_identity_claim_key()
        == key
    )
    production = ServiceSettings.model_construct(
        service_name="auth-test", environment="production", identity_claim_key=None
    )
    with pytest.raises(ValueError, match="IDENTITY_CLAIM_KEY"):
        production.resolved_identity_claim_key()
