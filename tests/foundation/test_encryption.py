"""Personal data is encrypted at rest in the event store, under a key that can be rotated."""

from __future__ import annotations

import base64

import psycopg
import pytest
from pydantic import SecretStr
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import MapperDeserialisationError
from eventsourcing.utils import Environment

from heze_common.ciphers import MARKER, KeyRingCipher
from heze_common.eventstore import ServiceApplication
from heze_common.settings import ServiceSettings
from tests.foundation.sample import Learner

NAME = "王小明"
ID_NUMBER = "11010519491231002X"


def test_stored_event_bytes_hold_no_plain_name_or_id_number(
    upstream: ServiceApplication, upstream_settings: ServiceSettings
) -> None:
    learner = Learner(name=NAME, id_number=ID_NUMBER)
    upstream.save(learner)

    with psycopg.connect(upstream_settings.database_url) as connection:
        rows = connection.execute("SELECT topic, state FROM learners_events").fetchall()
    assert [topic for topic, _ in rows] == ["sample.Learner.Registered.v1"]
    (stored,) = [bytes(state) for _, state in rows]
    assert NAME.encode() not in stored
    assert ID_NUMBER.encode() not in stored
    assert b"11010519491231" not in stored

    restored: Learner = upstream.repository.get(learner.id)
    assert (restored.name, restored.id_number) == (NAME, ID_NUMBER)


FIRST_KEY = base64.b64encode(b"the first cipher key, 32 bytes!!").decode()
SECOND_KEY = base64.b64encode(b"the second cipher key, 32 bytes!").decode()
FIRST, SECOND = SecretStr(FIRST_KEY), SecretStr(SECOND_KEY)


def reopened(settings: ServiceSettings, **keys: object) -> ServiceApplication:
    """The service started again on the same database with other keys (the library's aggregate
    cache off, so that every read decrypts what is stored)."""
    return ServiceApplication(settings.model_copy(update={**keys, "aggregate_cache_size": 0}))


def test_rotating_the_cipher_key_keeps_every_stored_event_readable(
    upstream_settings: ServiceSettings,
) -> None:
    before = reopened(upstream_settings, cipher_key=FIRST)
    early = Learner(name=NAME, id_number=ID_NUMBER)
    before.save(early)
    before.close()

    rotated = reopened(upstream_settings, cipher_key=SECOND, retired_cipher_keys=FIRST)
    late = Learner(name="李四", id_number="11010519491231003X")
    rotated.save(late)
    assert rotated.repository.get(early.id).name == NAME  # under the retired key it names
    assert rotated.repository.get(late.id).name == "李四"
    rotated.close()

    without_the_old_key = reopened(upstream_settings, cipher_key=SECOND)
    assert without_the_old_key.repository.get(late.id).name == "李四"
    with pytest.raises(MapperDeserialisationError, match="which is not configured"):
        without_the_old_key.repository.get(early.id)
    without_the_old_key.close()


def test_events_stored_before_key_ids_are_read_under_a_configured_key() -> None:
    legacy = AESCipher(Environment(env={"CIPHER_KEY": FIRST_KEY}))
    stored = legacy.encrypt("王𠀀明".encode())
    ring = KeyRingCipher(
        Environment(env={"CIPHER_KEY": SECOND_KEY, "RETIRED_CIPHER_KEYS": FIRST_KEY})
    )
    assert ring.decrypt(stored).decode() == "王𠀀明"
    named = ring.encrypt(b"new")
    assert named.startswith(MARKER) and ring.decrypt(named) == b"new"
    tampered = named[:-1] + bytes([named[-1] ^ 1])
    with pytest.raises(ValueError, match="Invalid cipher tag"):
        ring.decrypt(tampered)
    with pytest.raises(ValueError, match="no configured key"):
        KeyRingCipher(Environment(env={"CIPHER_KEY": SECOND_KEY})).decrypt(stored)
