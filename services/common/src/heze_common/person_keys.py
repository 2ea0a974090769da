"""A data key per person, so that erasing a person is deleting their key (crypto-shredding).

A domain event that holds personal data names its personal fields (`personal_fields`) and the
person they belong to (`person_path`, default: the aggregate). The mapper seals those fields
under the person's own data key before the event store's cipher encrypts the whole event, and
opens them on read; once the key is deleted they read as None, while the stored bytes (and so
the hash chain `audit verify` checks) stay as they were.

Each data key is stored wrapped by the service's master key (`PERSON_MASTER_KEY`), and each
sealed value names its data key, each wrapped key its master key. Rotating the master key is
configuration: the new key becomes `PERSON_MASTER_KEY`, the old one goes to
`RETIRED_PERSON_MASTER_KEYS`, and a data key wrapped under a retired master key is re-wrapped
under the current one the first time it is used. `MasterKeys` is the seam for a KMS: anything
with its `wrap` and `unwrap` does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg import sql

SEALED = "personal"
"""The stored event's member holding its sealed personal fields."""
FORMAT = "pk1"
NONCE_BYTES = 12
CACHE_SECONDS = 60.0
"""How long a process keeps a person's unwrapped key: another process (a replica, a rebuild
worker) may still read a person's data for this long after their erasure."""


def master_key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


class KeyWrapper(Protocol):
    """Wraps and unwraps data keys: the service's own master keys, or a KMS."""

    current_id: str

    def wrap(self, data_key: bytes, person_id: UUID) -> bytes: ...

    def unwrap(self, master_id: str, wrapped: bytes, person_id: UUID) -> bytes: ...


class MasterKeys:
    """AES-256-GCM key wrapping under the current master key; unwrapping under it or a retired
    one, as the wrapped key names."""

    def __init__(self, current: bytes, retired: Iterable[bytes] = ()) -> None:
        keys = [current, *retired]
        for key in keys:
            if len(key) != 32:
                raise ValueError(f"a person master key is 32 bytes, not {len(key)}")
        self._keys = {master_key_id(key): AESGCM(key) for key in keys}
        self.current_id = master_key_id(current)

    def wrap(self, data_key: bytes, person_id: UUID) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._keys[self.current_id].encrypt(nonce, data_key, person_id.bytes)

    def unwrap(self, master_id: str, wrapped: bytes, person_id: UUID) -> bytes:
        if master_id not in self._keys:
            raise LookupError(f"data key wrapped under master key {master_id}, not configured")
        try:
            return self._keys[master_id].decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], person_id.bytes
            )
        except InvalidTag as error:
            raise ValueError(f"the wrapped data key of {person_id} does not open") from error


@dataclass(frozen=True)
class WrappedKey:
    key_id: str
    master_id: str
    wrapped: bytes


class Erased:
    """What the key store holds for an erased person: no key, only the fact (a tombstone), so
    that no key is ever made for them again."""


ERASED = Erased()


class ErasedPerson(LookupError):
    """Nothing can be sealed for an erased person: the data would outlive their erasure. The
    caller reads the person again (and finds them erased)."""


