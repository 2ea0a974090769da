"""Tamper evidence for a service's event log: a hash chain over every stored event and signed
checkpoints of its head.

Each stored event's hash covers its position, aggregate id and version, topic and stored bytes;
each chain hash covers the previous chain hash and the event's hash. The recorder chains every
event in the transaction that writes it; the keeper periodically signs a checkpoint (Ed25519:
position, chain head, time) that is published outside the database (Kafka `audit.checkpoints`,
the service's API). The verifier recomputes everything from the database and names the first
event that was altered, inserted or deleted, by position, as AWS CloudTrail's log-file
validation and SQL Server's ledger verification do for theirs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.persistence import ProcessRecorder, StoredEvent
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresProcessRecorder,
)
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL

GENESIS = bytes(32)


def event_hash(
    position: int, originator_id: str, originator_version: int, topic: str, state: bytes
) -> bytes:
    """The hash of one stored event (`originator_id` as text: the UUID's canonical form)."""
    encoded_topic = topic.encode()
    digest = hashlib.sha256()
    digest.update(struct.pack(">Q", position))
    digest.update(originator_id.encode())
    digest.update(struct.pack(">Q", originator_version))
    digest.update(struct.pack(">I", len(encoded_topic)) + encoded_topic)
    digest.update(struct.pack(">Q", len(state)) + state)
    return digest.digest()


def chain(previous: bytes, hashed_event: bytes) -> bytes:
    return hashlib.sha256(previous + hashed_event).digest()


def chained_rows(
    head: bytes, hashed_events: Sequence[tuple[int, bytes]]
) -> list[tuple[int, bytes, bytes]]:
    """The chain rows (position, event hash, chain hash) of events stored after `head`."""
    rows = []
    for position, hashed in hashed_events:
        head = chain(head, hashed)
        rows.append((position, hashed, head))
    return rows


@dataclass(frozen=True)
class Checkpoint:
    service: str
    position: int
    chain_hash: str
    signed_at: str
    signature: str

    def message(self) -> bytes:
        return f"{self.service}|{self.position}|{self.chain_hash}|{self.signed_at}".encode()

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Checkpoint:
        return cls(**json.loads(data))

    def is_signed_by(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(base64.b64decode(self.signature), self.message())
            return True
        except (InvalidSignature, ValueError):
            return False


def read_archive(path: Path) -> list[Checkpoint]:
    """The checkpoints of an archive file: JSON Lines, one checkpoint object per line (the
    fields of `Checkpoint`), appended to and never rewritten, e.g. on write-once storage."""
    if not path.exists():
        return []
    return [Checkpoint.from_json(line) for line in path.read_bytes().splitlines() if line.strip()]


def append_to_archive(path: Path, checkpoints: Sequence[Checkpoint]) -> int:
    """Append the checkpoints the archive does not hold yet; return how many were added."""
    held = {checkpoint.to_json() for checkpoint in read_archive(path)}
    new = [c.to_json() for c in checkpoints if c.to_json() not in held]
    new = list(dict.fromkeys(new))
    if new:
        with path.open("ab") as archive:
            archive.write(b"".join(line + b"\n" for line in new))
    return len(new)


def sign(
    private_key: Ed25519PrivateKey, service: str, position: int, head: bytes, at: datetime
) -> Checkpoint:
    unsigned = Checkpoint(service, position, head.hex(), at.isoformat(), "")
    signature = base64.b64encode(private_key.sign(unsigned.message())).decode()
    return Checkpoint(service, position, head.hex(), at.isoformat(), signature)


CATCH_UP_BATCH = 20_000
"""Events read and chained per COPY when catching up (a few MB in memory)."""


class ChainTable:
    """The chain rows beside the event log, in the service's own PostgreSQL database."""

    def __init__(self, recorder: ProcessRecorder, *, create_table: bool = True):
        assert isinstance(recorder, PostgresApplicationRecorder)
        self.recorder = recorder
        self.datastore = recorder.datastore
        schema = self.datastore.schema
        self.table = f'"{schema}".audit_chain'
        self.events_table = f'"{schema}"."{recorder.events_table_name}"'
        if create_table:
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.table} (position BIGINT PRIMARY KEY,"
                    " event_hash BYTEA NOT NULL, chain_hash BYTEA NOT NULL)"
                )

    def head(self) -> tuple[int, bytes]:
        with self.datastore.transaction(commit=False) as curs:
            return self.read_head(curs)

    def read_head(self, curs: Cursor[DictRow]) -> tuple[int, bytes]:
        """The last chain row's position and hash, in the caller's transaction."""
        curs.execute(
            f"SELECT position, chain_hash FROM {self.table} ORDER BY position DESC LIMIT 1"
        )
        row = curs.fetchone()
        return (0, GENESIS) if row is None else (row["position"], bytes(row["chain_hash"]))

    def insert(self, curs: Cursor[DictRow], rows: Sequence[tuple[int, bytes, bytes]]) -> None:
        """Insert chain rows in the caller's transaction, in one statement that can be pipelined
        (COPY cannot); the arrays go in binary, a third of the cost of hex-encoding them."""
        positions, event_hashes, chain_hashes = zip(*rows, strict=True)
        curs.execute(
            f"INSERT INTO {self.table} (position, event_hash, chain_hash)"
            " SELECT * FROM unnest(%b::bigint[], %b::bytea[], %b::bytea[])",
            (list(positions), list(event_hashes), list(chain_hashes)),
        )

    def extend(self) -> tuple[int, bytes]:
        """Chain every event stored after the head (a log stored unchained: the catch-up), with
        writers held off by the events table lock; return the new head. Read in binary, hashed
        here and written with COPY: ~180,000 events/s, against ~35,000 through the library's
        `select_notifications` and multi-row INSERTs."""
        with self.datastore.transaction(commit=True) as curs:
            for lock in self.recorder.lock_table_statements:
                curs.execute(lock)
            position, head = self.read_head(curs)
            with curs.connection.cursor(row_factory=tuple_row, binary=True) as events:
                while stored := events.execute(
                    "SELECT notification_id, originator_id::text, originator_version, topic,"
                    f" state FROM {self.events_table} WHERE notification_id > %s"
                    " ORDER BY notification_id LIMIT %s",
                    (position, CATCH_UP_BATCH),
                ).fetchall():
                    rows = chained_rows(head, [(row[0], event_hash(*row)) for row in stored])
                    with events.copy(
                        f"COPY {self.table} (position, event_hash, chain_hash)"
                        " FROM STDIN (FORMAT binary)"
                    ) as copy:
                        copy.set_types(["int8", "bytea", "bytea"])
                        for row in rows:
                            copy.write_row(row)
                    position, _, head = rows[-1]
        return position, head

    def rows(self, batch: int = 5000) -> Iterator[tuple[int, bytes, bytes]]:
        after = 0
        while True:
            with self.datastore.transaction(commit=False) as cursor:
                cursor.execute(
                    f"SELECT position, event_hash, chain_hash FROM {self.table}"
                    f" WHERE position > %s ORDER BY position LIMIT {batch}",
                    (after,),
                )
                fetched = [
                    (r["position"], bytes(r["event_hash"]), bytes(r["chain_hash"]))
                    for r in cursor.fetchall()
                ]
            if not fetched:
                return
            yield from fetched
            after = fetched[-1][0]


class ChainingRecorder(PostgresProcessRecorder):
    """The library's PostgreSQL recorder, chaining every event in the transaction that writes
    it: no stored event is ever unchained, so there is no window in which a forged row could
    pass for a genuine one. The table lock every insert takes already serialises the writers,
    so the chain head read under it is the previous event's."""

    def __init__(self, datastore: PostgresDatastore, **table_names: str):
        super().__init__(datastore, **table_names)
        self.chain = ChainTable(self, create_table=False)
        # The events' INSERT also returns the chain's head: it runs after the table lock, so no
        # other writer can move the head before this transaction commits, and reading it there
        # costs no round trip of its own.
        self.insert_events_statement += SQL(
            ", (SELECT chain_hash FROM {} ORDER BY position DESC LIMIT 1) AS chain_head"
        ).format(SQL(self.chain.table))

    def create_table(self) -> None:
        """Create the tables, and chain what an older version stored unchained (a log kept before
        chaining moved into the write transaction), with writers held off by the table lock."""
        super().create_table()
        ChainTable(self, create_table=True).extend()

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: object
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:  # in the order of the events, as the library itself pairs them
            curs.scroll(0, mode="absolute")  # back to the first returned row, for the head
            returned = curs.fetchone()
            assert returned is not None
            head = GENESIS if returned["chain_head"] is None else bytes(returned["chain_head"])
            # Chained here rather than by a recursive statement in the database: per 100 events
            # that cost ~1.6 ms of server time, this insert ~0.3 ms.
            hashes = [
                (i, event_hash(i, str(e.originator_id), e.originator_version, e.topic, e.state))
                for e, i in zip(stored_events, ids, strict=True)
            ]
            self.chain.insert(curs, chained_rows(head, hashes))
        return ids


@dataclass(frozen=True)
class Finding:
    kind: str
    """`altered`, `inserted`, `deleted`, `truncated`, `chain_rewritten` or `bad_signature`."""
    position: int
    detail: str


def verify(
    recorder: ProcessRecorder,
    table: ChainTable,
    checkpoints: Sequence[Checkpoint],
    public_key: Ed25519PublicKey,
) -> list[Finding]:
    """Recompute the chain from the stored events and compare it with the chain rows and the
    signed checkpoints; findings in position order (empty: the log verifies clean). Every
    genuine event is chained in its own write transaction, so an unchained event anywhere,
    beyond the chain's head too, is an insertion."""
    findings = [
        Finding("bad_signature", c.position, "checkpoint signature does not verify")
        for c in checkpoints
        if not c.is_signed_by(public_key)
    ]
    trusted = {c.position: c.chain_hash for c in checkpoints if c.is_signed_by(public_key)}
    chained = {position: (hashed, head) for position, hashed, head in table.rows()}
    chained_head = max(chained, default=0)
    recomputed: dict[int, bytes] = {}
    start = 1
    while notifications := recorder.select_notifications(start, 1000):
        for notification in notifications:
            hashed = recomputed[notification.id] = event_hash(
                notification.id,
                str(notification.originator_id),
                notification.originator_version,
                notification.topic,
                notification.state,
            )
            if notification.id not in chained:
                findings.append(
                    Finding("inserted", notification.id, "an event the chain never recorded")
                )
                continue
            if hashed != chained[notification.id][0]:
                findings.append(
                    Finding(
                        "altered", notification.id, "the stored event differs from its chained hash"
                    )
                )
        start = notifications[-1].id + 1
    seen = set(recomputed)
    for position in sorted(set(chained) - seen):
        findings.append(Finding("deleted", position, "a chained event is missing from the log"))
    previous = GENESIS
    for position in sorted(chained):
        hashed, head = chained[position]
        previous = chain(previous, hashed)
        if previous != head:
            findings.append(
                Finding("chain_rewritten", position, "the chain rows do not follow from each other")
            )
            break
    last_event = max(seen, default=0)
    for position, head in sorted(trusted.items()):
        if position > max(chained_head, last_event):
            gone = max(chained_head, last_event) + 1
            findings.append(
                Finding(
                    "truncated",
                    position,
                    f"a checkpoint was signed at {position}, but the log and its chain end at"
                    f" {gone - 1}: positions {gone}-{position} are gone",
                )
            )
        elif position not in chained:
            findings.append(
                Finding("chain_rewritten", position, "the chain no longer holds a signed position")
            )
        elif chained[position][1].hex() != head:
            findings.append(
                Finding("chain_rewritten", position, "the chain differs from a signed checkpoint")
            )
    signed = sorted(
        (c for c in checkpoints if c.is_signed_by(public_key) and c.position <= chained_head),
        key=lambda c: c.position,
    )
    for earlier, later in zip(signed, signed[1:]):
        proof = [h for p, h in sorted(recomputed.items()) if earlier.position < p <= later.position]
        if not extends(earlier, later, proof):
            findings.append(
                Finding(
                    "chain_rewritten",
                    later.position,
                    f"the log from {earlier.position} to {later.position} does not extend the"
                    f" checkpoint at {earlier.position} into this one",
                )
            )
    return sorted(set(findings), key=lambda finding: (finding.position, finding.kind))


def extends(earlier: Checkpoint, later: Checkpoint, event_hashes: Sequence[bytes]) -> bool:
    """The consistency proof of two checkpoints of one log (in the spirit of Certificate
    Transparency's): `later` extends `earlier` exactly when chaining the hashes of the events
    stored after `earlier`'s position, up to `later`'s, onto `earlier`'s head gives `later`'s
    head. It shows that the log `later` vouches for holds, unchanged and in the same order,
    everything `earlier` vouched for; it does not show that no event was withheld from both."""
    head = bytes.fromhex(earlier.chain_hash)
    for hashed in event_hashes:
        head = chain(head, hashed)
    return head.hex() == later.chain_hash
