"""Signed credentials and Bitstring Status Lists: what `heze_common.credentials` signs verifies
under an independent JOSE library (joserfc), the lists decode as the specification says, and
`check_credential` tells valid, revoked, tampered and untrusted apart."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from heze_common.credential_check import Unavailable, Untrusted, Verdict, check_credential
from heze_common.credentials import CREDENTIALS_CONTEXT, IssuerKeys, unverified_parts
from heze_common.status_lists import (
    LIST_SIZE,
    StatusPurpose,
    bit_at,
    encoded_list,
    status_entry,
    status_list_credential,
)

BASE = "https://heze.example.cn/certification"
KEYS = IssuerKeys(b"s" * 32, BASE)
BODY = UUID("3f2a6b1c-0d4e-4f5a-9b8c-7d6e5f4a3b2c")
LIST_URL = f"{BASE}/public/status-lists/{BODY}/revocation/2026-0"
LISTED_AT = datetime(2026, 10, 1, tzinfo=UTC)
NOW = LISTED_AT + timedelta(minutes=1)
"""Checks run while the lists are fresh (they are valid for five minutes), unless told."""


def credential(index: int = 41) -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_CONTEXT],
        "type": ["VerifiableCredential", "ProfessionalTechnicalLevelCertificate"],
        "issuer": KEYS.issuer_id(BODY),
        "validFrom": "2026-09-24T00:00:00+08:00",
        "credentialSubject": {"name": "欧阳娜娜", "certificate": {"number": "HZSZ2026-X"}},
        "credentialStatus": [status_entry(LIST_URL, StatusPurpose.REVOCATION, index)],
    }


class Published:
    """What a verifier can fetch: the issuers' keys under BASE and the lists given."""

    def __init__(self, lists: Mapping[str, str], keys: IssuerKeys = KEYS):
        self.lists, self.keys = lists, keys

    def issuer_keys(self, issuer: str) -> list[Mapping[str, Any]]:
        if not issuer.startswith(f"{BASE}/public/issuers/"):
            raise Untrusted(f"{issuer} is not trusted")
        return self.keys.published(UUID(issuer.rsplit("/", 1)[1]))["keys"]

    def status_list(self, url: str) -> str:
        if url not in self.lists:
            raise Unavailable(f"{url} did not answer")
        return self.lists[url]


def revocations(*indices: int) -> dict[str, str]:
    listed = status_list_credential(
        LIST_URL,
        KEYS.issuer_id(BODY),
        StatusPurpose.REVOCATION,
        indices,
        LISTED_AT,
        timedelta(minutes=5),
    )
    return {LIST_URL: KEYS.sign(BODY, listed)}


# RFC 9864 (2025) prefers the fully specified "Ed25519"; "EdDSA" is what verifiers read today.
@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_a_signed_credential_verifies_under_an_independent_jose_library() -> None:
    signed = KEYS.sign(BODY, credential())
    published = KEYS.published(BODY)["keys"][0]
    key = OKPKey.import_key({k: published[k] for k in ("kty", "crv", "x")})
    verified = jws.deserialize_compact(signed, key, algorithms=["EdDSA"])
    assert json.loads(verified.payload) == credential()
    assert verified.protected == {
        "alg": "EdDSA",
        "typ": "vc+jwt",
        "cty": "vc",
        "kid": f"{KEYS.issuer_id(BODY)}#{key.thumbprint()}",
    }
    assert published["kid"] == f"{KEYS.issuer_id(BODY)}#{key.thumbprint()}"


def test_each_issuing_body_has_its_own_key_and_signs_only_as_itself() -> None:
    other = uuid4()
    assert KEYS.published(other)["keys"][0]["x"] != KEYS.published(BODY)["keys"][0]["x"]
    with pytest.raises(ValueError, match="only by the body it names"):
        KEYS.sign(other, credential())


def test_a_status_list_is_gzip_base64url_with_the_first_bit_most_significant() -> None:
    encoded = encoded_list([0, 9, LIST_SIZE - 1])
    assert encoded.startswith("u")
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) * 8 == LIST_SIZE == 131_072
    assert (bits[0], bits[1], bits[-1]) == (0x80, 0x40, 0x01)
    assert [bit_at(encoded, i) for i in (0, 1, 9, 10, LIST_SIZE - 1)] == [
        True,
        False,
        True,
        False,
        True,
    ]
    with pytest.raises(ValueError, match="outside"):
        encoded_list([LIST_SIZE])


