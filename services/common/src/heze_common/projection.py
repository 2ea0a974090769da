"""Read models kept in memory and fed from the service's own notification log.

A read model is rebuilt from the log at start and brought up to date before every query, so a
reader sees its own writes. Dropping and rebuilding one is just building a new one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from heze_common.events import DomainEvent
from heze_common.eventstore import ServiceApplication


class Projection:
    """A read model: say which domain events it follows and how each changes it."""

    def handlers(self) -> Mapping[type[DomainEvent], Callable[[Any], None]]:
        raise NotImplementedError


class ProjectionRunner:
    def __init__(
        self, app: ServiceApplication, projections: Sequence[Projection], batch_size: int = 1000
    ):
        self.app = app
        self.projections = list(projections)
        self.batch_size = batch_size
        self.position = 0
        self.applied = 0
        self._lock = threading.Lock()
        self._routes: dict[str, list[Callable[[Any], None]]] = {}
        for projection in projections:
            for event_class, handler in projection.handlers().items():
                self._routes.setdefault(event_class.TOPIC, []).append(handler)
        self._topics = sorted(self._routes)

    def catch_up(self, until: int | None = None) -> int:
        """Apply every notification recorded since the last call (up to `until`); return the
        new position."""
        with self._lock:
            while notifications := self.app.recorder.select_notifications(
                self.position + 1, self.batch_size, until, self._topics
            ):
                for notification in notifications:
                    event = self.app.mapper.to_domain_event(notification)
                    for handler in self._routes[notification.topic]:
                        handler(event)
                    self.applied += 1
                self.position = notifications[-1].id
            return self.position

    def adopt(self, rebuilt: ProjectionRunner) -> None:
        """Switch to read models built beside these: bring them up to date, then take their
        state (under the lock, so a reader sees the old models or the new, never half)."""
        with self._lock:
            rebuilt.catch_up()
            for live, fresh in zip(self.projections, rebuilt.projections, strict=True):
                vars(live).clear()
                vars(live).update(vars(fresh))
            self.position = rebuilt.position

    def rebuilt(self) -> ProjectionRunner:
        """Empty copies of the same read models, to build beside these (and compare)."""
        return ProjectionRunner(
            self.app, [type(projection)() for projection in self.projections], self.batch_size
        )
