"""Where the outbox relay records how far it has published, and to which cluster, in the
service's own database.

Kept in a table of its own (not as `eventsourcing` tracking records, whose ids may only grow)
because the relay must be able to go back to zero when the broker has lost its data.
"""

from __future__ import annotations

from eventsourcing.persistence import ProcessRecorder
from eventsourcing.postgres import PostgresApplicationRecorder


class RelayPositions:
    def __init__(self, recorder: ProcessRecorder, *, create_table: bool = True):
        self.datastore = recorder.datastore  # type: ignore[attr-defined]
        if isinstance(recorder, PostgresApplicationRecorder):
            table, placeholder = f'"{self.datastore.schema}".relay_position', "%s"
        else:
            table, placeholder = "relay_position", "?"
        self._create = (
            f"CREATE TABLE IF NOT EXISTS {table}"
            " (topic TEXT PRIMARY KEY, position BIGINT NOT NULL, cluster_id TEXT)"
        )
        self._select = f"SELECT position, cluster_id FROM {table} WHERE topic = {placeholder}"
        self._upsert = (
            f"INSERT INTO {table} (topic, position, cluster_id)"
            f" VALUES ({placeholder}, {placeholder}, {placeholder})"
            " ON CONFLICT (topic) DO UPDATE SET position = excluded.position, cluster_id = excluded.cluster_id"
        )
        if create_table:
            self.create_table()

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._create)

    def load(self, topic: str) -> int:
        return self.load_with_cluster(topic)[0]

    def load_with_cluster(self, topic: str) -> tuple[int, str | None]:
        """The published position and the id of the cluster it was published to."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._select, (topic,))
            row = cursor.fetchone()
        return (0, None) if row is None else (row["position"], row["cluster_id"])

    def save(self, topic: str, position: int, cluster_id: str | None = None) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._upsert, (topic, position, cluster_id))
