"""Checking a signed credential (`heze_common.credentials`): is it signed by the issuer it names,
with a key that issuer published, and what do its status lists say? The verdict comes with the
reasons a person reads: valid, revoked, suspended, tampered, untrusted, or status unknown."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

import jwt
from jwt.algorithms import OKPAlgorithm

from heze_common.credentials import ALGORITHM, HEADER_TYPE, unverified_parts
from heze_common.status_lists import StatusPurpose, bit_at


class Verdict(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    TAMPERED = "tampered"
    UNTRUSTED = "untrusted"
    STATUS_UNKNOWN = "status_unknown"


SEVERITY = [
    Verdict.VALID,
    Verdict.STATUS_UNKNOWN,
    Verdict.SUSPENDED,
    Verdict.REVOKED,
    Verdict.UNTRUSTED,
    Verdict.TAMPERED,
]
"""When several findings disagree, the gravest (last) is the verdict."""

CERTIFICATE_TYPES = {"ProfessionalTechnicalLevelCertificate", "TrainingCertificate"}
STATUS_LIST_TYPE = "BitstringStatusListCredential"


class Untrusted(Exception):
    """The issuer is not one the verifier trusts, or has not published the key."""


class Unavailable(Exception):
    """A status list (or an issuer's keys) could not be fetched, nor found in the cache."""


class Resolver(Protocol):
    def issuer_keys(self, issuer: str) -> list[Mapping[str, Any]]:
        """The issuer's published JWKs; `Untrusted` if it isn't trusted, `Unavailable`."""
        ...

    def status_list(self, url: str) -> str:
        """The status list credential at `url` (compact JWS); `Unavailable` if none is had."""
        ...


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    reasons: list[str]
    credential: dict[str, Any] | None = field(default=None)


class _Rejected(Exception):
    def __init__(self, verdict: Verdict, reason: str):
        super().__init__(reason)
        self.verdict = verdict
        self.reason = reason


def check_credential(
    compact: str, resolver: Resolver, *, now: datetime | None = None, allow_stale: bool = False
) -> Finding:
    """The verdict on a certificate's credential. A status list past its `validUntil` counts
    only with `allow_stale` (an offline check), and then the reasons say as of when."""
    try:
        credential = _verified(compact, resolver)
        types = credential.get("type", [])
        if not isinstance(types, list) or not CERTIFICATE_TYPES & set(types):
            raise _Rejected(
                Verdict.UNTRUSTED,
                f"this is not a certificate's credential (type {types!r})",
            )
    except _Rejected as rejected:
        return Finding(rejected.verdict, [rejected.reason])
    reasons = [f"{credential.get('name', 'a credential')} signed by {credential['issuer']}"]
    findings = [Verdict.VALID]
    entries = credential.get("credentialStatus", [])
    entries = entries if isinstance(entries, list) else [entries]
    if "ProfessionalTechnicalLevelCertificate" in types and not entries:
        findings.append(Verdict.TAMPERED)
        reasons.append("a level certificate's credential must carry its status entry")
    moment = now or datetime.now(UTC)
    for entry in entries:
        try:
            is_set, purpose, as_of = _status_bit(entry, credential["issuer"], resolver)
            if as_of is not None and as_of < moment:
                if not allow_stale:
                    raise _Rejected(
                        Verdict.STATUS_UNKNOWN,
                        f"the {purpose} list had expired ({as_of.isoformat()}) and no fresh one"
                        " was had",
                    )
                reasons.append(f"status as of {as_of.isoformat()} (a cached list)")
        except _Rejected as rejected:
            reasons.append(rejected.reason)
            findings.append(rejected.verdict)
            continue
        index = entry["statusListIndex"]
        if not is_set:
            reasons.append(f"the {purpose} list does not set entry {index}")
            continue
        reasons.append(f"the {purpose} list sets entry {index}")
        if purpose == StatusPurpose.REVOCATION:
            findings.append(Verdict.REVOKED)
        elif purpose == StatusPurpose.SUSPENSION:
            findings.append(Verdict.SUSPENDED)
    return Finding(max(findings, key=SEVERITY.index), reasons, credential)


def _verified(compact: str, resolver: Resolver) -> dict[str, Any]:
    """The credential, once its signature holds under a key its issuer published."""
    try:
        header, claimed = unverified_parts(compact)
    except ValueError as error:
        raise _Rejected(Verdict.TAMPERED, str(error)) from error
    if header.get("typ") != HEADER_TYPE or header.get("alg") != ALGORITHM:
        raise _Rejected(
            Verdict.TAMPERED,
            f"the header must say typ {HEADER_TYPE} and alg {ALGORITHM}, it says typ"
            f" {header.get('typ')!r} and alg {header.get('alg')!r}",
        )
    issuer = claimed.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    if not isinstance(issuer, str):
        raise _Rejected(Verdict.TAMPERED, "the credential names no issuer")
    key_id = header.get("kid")
    if not isinstance(key_id, str) or not key_id.startswith(f"{issuer}#"):
        raise _Rejected(Verdict.TAMPERED, f"the key id {key_id!r} is not one of {issuer}")
    try:
        published = resolver.issuer_keys(issuer)
    except Untrusted as error:
        raise _Rejected(Verdict.UNTRUSTED, str(error)) from error
    except Unavailable as error:
        # Unverified, not merely of unknown status: the signature was never checked.
        raise _Rejected(
            Verdict.UNTRUSTED, f"the issuer's keys could not be had, so nothing is checked: {error}"
        ) from error
    jwk = next(
        (key for key in published if isinstance(key, Mapping) and key.get("kid") == key_id), None
    )
    if jwk is None:
        raise _Rejected(Verdict.UNTRUSTED, f"{issuer} has not published the key {key_id}")
    try:
        key = OKPAlgorithm.from_jwk(dict(jwk))
    except (jwt.InvalidKeyError, ValueError, TypeError) as error:
        raise _Rejected(
            Verdict.UNTRUSTED, f"{issuer}'s key {key_id} is not an Ed25519 key"
        ) from error
    try:
        payload = jwt.PyJWS().decode(compact.strip(), key, algorithms=[ALGORITHM])
    except jwt.InvalidTokenError as error:
        raise _Rejected(
            Verdict.TAMPERED,
            f"the signature does not hold under {key_id}: the credential was changed after"
            " it was signed, or not signed by that key",
        ) from error
    credential = json.loads(payload)
    credential["issuer"] = issuer
    return credential  # type: ignore[no-any-return]


def _status_bit(
    entry: Mapping[str, Any], issuer: str, resolver: Resolver
) -> tuple[bool, str, datetime | None]:
    """The entry's bit, its purpose, and until when the list that told it is valid."""
    try:
        url, purpose, index = (
            str(entry["statusListCredential"]),
            str(entry["statusPurpose"]),
            int(entry["statusListIndex"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise _Rejected(Verdict.TAMPERED, f"a malformed status entry: {error}") from error
    try:
        status_list = _verified(resolver.status_list(url), resolver)
    except Unavailable as error:
        raise _Rejected(
            Verdict.STATUS_UNKNOWN, f"the {purpose} list {url} is not available: {error}"
        ) from error
    if status_list["issuer"] != issuer or status_list.get("id") != url:
        raise _Rejected(
            Verdict.TAMPERED, f"the {purpose} list at {url} is not {issuer}'s list for that address"
        )
    subject = status_list.get("credentialSubject", {})
    purposes = subject.get("statusPurpose") if isinstance(subject, dict) else None
    if (
        STATUS_LIST_TYPE not in status_list.get("type", [])
        or subject.get("type") != "BitstringStatusList"
        or purpose not in (purposes if isinstance(purposes, list) else [purposes])
    ):
        raise _Rejected(Verdict.TAMPERED, f"the list at {url} is not a {purpose} status list")
    try:
        is_set = bit_at(subject["encodedList"], index)
        until = status_list.get("validUntil")
        valid_until = datetime.fromisoformat(until) if until else None
    except (KeyError, ValueError, TypeError, OSError, EOFError, zlib.error) as error:
        raise _Rejected(Verdict.TAMPERED, f"the {purpose} list at {url}: {error}") from error
    return is_set, purpose, valid_until