class PersonKeys(ABC):
    """The people's data keys, wrapped; a key is made on a person's first sealing, and replaced
    by a tombstone when they are erased."""

    def __init__(self, master: KeyWrapper) -> None:
        self.master = master
        self._cache: dict[UUID, tuple[float, str, AESGCM]] = {}
        self._lock = threading.Lock()

    def current(self, person_id: UUID) -> tuple[str, AESGCM]:
        """The person's key (id and cipher), made now if they have none; refused once they are
        erased."""
        cached = self._cached(person_id)
        if cached is not None:
            return cached
        stored = self._load(person_id)
        if stored is None:
            data_key = AESGCM.generate_key(bit_length=256)
            stored = self._insert(
                person_id,
                WrappedKey(
                    os.urandom(8).hex(),
                    self.master.current_id,
                    self.master.wrap(data_key, person_id),
                ),
            )
        if isinstance(stored, Erased):
            raise ErasedPerson(f"person {person_id} is erased: nothing is sealed for them")
        return self._remember(person_id, stored)

    def key(self, person_id: UUID, key_id: str) -> AESGCM | None:
        """The person's key of that id, or None: erased (or never made)."""
        cached = self._cached(person_id)
        if cached is None:
            stored = self._load(person_id)
            if not isinstance(stored, WrappedKey):
                return None
            cached = self._remember(person_id, stored)
        found_id, cipher = cached
        return cipher if found_id == key_id else None

    def is_erased(self, person_id: UUID) -> bool:
        return self._cached(person_id) is None and isinstance(self._load(person_id), Erased)

    def erase(self, person_id: UUID) -> bool:
        """Replace the person's key by a tombstone; True when there was a key."""
        self._forget(person_id)
        destroyed = self._erase(person_id)
        self._forget(person_id)  # a read between the two may have cached it again
        return destroyed

    def _forget(self, person_id: UUID) -> None:
        with self._lock:
            self._cache.pop(person_id, None)

    def _cached(self, person_id: UUID) -> tuple[str, AESGCM] | None:
        with self._lock:
            entry = self._cache.get(person_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1], entry[2]

    def _remember(self, person_id: UUID, wrapped: WrappedKey) -> tuple[str, AESGCM]:
        data_key = self.master.unwrap(wrapped.master_id, wrapped.wrapped, person_id)
        if wrapped.master_id != self.master.current_id:  # a rotation: re-wrap under the new key
            self._rewrap(
                person_id,
                wrapped,
                WrappedKey(
                    wrapped.key_id, self.master.current_id, self.master.wrap(data_key, person_id)
                ),
            )
        cipher = AESGCM(data_key)
        with self._lock:
            if len(self._cache) > 100_000:  # a bound, not a policy: a full rebuild refills it
                self._cache.clear()
            self._cache[person_id] = (time.monotonic() + CACHE_SECONDS, wrapped.key_id, cipher)
        return wrapped.key_id, cipher

    @abstractmethod
    def _load(self, person_id: UUID) -> WrappedKey | Erased | None: ...

    @abstractmethod
    def _insert(self, person_id: UUID, key: WrappedKey) -> WrappedKey | Erased:
        """Store the key unless the person has one (or a tombstone) already; what is stored."""

    @abstractmethod
    def _rewrap(self, person_id: UUID, old: WrappedKey, new: WrappedKey) -> None: ...

    @abstractmethod
    def _erase(self, person_id: UUID) -> bool: ...


class PostgresPersonKeys(PersonKeys):
    """The keys in a table of the event store's database, `person_keys`: a row per person, its
    key columns emptied and `erased_at` set when they are erased."""

    def __init__(self, master: KeyWrapper, datastore: Any, *, create_table: bool = True) -> None:
        super().__init__(master)
        self.datastore = datastore
        self.table = sql.Identifier(datastore.schema or "public", "person_keys")
        if create_table:
            with datastore.transaction(commit=True) as cursor:
                cursor.execute(
                    sql.SQL(
                        "CREATE TABLE IF NOT EXISTS {} (person_id UUID PRIMARY KEY,"
                        " key_id TEXT, master_key_id TEXT, wrapped BYTEA,"
                        " created_at TIMESTAMPTZ NOT NULL DEFAULT now(), erased_at TIMESTAMPTZ,"
                        " CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL)))"
                    ).format(self.table)
                )

    def qualified_table(self) -> str:
        """The table's name as SQL text, for queries that join it."""
        return f'"{self.datastore.schema or "public"}".person_keys'

    def _load(self, person_id: UUID) -> WrappedKey | Erased | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                sql.SQL(
                    "SELECT key_id, master_key_id, wrapped FROM {} WHERE person_id = %s"
                ).format(self.table),
                (person_id,),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        if row["wrapped"] is None:
            return ERASED
        return WrappedKey(row["key_id"], row["master_key_id"], bytes(row["wrapped"]))

    def _insert(self, person_id: UUID, key: WrappedKey) -> WrappedKey | Erased:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                sql.SQL(
                    "INSERT INTO {} (person_id, key_id, master_key_id, wrapped)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT (person_id) DO NOTHING"
                ).format(self.table),
                (person_id, key.key_id, key.master_id, key.wrapped),
            )
        stored = self._load(person_id)  # a concurrent first sealing (or an erasure) may have won
        assert stored is not None, "a row once inserted is never deleted"
        return stored

    def _rewrap(self, person_id: UUID, old: WrappedKey, new: WrappedKey) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                sql.SQL(
                    "UPDATE {} SET master_key_id = %s, wrapped = %s"
                    " WHERE person_id = %s AND key_id = %s AND master_key_id = %s"
                ).format(self.table),
                (new.master_id, new.wrapped, person_id, old.key_id, old.master_id),
            )

    def _erase(self, person_id: UUID) -> bool:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                sql.SQL(
                    "INSERT INTO {} AS k (person_id, erased_at) VALUES (%s, now())"
                    " ON CONFLICT (person_id) DO UPDATE SET key_id = NULL, master_key_id = NULL,"
                    " wrapped = NULL, erased_at = now() WHERE k.erased_at IS NULL"
                    " RETURNING (xmax::text <> '0') AS had_row"  # updated: there was a key
                ).format(self.table),
                (person_id,),
            )
            row = cursor.fetchone()
        return bool(row and row["had_row"])


