"""Personal data is encrypted at rest in the event store."""

from __future__ import annotations

import psycopg

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
