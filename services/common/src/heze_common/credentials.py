"""Certificates as signed credentials: W3C Verifiable Credentials Data Model 2.0, secured with
JOSE as `vc-jose-cose` specifies (a compact JWS whose header says `typ: vc+jwt`, `cty: vc` and
whose payload is the credential itself), signed with Ed25519 (`EdDSA`).

Each issuing body (an evaluation institution for level certificates, a training institution for
training certificates) signs with a key of its own. A service keeps one secret, its issuer seed
(`ISSUER_KEY_SEED`), and derives each body's key from it and the body's id (HKDF-SHA256): a key
per body without a key store to back up; `IssuerKeys.private_key` is the seam where a KMS holding
a key per body would answer instead.

The issuer's id is where its keys are published: `{PUBLIC_URL}/public/issuers/{body_id}`
answers `{"id": ..., "keys": [JWK, ...]}` (a JWK Set with the issuer's id). A verifier trusts the
issuers under the programme's published base addresses, never a key a credential brings along."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CREDENTIALS_CONTEXT = "https://www.w3.org/ns/credentials/v2"
MEDIA_TYPE = "application/vc+jwt"
HEADER_TYPE = "vc+jwt"
ALGORITHM = "EdDSA"
ISSUERS_PATH = "/public/issuers"


def base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def from_base64url(text: str) -> bytes:
    """Unpadded base64url (JOSE's, multibase's `u`) back to bytes."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    """The public half as an OKP JWK (RFC 8037)."""
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": base64url(raw)}


def thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638: SHA-256 of the required members in lexicographic order, without whitespace."""
    required = {name: jwk[name] for name in ("crv", "kty", "x")}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return base64url(hashlib.sha256(canonical.encode()).digest())


class IssuerKeys:
    """The issuing bodies' keys of one service, derived from its issuer seed."""

    def __init__(self, seed: bytes, public_url: str):
        if len(seed) < 32:
            raise ValueError("an issuer seed must be at least 32 bytes")
        self._seed = seed
        self.public_url = public_url.rstrip("/")

    def issuer_id(self, body_id: UUID) -> str:
        return f"{self.public_url}{ISSUERS_PATH}/{body_id}"

    def private_key(self, body_id: UUID) -> Ed25519PrivateKey:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"heze issuer key v1", info=body_id.bytes
        ).derive(self._seed)
        return Ed25519PrivateKey.from_private_bytes(derived)

    def key_id(self, body_id: UUID) -> str:
        """`{issuer id}#{JWK thumbprint}`: names the issuer and, across rotations, the key."""
        return f"{self.issuer_id(body_id)}#{thumbprint(public_jwk(self.private_key(body_id)))}"

    def published(self, body_id: UUID) -> dict[str, Any]:
        """What `{issuer id}` answers: the issuer's id and its public keys."""
        jwk = public_jwk(self.private_key(body_id))
        key = {**jwk, "kid": self.key_id(body_id), "alg": ALGORITHM, "use": "sig"}
        return {"id": self.issuer_id(body_id), "keys": [key]}

    def sign(self, body_id: UUID, credential: Mapping[str, Any]) -> str:
        """The credential as a compact JWS; its `issuer` must be this body."""
        issuer = credential.get("issuer")
        if (issuer.get("id") if isinstance(issuer, Mapping) else issuer) != self.issuer_id(body_id):
            raise ValueError("a credential is signed only by the body it names as issuer")
        payload = json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"typ": HEADER_TYPE, "cty": "vc", "kid": self.key_id(body_id)}
        return jwt.PyJWS().encode(
            payload, self.private_key(body_id), algorithm=ALGORITHM, headers=headers
        )


def unverified_parts(compact: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and the credential of a compact JWS, before any check (to find the issuer)."""
    try:
        header_text, payload_text, _ = compact.strip().split(".")
        header = json.loads(from_base64url(header_text))
        payload = json.loads(from_base64url(payload_text))
    except ValueError as error:
        raise ValueError(f"not a compact JWS credential: {error}") from error
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ValueError("not a compact JWS credential: its header and payload must be objects")
    return header, payload
