"""Checking a signed credential (`heze_common.credentials`): is it signed by the issuer it names,
with a key that issuer published, and what do its status lists say? The verdict comes with the
reasons a person reads: valid, revoked, suspended, tampered, untrusted, or status unknown."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
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


def check_credential(compact: str, resolver: Resolver) -> Finding:
    try:
        credential = _verified(compact, resolver)
    except _Rejected as rejected:
        return Finding(rejected.verdict, [rejected.reason])
    reasons = [f"signed by {credential['issuer']} with its published key"]
    verdict = Verdict.VALID
    entries = credential.get("credentialStatus", [])
    for entry in entries if isinstance(entries, list) else [entries]:
        try:
            is_set = _status_bit(entry, credential["issuer"], resolver)
        except _Rejected as rejected:
            reasons.append(rejected.reason)
            if verdict is Verdict.VALID:
                verdict = rejected.verdict
            continue
        purpose = entry["statusPurpose"]
        if is_set:
            reasons.append(f"the {purpose} list sets entry {entry['statusListIndex']}")
            verdict = (
                Verdict.REVOKED
                if purpose == StatusPurpose.REVOCATION or verdict is Verdict.REVOKED
                else Verdict.SUSPENDED
            )
        else:
            reasons.append(f"the {purpose} list does not set entry {entry['statusListIndex']}")
    return Finding(verdict, reasons, credential)


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
        raise _Rejected(Verdict.STATUS_UNKNOWN, f"the issuer's keys: {error}") from error
    jwk = next((key for key in published if key.get("kid") == key_id), None)
    if jwk is None:
        raise _Rejected(Verdict.UNTRUSTED, f"{issuer} has not published the key {key_id}")
    try:
        key = OKPAlgorithm.from_jwk(dict(jwk))
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


def _status_bit(entry: Mapping[str, Any], issuer: str, resolver: Resolver) -> bool:
    try:
        url, purpose, index = (
            entry["statusListCredential"],
            entry["statusPurpose"],
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
    if subject.get("statusPurpose") != purpose:
        raise _Rejected(Verdict.TAMPERED, f"the list at {url} is not a {purpose} list")
    try:
        return bit_at(subject["encodedList"], index)
    except (KeyError, ValueError, OSError) as error:
        raise _Rejected(Verdict.TAMPERED, f"the {purpose} list at {url}: {error}") from error
