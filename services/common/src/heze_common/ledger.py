"""Tamper evidence for a service's event log: a hash chain over every stored event and signed
checkpoints of its head.

Each stored event's hash covers its position, aggregate id and version, topic and stored bytes;
each chain hash covers the previous chain hash and the event's hash. The keeper appends chain
rows as the log grows and periodically signs a checkpoint (Ed25519: position, chain head, time)
that is published outside the database (Kafka `audit.checkpoints`, the service's API). The
verifier recomputes everything from the database and names the first event that was altered,
inserted or deleted, by position, as AWS CloudTrail's log-file validation and SQL Server's
ledger verification do for theirs.
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
from eventsourcing.persistence import Notification, ProcessRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow

GENESIS = bytes(32)


def event_hash(notification: Notification) -> bytes:
    topic = notification.topic.encode()
    digest = hashlib.sha256()
    digest.update(struct.pack(">Q", notification.id))
    digest.update(str(notification.originator_id).encode())
    digest.update(struct.pack(">Q", notification.originator_version))
    digest.update(struct.pack(">I", len(topic)) + topic)
    digest.update(struct.pack(">Q", len(notification.state)) + notification.state)
    return digest.digest()


def chain(previous: bytes, hashed_event: bytes) -> bytes:
    return hashlib.sha256(previous + hashed_event).digest()


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


class ChainTable:
    """The chain rows beside the event log, in the service's own database."""

    def __init__(self, recorder: ProcessRecorder, *, create_table: bool = True):
        self.datastore = recorder.datastore  # type: ignore[attr-defined]
        postgres = isinstance(recorder, PostgresApplicationRecorder)
        self.table = f'"{self.datastore.schema}".audit_chain' if postgres else "audit_chain"
        self.blob = "BYTEA" if postgres else "BLOB"
        self.placeholder = "%s" if postgres else "?"
        if create_table:
            with self.datastore.transaction(commit=True) as cursor:
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.table} (position BIGINT PRIMARY KEY,"
                    f" event_hash {self.blob} NOT NULL, chain_hash {self.blob} NOT NULL)"
                )

    def head(self) -> tuple[int, bytes]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT position, chain_hash FROM {self.table} ORDER BY position DESC LIMIT 1"
            )
            row = cursor.fetchone()
        return (0, GENESIS) if row is None else (row["position"], bytes(row["chain_hash"]))

    def append(self, rows: Sequence[tuple[int, bytes, bytes]]) -> None:
        """Insert chain rows in one statement per batch (a round trip per row was the keeper's
        bottleneck when catching up a long log)."""
        if not rows:
            return
        p = self.placeholder
        values = ", ".join([f"({p}, {p}, {p})"] * len(rows))
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} (position, event_hash, chain_hash) VALUES {values}",
                [value for row in rows for value in row],
            )

    def rows(self, batch: int = 5000) -> Iterator[tuple[int, bytes, bytes]]:
        after, p = 0, self.placeholder
        while True:
            with self.datastore.transaction(commit=False) as cursor:
                cursor.execute(
                    f"SELECT position, event_hash, chain_hash FROM {self.table}"
                    f" WHERE position > {p} ORDER BY position LIMIT {batch}",
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


def extend_chain(
    recorder: ProcessRecorder, table: ChainTable, batch: int = 5000
) -> tuple[int, bytes]:
    """Chain every event stored since the head; return the new head."""
    position, head = table.head()
    while notifications := recorder.select_notifications(position + 1, batch):
        rows = []
        for notification in notifications:
            hashed = event_hash(notification)
            head = chain(head, hashed)
            rows.append((notification.id, hashed, head))
        table.append(rows)
        position = notifications[-1].id
    return position, head


class ChainingRecorder(PostgresProcessRecorder):
    """The library's PostgreSQL recorder, chaining every event in the transaction that writes
    it: no stored event is ever unchained, so there is no window in which a forged row could
    pass for a genuine one. The table lock every insert takes already serialises the writers,
    so the chain head read here is the previous event's."""

    @property
    def chain_table(self) -> str:
        return f'"{self.datastore.schema}".audit_chain'

    def create_table(self) -> None:
        """Create the tables, and chain what an older version stored unchained (a log kept before
        chaining moved into the write transaction), with writers held off by the table lock."""
        super().create_table()
        ChainTable(self, create_table=True)
        with self.datastore.transaction(commit=True) as curs:
            for lock in self.lock_table_statements:
                curs.execute(lock)
            while self._chain_after_head(curs):
                pass

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: object
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:  # in the order of the events, as the library itself pairs them
            hashes = [
                event_hash(
                    Notification(e.originator_id, e.originator_version, e.topic, e.state, id=i)
                )
                for e, i in zip(stored_events, ids, strict=True)
            ]
            # One statement, computed by the database from the row before, so the chain rows
            # go down the pipeline with the events' insert: no further round trip per write.
            curs.execute(self._chain_statement, (list(ids), hashes, GENESIS))
        return ids

    @property
    def _chain_statement(self) -> str:
        table = self.chain_table
        return (
            "WITH RECURSIVE written(n, position, event_hash) AS ("
            "  SELECT n, p, h FROM unnest(%s::bigint[], %s::bytea[]) WITH ORDINALITY AS w(p, h, n)"
            "), chained(n, position, event_hash, chain_hash) AS ("
            "  SELECT n, position, event_hash, sha256(COALESCE((SELECT chain_hash FROM"
            f"   {table} ORDER BY position DESC LIMIT 1), %s) || event_hash)"
            "  FROM written WHERE n = 1"
            "  UNION ALL"
            "  SELECT w.n, w.position, w.event_hash, sha256(c.chain_hash || w.event_hash)"
            "  FROM written w JOIN chained c ON w.n = c.n + 1"
            f") INSERT INTO {table} (position, event_hash, chain_hash)"
            " SELECT position, event_hash, chain_hash FROM chained"
        )

    def _chain_after_head(self, curs: Cursor[DictRow]) -> int:
        """Chain up to 5,000 stored events after the chain's head; return how many."""
        position, head = self._head(curs)
        curs.execute(
            "SELECT notification_id AS id, originator_id, originator_version, topic, state"
            f' FROM "{self.datastore.schema}"."{self.events_table_name}"'
            " WHERE notification_id > %s ORDER BY notification_id LIMIT 5000",
            (position,),
        )
        written = [Notification(**{**r, "state": bytes(r["state"])}) for r in curs.fetchall()]
        self._append(curs, written, head)
        return len(written)

    def _head(self, curs: Cursor[DictRow]) -> tuple[int, bytes]:
        curs.execute(
            f"SELECT position, chain_hash FROM {self.chain_table} ORDER BY position DESC LIMIT 1"
        )
        row = curs.fetchone()
        return (0, GENESIS) if row is None else (row["position"], bytes(row["chain_hash"]))

    def _append(self, curs: Cursor[DictRow], written: Sequence[Notification], head: bytes) -> None:
        values: list[object] = []
        for notification in written:
            hashed = event_hash(notification)
            head = chain(head, hashed)
            values += [notification.id, hashed, head]
        if values:
            rows = ", ".join(["(%s, %s, %s)"] * len(written))
            curs.execute(
                f"INSERT INTO {self.chain_table} (position, event_hash, chain_hash) VALUES {rows}",
                values,
            )


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
    signed checkpoints; findings in position order (empty: the log verifies clean). Where every
    event is chained in its own write transaction (PostgreSQL), an unchained event anywhere,
    beyond the chain's head too, is an insertion."""
    everything_chained = isinstance(recorder, ChainingRecorder)
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
            hashed = recomputed[notification.id] = event_hash(notification)
            if notification.id not in chained:
                if notification.id <= chained_head or everything_chained:
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
