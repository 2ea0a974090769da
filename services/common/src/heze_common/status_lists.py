"""Bitstring Status Lists (W3C Bitstring Status List v1.0): whether a credential is revoked or
suspended, told by one bit of a list its issuer publishes as a signed credential of its own.

A verifier downloads the whole list (16 KB compressed to a few hundred bytes while few bits are
set) and may cache it, so the issuer never learns which credential anyone checks. Bit 0 is the
most significant bit of the first byte; the list is GZIP-compressed and base64url-encoded with
the multibase prefix `u`, and holds at least 131,072 entries (the specification's minimum, for
herd privacy)."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from heze_common.credentials import CREDENTIALS_CONTEXT, base64url, from_base64url

LIST_SIZE = 131_072
"""Entries per list: a list per issuing body, purpose, year and block of this many serials."""


class StatusPurpose(StrEnum):
    REVOCATION = "revocation"
    SUSPENSION = "suspension"


def encoded_list(set_indices: Iterable[int], size: int = LIST_SIZE) -> str:
    bits = bytearray(size // 8)
    for index in set_indices:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} is outside a list of {size}")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same bits give the same list, so caches and signatures don't churn.
    return "u" + base64url(gzip.compress(bytes(bits), mtime=0))


def bit_at(encoded: str, index: int) -> bool:
    """The status bit at `index` of an `encodedList`."""
    if not encoded.startswith("u"):
        raise ValueError("an encodedList must be multibase base64url (prefix 'u')")
    bits = gzip.decompress(from_base64url(encoded[1:]))
    if len(bits) * 8 < LIST_SIZE:
        raise ValueError(f"a status list holds at least {LIST_SIZE} entries")
    if not 0 <= index < len(bits) * 8:
        raise ValueError(f"status index {index} is outside a list of {len(bits) * 8}")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_entry(list_url: str, purpose: StatusPurpose, index: int) -> dict[str, str]:
    """A credential's `credentialStatus` entry pointing at its bit."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose.value,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    list_url: str,
    issuer: str,
    purpose: StatusPurpose,
    set_indices: Iterable[int],
    valid_from: datetime,
    valid_for: timedelta,
) -> dict[str, Any]:
    """The list as a credential for its issuer to sign (`IssuerKeys.sign`). It is valid for
    `valid_for` only: a verifier refuses an older list, so a replayed one can't hide a
    revocation."""
    return {
        "@context": [CREDENTIALS_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from.isoformat(),
        "validUntil": (valid_from + valid_for).isoformat(),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose.value,
            "encodedList": encoded_list(set_indices),
        },
    }
