"""Service-to-service calls (heze_common.service_calls): a call is believed only when a trusted,
unrevoked `calls` key of the calling service signed it, for this service, for at most a minute;
event keys, user tokens, other audiences and impersonation are refused with a precise code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from fastapi import Depends, FastAPI
from httpx import ASGITransport, AsyncClient

from heze_common.errors import Unauthorized
from heze_common.http_errors import install_error_handlers
from heze_common.service_calls import CallVerifier, ServiceCaller, require_caller
from heze_common.signing import EmbeddedKeyring, Purpose, TrustedKeys, trusted_key


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def refusal(verifier: CallVerifier, token: str) -> str:
    with pytest.raises(Unauthorized) as refused:
        verifier.caller(token)
    assert refused.value.code == "invalid_call_token"
    return refused.value.message


def test_a_call_is_believed_only_from_a_trusted_calls_key_of_its_caller(tmp_path: Path) -> None:
    keyring = EmbeddedKeyring(tmp_path)
    enrollment = CallVerifier(keyring.trusted(), "enrollment")
    certification = ServiceCaller(keyring.caller("certification"))
    assert enrollment.caller(token_of(certification.headers("enrollment"))) == "certification"

    assert "Audience" in refusal(enrollment, token_of(certification.headers("subsidy")))
    # The event key of the same service is trusted for events, not for calls.
    events = ServiceCaller(keyring.signer("certification"))
    assert "not signed by a trusted calls key" in refusal(
        enrollment, token_of(events.headers("enrollment"))
    )
    # A token signed by certification's key, claiming to be subsidy.
    signer = keyring.caller("certification")
    now = datetime.now(UTC)
    claims = {"iss": "certification", "sub": "subsidy", "aud": "enrollment", "iat": now}
    forged = jwt.encode(
        {**claims, "exp": now + timedelta(seconds=30)},
        signer.private_key,
        algorithm="EdDSA",
        headers={"kid": signer.key_id},
    )
    assert "only as itself" in refusal(enrollment, forged)
    long_lived = jwt.encode(
        {**claims, "sub": "certification", "exp": now + timedelta(hours=1)},
        signer.private_key,
        algorithm="EdDSA",
        headers={"kid": signer.key_id},
    )
    assert "at most 60 s" in refusal(enrollment, long_lived)
    assert "not a service call token" in refusal(enrollment, "not.a.token")


def test_a_revoked_calls_key_is_refused(tmp_path: Path) -> None:
    keyring = EmbeddedKeyring(tmp_path)
    signer = keyring.caller("certification")
    revoked = trusted_key(signer, Purpose.CALLS).model_copy(update={"revoked": True})
    verifier = CallVerifier(TrustedKeys([revoked]), "enrollment")
    assert "revoked" in refusal(verifier, token_of(ServiceCaller(signer).headers("enrollment")))


async def test_an_endpoint_admits_only_its_callers(tmp_path: Path) -> None:
    keyring = EmbeddedKeyring(tmp_path)
    app = FastAPI()
    app.state.call_verifier = CallVerifier(keyring.trusted(), "enrollment")
    install_error_handlers(app)

    @app.get("/internal/thing")
    def thing(caller: str = Depends(require_caller("certification"))) -> dict[str, str]:
        return {"caller": caller}

    async with AsyncClient(transport=ASGITransport(app), base_url="http://enrollment") as http:
        allowed = ServiceCaller(keyring.caller("certification")).headers("enrollment")
        assert (await http.get("/internal/thing", headers=allowed)).json() == {
            "caller": "certification"
        }
        other = ServiceCaller(keyring.caller("assessment")).headers("enrollment")
        refused = await http.get("/internal/thing", headers=other)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "caller_not_allowed")
        missing = await http.get("/internal/thing")
        assert (missing.status_code, missing.json()["error"]["code"]) == (401, "missing_token")
