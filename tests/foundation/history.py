"""Builds a stored history of learners in batches (one save of many aggregates is far faster)."""

from __future__ import annotations

from heze_common.eventstore import ServiceApplication
from tests.foundation.sample import Learner


def store_history(
    app: ServiceApplication, *, learners: int, notes: int, batch: int = 100
) -> list[Learner]:
    """`learners` learners, each registered, noted `notes` times (private), then withdrawn."""
    stored: list[Learner] = []
    for start in range(0, learners, batch):
        group = []
        for number in range(start, min(start + batch, learners)):
            learner = Learner(name=f"学员{number:05d}", id_number="11010519491231002X")
            for note in range(notes):
                learner.note(f"note {note}")
            learner.withdraw("工作调动")
            group.append(learner)
        app.save(*group)
        stored.extend(group)
    return stored
