"""An aggregate and three views of it, in a module of their own: a rebuild's worker processes
import the views by name (heze_common.rebuild_workers), which a test module's are not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from heze_common.events import Aggregate, AggregateCreated
from heze_common.views import Handler, Rows, View


class Tally(Aggregate):
    TOPIC = "test.Tally"

    class Opened(AggregateCreated):
        TOPIC = "test.Tally.Opened.v1"
        owner: str

    class Counted(Aggregate.Event):
        TOPIC = "test.Tally.Counted.v1"
        by: int

        def apply(self, tally: Tally) -> None:
            tally.total += self.by

    class Renamed(Aggregate.Event):
        TOPIC = "test.Tally.Renamed.v1"
        owner: str

        def apply(self, tally: Tally) -> None:
            tally.owner = self.owner

    @event(Opened)
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.total = 0

    def count(self, by: int) -> None:
        self.trigger_event(self.Counted, by=by)

    def rename(self, owner: str) -> None:
        self.trigger_event(self.Renamed, owner=owner)


class Totals(View):
    table_names = ("totals",)
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.totals (tally_id UUID PRIMARY KEY,"
        " owner TEXT NOT NULL, total BIGINT NOT NULL, counts INT NOT NULL)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        return {
            Tally.Opened: self._opened,
            Tally.Counted: self._counted,
            Tally.Renamed: lambda rows, event: rows.execute(
                "UPDATE {schema}.totals SET owner = %s WHERE tally_id = %s",
                (event.owner, event.originator_id),
            ),
        }

    @staticmethod
    def _opened(rows: Rows, event: Any) -> None:
        rows.execute(
            "INSERT INTO {schema}.totals VALUES (%s, %s, 0, 0)", (event.originator_id, event.owner)
        )

    @staticmethod
    def _counted(rows: Rows, event: Any) -> None:
        if event.by == FAILING_COUNT:
            raise RuntimeError("a handler failed half-way through a batch")
        rows.execute(
            "UPDATE {schema}.totals SET total = total + %s, counts = counts + 1"
            " WHERE tally_id = %s",
            (event.by, event.originator_id),
        )


class FoldedTotals(View):
    """The same as `Totals` through the folded writes: an insert, additions, and renames as
    upserts of the owner (an addition after one is a barrier)."""

    table_names = ("folded_totals",)
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.folded_totals (tally_id UUID PRIMARY KEY,"
        " owner TEXT NOT NULL, total BIGINT NOT NULL, counts INT NOT NULL)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        return {
            Tally.Opened: lambda rows, event: rows.insert(
                "folded_totals",
                {"tally_id": event.originator_id, "owner": event.owner, "total": 0, "counts": 0},
            ),
            Tally.Counted: lambda rows, event: rows.add(
                "folded_totals", key(event), {"total": event.by, "counts": 1}
            ),
            Tally.Renamed: lambda rows, event: rows.upsert(
                "folded_totals", key(event), {"owner": event.owner}, {"total": 0, "counts": 0}
            ),
        }


class UpsertedTotals(View):
    """The same again: the opening an upsert, into which the additions and renames fold."""

    table_names = ("upserted_totals",)
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.upserted_totals (tally_id UUID PRIMARY KEY,"
        " owner TEXT NOT NULL, total BIGINT NOT NULL, counts INT NOT NULL)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        return {
            Tally.Opened: lambda rows, event: rows.upsert(
                "upserted_totals", key(event), {"owner": event.owner, "total": 0, "counts": 0}
            ),
            Tally.Counted: lambda rows, event: rows.add(
                "upserted_totals", key(event), {"total": event.by, "counts": 1}
            ),
            Tally.Renamed: lambda rows, event: rows.set(
                "upserted_totals", key(event), {"owner": event.owner}
            ),
        }


def key(event: Any) -> dict[str, UUID]:
    return {"tally_id": event.originator_id}


FAILING_COUNT = -999
