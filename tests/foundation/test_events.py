"""Pydantic domain events: explicit topics, upcasting of old versions, the injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.domain import ProgrammingError, event
from eventsourcing.persistence import StoredEvent

from heze_common import clock
from heze_common.events import Aggregate, AggregateCreated
from heze_common.eventstore import ServiceApplication
from heze_common.settings import ServiceSettings
from heze_common.testing import in_memory, service_settings


class Badge(Aggregate):
    TOPIC = "test.Badge"

    class Awarded(AggregateCreated):
        TOPIC = "test.Badge.Awarded.v2"
        class_version = 2
        holder: str
        points: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["points"] = 0  # version 1 had no points

    @event(Awarded)
    def __init__(self, holder: str, points: int) -> None:
        self.holder = holder
        self.points = points


@pytest.fixture
def app(tmp_path) -> ServiceApplication:
    settings = service_settings(
        in_memory(ServiceSettings), service_name="badges", data_dir=tmp_path
    )
    application = ServiceApplication(settings)
    yield application
    application.close()


def test_an_event_class_without_an_explicit_topic_is_refused() -> None:
    with pytest.raises(ProgrammingError, match="Explicit topic"):

        class Untitled(Aggregate):
            TOPIC = "test.Untitled"

            class Happened(Aggregate.Event):
                pass


def test_events_are_stored_under_their_explicit_topics_and_read_back(
    app: ServiceApplication,
) -> None:
    badge = Badge(holder="张三", points=5)
    app.save(badge)
    (notification,) = app.recorder.select_notifications(1, 10)
    assert notification.topic == "test.Badge.Awarded.v2"
    assert app.repository.get(badge.id).points == 5


def test_a_version_1_event_is_upcast_when_read(app: ServiceApplication) -> None:
    badge = Badge(holder="李四", points=9)
    stored = app.mapper.to_stored_event(badge.collect_events()[0])
    state = app.mapper.cipher.decrypt(stored.state)
    old_state = state.replace(b',"points":9', b"").replace(b',"class_version":2', b"")
    assert b"points" not in old_state
    old = StoredEvent(stored.originator_id, 1, stored.topic, app.mapper.cipher.encrypt(old_state))
    app.recorder.insert_events([old])
    assert app.repository.get(badge.id).points == 0


def test_event_timestamps_come_from_the_injectable_clock() -> None:
    instant = datetime(2027, 3, 1, 8, 30, tzinfo=UTC)
    with clock.frozen_at(instant):
        badge = Badge(holder="王五", points=1)
    assert badge.created_on == instant
