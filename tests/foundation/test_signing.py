"""The trust list: which signatures a consumer believes, and key rotation."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from heze_common.signing import (
    BadSignature,
    EmbeddedKeyring,
    Purpose,
    Signer,
    TrustedKey,
    TrustedKeys,
    trusted_key,
)
from heze_contracts.enums import Producer

BODY = '{"event_type": "TraineeRegistered", "name": "王𠀀明"}'.encode()
SWITCHED_AT = datetime(2026, 11, 1, tzinfo=UTC)


def enrollment_signer() -> Signer:
    return Signer("enrollment", Ed25519PrivateKey.generate())


def test_a_signature_verifies_and_names_its_key() -> None:
    signer = enrollment_signer()
    trusted = TrustedKeys([trusted_key(signer, Purpose.EVENTS)])
    voucher = trusted.verify(BODY, signer.headers(BODY))
    assert (voucher.key.key_id, voucher.redriven_by) == (signer.key_id, None)
    assert signer.key_id.startswith("enrollment/") and len(signer.key_id) == len("enrollment/") + 16


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda body, headers: (body + b" ", headers), "does not match"),
        (lambda body, headers: (body, {}), "not signed"),
        (lambda body, headers: (body, {**headers, "signature": "!!"}), "does not match"),
        (
            lambda body, headers: (body, {**headers, "signature_key_id": "enrollment/0000"}),
            "not trusted",
        ),
    ],
)
def test_altered_unsigned_or_unknown_messages_are_refused(tamper, reason: str) -> None:
    signer = enrollment_signer()
    trusted = TrustedKeys([trusted_key(signer, Purpose.EVENTS)])
    body, headers = tamper(BODY, signer.headers(BODY))
    with pytest.raises(BadSignature, match=reason):
        trusted.verify(body, headers)


def test_a_producer_key_speaks_only_for_its_producer_and_a_redrive_key_for_any() -> None:
    producer, operator = enrollment_signer(), Signer("alice", Ed25519PrivateKey.generate())
    trusted = TrustedKeys(
        [trusted_key(producer, Purpose.EVENTS), trusted_key(operator, Purpose.REDRIVE)]
    )
    voucher = trusted.verify(BODY, producer.headers(BODY))
    trusted.vouches_for(voucher, Producer.ENROLLMENT, SWITCHED_AT)
    with pytest.raises(BadSignature, match="signs for enrollment, not certification"):
        trusted.vouches_for(voucher, Producer.CERTIFICATION, SWITCHED_AT)
    redrive = trusted.verify(BODY, operator.headers(BODY))
    trusted.vouches_for(redrive, Producer.CERTIFICATION, SWITCHED_AT)
    assert redrive.redriven_by == "alice"


def test_rotation_keeps_old_events_verifiable_and_refuses_the_retired_key_after_the_switch() -> (
    None
):
    old, new = enrollment_signer(), enrollment_signer()
    trusted = TrustedKeys(
        [
            trusted_key(old, Purpose.EVENTS).model_copy(update={"retired_from": SWITCHED_AT}),
            trusted_key(new, Purpose.EVENTS),
        ]
    )
    before, after = SWITCHED_AT - timedelta(seconds=1), SWITCHED_AT
    trusted.vouches_for(trusted.verify(BODY, old.headers(BODY)), Producer.ENROLLMENT, before)
    with pytest.raises(BadSignature, match="retired"):
        trusted.vouches_for(trusted.verify(BODY, old.headers(BODY)), Producer.ENROLLMENT, after)
    trusted.vouches_for(trusted.verify(BODY, new.headers(BODY)), Producer.ENROLLMENT, after)


def test_a_revoked_key_is_refused_whatever_its_messages_claim() -> None:
    leaked = enrollment_signer()
    entry = trusted_key(leaked, Purpose.EVENTS).model_copy(update={"revoked": True})
    with pytest.raises(BadSignature, match="revoked"):
        TrustedKeys([entry]).verify(BODY, leaked.headers(BODY))


def test_a_trust_list_entry_whose_id_does_not_fit_its_key_is_refused() -> None:
    entry = trusted_key(enrollment_signer(), Purpose.EVENTS)
    other = trusted_key(enrollment_signer(), Purpose.EVENTS)
    with pytest.raises(ValueError, match="does not match its key"):
        TrustedKeys([entry.model_copy(update={"public_key": other.public_key})])
    with pytest.raises(ValueError, match="public_key"):
        TrustedKey(key_id="x/1", signer="x", purpose=Purpose.EVENTS, public_key="c2hvcnQ=")


def test_the_embedded_keyring_trusts_every_service_and_the_operator(tmp_path: Path) -> None:
    keyring = EmbeddedKeyring(tmp_path)
    trusted = keyring.trusted()
    assert sorted((key.signer, key.purpose) for key in trusted.keys.values()) == sorted(
        [
            *((p.value, Purpose.EVENTS) for p in Producer),
            *((p.value, Purpose.CALLS) for p in Producer),
            ("operator", Purpose.REDRIVE),
        ]
    )
    assert keyring.caller("certification").key_id != keyring.signer("certification").key_id
    listed = json.loads(keyring.trust_list_json())["keys"]
    assert TrustedKeys.from_file(_written(tmp_path / "trust.json", listed)).keys == trusted.keys
    raw = base64.b64decode((tmp_path / "subsidy.event-key").read_text())
    assert len(raw) == 32


def _written(path: Path, keys: list) -> Path:
    path.write_text(json.dumps({"keys": keys}))
    return path
