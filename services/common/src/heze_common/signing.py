"""Signed integration events: every message is signed by its producer, and consumers believe
only what a key they were configured to trust has signed.

The signature is Ed25519, detached, over the exact bytes of the message body (which holds the
whole envelope: producer, event type, position, payload), sent in the header `signature` with
the signer's key id in `signature_key_id`. Keys come from configuration, never from a message
or the broker: a trust list names each key's id, its signer, its purpose and its public key.

- purpose `events`: a producing service's key; it vouches only for events of that producer.
- purpose `redrive`: an operator's key; it vouches for a corrected dead letter sent back to
  its topic, and the effect records the operator as its cause.
- purpose `calls`: a service's key for its calls to another service's internal API
  (`heze_common.service_calls`); it vouches only for calls made as that service.

A key can be retired from a moment on (events that occurred from then on are refused; older
ones stay verifiable, so a new consumer can still read the history) or revoked (refused
whatever they claim). The key id is the signer and a fingerprint of the public key, so it is
never out of step with the key itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from heze_common import keyfiles
from heze_contracts.enums import Producer

SIGNATURE_HEADER = "signature"
KEY_ID_HEADER = "signature_key_id"


class Purpose(StrEnum):
    EVENTS = "events"
    REDRIVE = "redrive"
    CALLS = "calls"


class BadSignature(Exception):
    """The message is not vouched for by a trusted key: it has no effect."""


def public_key_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def key_id(signer: str, key: Ed25519PublicKey) -> str:
    fingerprint = hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()
    return f"{signer}/{fingerprint[:16]}"


@dataclass(frozen=True)
class Signer:
    """Signs message bodies with one private key."""

    signer: str
    private_key: Ed25519PrivateKey

    @classmethod
    def from_base64(cls, signer: str, text: str) -> Signer:
        raw = keyfiles.decode_key(text, name=f"the signing key of {signer}", sizes=(32,))
        return cls(signer, Ed25519PrivateKey.from_private_bytes(raw))

    @property
    def key_id(self) -> str:
        return key_id(self.signer, self.private_key.public_key())

    def headers(self, body: bytes) -> dict[str, str]:
        signature = base64.b64encode(self.private_key.sign(body)).decode()
        return {SIGNATURE_HEADER: signature, KEY_ID_HEADER: self.key_id}


class TrustedKey(BaseModel):
    """One entry of the trust list (`TRUSTED_KEYS_FILE`, a JSON object `{"keys": [...]}`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: str
    signer: str = Field(description="A producing service, or the operator's name for redrive keys")
    purpose: Purpose
    public_key: str = Field(description="base64 raw 32-byte Ed25519 public key")
    retired_from: AwareDatetime | None = Field(
        None, description="events that occurred from this moment on are refused"
    )
    revoked: bool = Field(False, description="every message signed with it is refused")

    @field_validator("public_key")
    @classmethod
    def _is_a_key(cls, text: str) -> str:
        keyfiles.decode_key(text, name="public_key", sizes=(32,))
        return text

    def verifier(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))


class TrustList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    keys: list[TrustedKey]


@dataclass(frozen=True)
class Voucher:
    """Who vouched for a verified message."""

    key: TrustedKey

    @property
    def redriven_by(self) -> str | None:
        return self.key.signer if self.key.purpose is Purpose.REDRIVE else None


class TrustedKeys:
    """The keys a consumer believes; everything else is a bad signature."""

    def __init__(self, keys: Iterable[TrustedKey]):
        self.keys: dict[str, TrustedKey] = {}
        for key in keys:
            if key_id(key.signer, key.verifier()) != key.key_id:
                raise ValueError(f"trusted key {key.key_id!r}: the id does not match its key")
            self.keys[key.key_id] = key

    @classmethod
    def from_file(cls, path: Path) -> TrustedKeys:
        return cls(TrustList.model_validate_json(path.read_bytes()).keys)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> Voucher:
        """The key that signed `body`, if it is trusted and the signature holds."""
        signature, claimed_id = headers.get(SIGNATURE_HEADER), headers.get(KEY_ID_HEADER)
        if not signature or not claimed_id:
            raise BadSignature("the message is not signed")
        key = self.keys.get(claimed_id)
        if key is None:
            raise BadSignature(f"key {claimed_id!r} is not trusted")
        if key.revoked:
            raise BadSignature(f"key {claimed_id!r} is revoked")
        try:
            key.verifier().verify(base64.b64decode(signature, validate=True), body)
        except (InvalidSignature, ValueError):
            raise BadSignature(f"the signature does not match key {claimed_id!r}") from None
        return Voucher(key)

    @staticmethod
    def vouches_for(voucher: Voucher, producer: Producer, occurred_at: datetime) -> None:
        """Refuse an event key that speaks for another producer, or a retired one."""
        key = voucher.key
        if key.purpose is Purpose.EVENTS and key.signer != producer.value:
            raise BadSignature(f"key {key.key_id!r} signs for {key.signer}, not {producer.value}")
        if key.retired_from is not None and occurred_at >= key.retired_from:
            raise BadSignature(f"key {key.key_id!r} is retired from {key.retired_from.isoformat()}")


def trusted_key(signer: Signer, purpose: Purpose) -> TrustedKey:
    public = signer.private_key.public_key()
    return TrustedKey(
        key_id=signer.key_id,
        signer=signer.signer,
        purpose=purpose,
        public_key=public_key_text(public),
    )


OPERATOR = "operator"
"""The embedded mode's one operator, whose key signs corrected re-drives."""


@dataclass(frozen=True)
class EmbeddedKeyring:
    """The embedded mode's keys, made once under the data folder (atomically): each service's
    event key and calls key, and the operator's re-drive key. Every service of the folder trusts
    them all, so the services trust their peers with no set-up."""

    data_dir: Path

    def signer(self, name: str) -> Signer:
        suffix = "redrive-key" if name == OPERATOR else "event-key"
        return self._signer(name, suffix)

    def caller(self, name: str) -> Signer:
        """The key service `name` signs its calls to other services with."""
        return self._signer(name, "calls-key")

    def _signer(self, name: str, suffix: str) -> Signer:
        text = keyfiles.read_or_create(self.data_dir / f"{name}.{suffix}")
        return Signer.from_base64(name, text)

    def trusted(self) -> TrustedKeys:
        return TrustedKeys(
            [trusted_key(self.signer(p.value), Purpose.EVENTS) for p in Producer]
            + [trusted_key(self.caller(p.value), Purpose.CALLS) for p in Producer]
            + [trusted_key(self.signer(OPERATOR), Purpose.REDRIVE)]
        )

    def trust_list_json(self) -> str:
        """The trust list as ops would write it (what a production ConfigMap holds)."""
        keys = self.trusted().keys.values()
        return json.dumps({"keys": [k.model_dump(mode="json") for k in keys]}, indent=2)