class MemoryPersonKeys(PersonKeys):
    """The keys in memory, for an event store in memory: they live and die with it."""

    def __init__(self, master: KeyWrapper) -> None:
        super().__init__(master)
        self._stored: dict[UUID, WrappedKey | Erased] = {}

    def _load(self, person_id: UUID) -> WrappedKey | Erased | None:
        return self._stored.get(person_id)

    def _insert(self, person_id: UUID, key: WrappedKey) -> WrappedKey | Erased:
        return self._stored.setdefault(person_id, key)

    def _rewrap(self, person_id: UUID, old: WrappedKey, new: WrappedKey) -> None:
        if self._stored.get(person_id) == old:
            self._stored[person_id] = new

    def _erase(self, person_id: UUID) -> bool:
        had_key = isinstance(self._stored.get(person_id), WrappedKey)
        self._stored[person_id] = ERASED
        return had_key


class PersonalData:
    """Seals a person's fields under their key, and opens them while the key exists."""

    def __init__(self, keys: PersonKeys) -> None:
        self.keys = keys

    @classmethod
    def in_memory(cls) -> PersonalData:
        """Keys in memory under a fresh master key (tests, and stores that live in memory)."""
        return cls(MemoryPersonKeys(MasterKeys(AESGCM.generate_key(bit_length=256))))

    def seal(self, person_id: UUID, fields: dict[str, Any]) -> str:
        key_id, cipher = self.keys.current(person_id)
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
        body = nonce + cipher.encrypt(nonce, plaintext, person_id.bytes)
        return f"{FORMAT}.{key_id}.{base64.urlsafe_b64encode(body).decode()}"

    def open(self, person_id: UUID, sealed: str) -> dict[str, Any] | None:
        """The fields, or None once the person is erased."""
        form, key_id, text = sealed.split(".", 2)
        if form != FORMAT:
            raise ValueError(f"sealed personal data of an unknown format {form!r}")
        cipher = self.keys.key(person_id, key_id)
        if cipher is None:
            return None
        body = base64.urlsafe_b64decode(text)
        try:
            plaintext = cipher.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], person_id.bytes)
        except InvalidTag as error:
            raise ValueError(f"personal data of {person_id} does not open") from error
        opened: dict[str, Any] = json.loads(plaintext)
        return opened

    def erase(self, person_id: UUID) -> bool:
        return self.keys.erase(person_id)

    def is_erased(self, person_id: UUID) -> bool:
        return self.keys.is_erased(person_id)


def person_in(state: dict[str, Any], path: tuple[str, ...], originator_id: UUID) -> UUID:
    """The person a stored event's personal fields belong to: at `path` in its state, or the
    aggregate itself (also when the event names no one there: an old version of it)."""
    value: Any = state
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    if not path or value is None:
        return originator_id
    return value if isinstance(value, UUID) else UUID(str(value))