def test_check_tells_valid_revoked_tampered_and_untrusted_apart() -> None:
    signed = KEYS.sign(BODY, credential(41))
    valid = check_credential(signed, Published(revocations(40, 42)), now=NOW)
    assert (valid.verdict, valid.credential["credentialSubject"]["name"]) == (
        Verdict.VALID,
        "欧阳娜娜",
    )
    revoked = check_credential(signed, Published(revocations(41)), now=NOW)
    assert revoked.verdict is Verdict.REVOKED
    assert "the revocation list sets entry 41" in revoked.reasons

    header, payload, signature = signed.split(".")
    changed = dict(credential(41), credentialSubject={"name": "欧阳娜", "certificate": {}})
    forged_payload = base64.urlsafe_b64encode(
        json.dumps(changed, ensure_ascii=False).encode()
    ).rstrip(b"=")
    tampered = check_credential(
        f"{header}.{forged_payload.decode()}.{signature}", Published(revocations())
    )
    assert tampered.verdict is Verdict.TAMPERED and "signature does not hold" in tampered.reasons[0]
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert check_credential(f"{header}.{payload}.{flipped}", Published({})).verdict is (
        Verdict.TAMPERED
    )

    impostor = IssuerKeys(b"i" * 32, "https://impostor.example")
    foreign = dict(credential(), issuer=impostor.issuer_id(BODY))
    assert check_credential(impostor.sign(BODY, foreign), Published({})).verdict is (
        Verdict.UNTRUSTED
    )
    # Right address, wrong key: the issuer never published the key that signed it.
    stolen_name = IssuerKeys(b"x" * 32, BASE)
    assert check_credential(stolen_name.sign(BODY, credential()), Published({})).verdict is (
        Verdict.UNTRUSTED
    )


def test_a_status_list_signed_by_another_key_or_missing_is_not_believed() -> None:
    signed = KEYS.sign(BODY, credential(41))
    other = IssuerKeys(b"o" * 32, BASE)
    listed = status_list_credential(
        LIST_URL, other.issuer_id(BODY), StatusPurpose.REVOCATION, [], LISTED_AT, timedelta(1)
    )
    forged = check_credential(signed, Published({LIST_URL: other.sign(BODY, listed)}), now=NOW)
    assert forged.verdict is Verdict.UNTRUSTED
    missing = check_credential(signed, Published({}))
    assert missing.verdict is Verdict.STATUS_UNKNOWN and "not available" in missing.reasons[-1]


def test_an_expired_list_counts_only_in_an_offline_check_which_says_as_of_when() -> None:
    """A replayed or cached old list can't hide a revocation made since."""
    signed = KEYS.sign(BODY, credential(41))
    later = LISTED_AT + timedelta(hours=1)
    stale = check_credential(signed, Published(revocations()), now=later)
    assert stale.verdict is Verdict.STATUS_UNKNOWN and "had expired" in stale.reasons[-1]
    offline = check_credential(signed, Published(revocations()), now=later, allow_stale=True)
    assert offline.verdict is Verdict.VALID
    assert "status as of 2026-10-01T00:05:00+00:00 (a cached list)" in offline.reasons


def test_a_status_list_or_a_level_credential_without_status_is_not_a_valid_certificate() -> None:
    (status_list,) = revocations().values()
    assert check_credential(status_list, Published({}), now=NOW).verdict is Verdict.UNTRUSTED
    bare = {key: value for key, value in credential().items() if key != "credentialStatus"}
    assert check_credential(KEYS.sign(BODY, bare), Published({})).verdict is Verdict.TAMPERED


def test_unverified_parts_refuses_what_is_not_a_compact_jws() -> None:
    with pytest.raises(ValueError, match="not a compact JWS"):
        unverified_parts("not.a-credential")
    header, payload = unverified_parts(KEYS.sign(BODY, credential()))
    assert header["typ"] == "vc+jwt" and payload["issuer"] == KEYS.issuer_id(BODY)
