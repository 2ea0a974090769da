"""Persistent read models (heze_common.views) on a real PostgreSQL: a view's tables equal a
from-scratch fold of the log whatever the order of commands, a batch applies whole or not at
all, two replicas' updaters apply each event once, and a rebuild built beside the live views
switches to them while writes go on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from uuid import UUID, uuid4

import psycopg
from psycopg.rows import dict_row
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heze_common.eventstore import ServiceApplication
from heze_common.settings import ServiceSettings
from heze_common.testing import service_settings
from heze_common.views import LIVE, ColumnTypes, RebuildRunning, Rows, View, ViewUpdater
from tests.foundation.tallies import FAILING_COUNT, FoldedTotals, Tally, Totals, UpsertedTotals


@pytest.fixture
def app(database_url: str) -> Iterator[ServiceApplication]:
    application = ServiceApplication(
        service_settings(ServiceSettings, service_name="tallies", database_url=database_url)
    )
    yield application
    application.close()


def table(
    database_url: str, schema: str = LIVE, name: str = "totals"
) -> dict[UUID, tuple[str, int, int]]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(f'SELECT tally_id, owner, total, counts FROM "{schema}".{name}')
        return {row[0]: tuple(row[1:]) for row in rows}  # type: ignore[misc]


def fold(app: ServiceApplication, ids: list[UUID]) -> dict[UUID, tuple[str, int, int]]:
    """The same read model computed from the aggregates themselves."""
    folded = {}
    for tally_id in ids:
        tally = app.repository.get(tally_id)
        counts = sum(isinstance(e, Tally.Counted) for e in app.events.get(tally_id))
        folded[tally_id] = (tally.owner, tally.total, counts)
    return folded


NAMES = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=12)
"""Any text PostgreSQL holds: quotes, backslashes, braces, commas, CJK, emoji."""


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(-50, 50) | NAMES, st.booleans()),
        min_size=1,
        max_size=40,
    )
)
@pytest.mark.parametrize(
    "views",
    [(Totals,), (FoldedTotals,), (UpsertedTotals,), (Totals, FoldedTotals, UpsertedTotals)],
    ids=["each", "folded", "upserted", "all"],
)
def test_the_tables_equal_a_fold_of_the_log_however_commands_and_catch_ups_interleave(
    app: ServiceApplication,
    database_url: str,
    views: tuple[type[View], ...],
    commands: list[tuple[int, int | str, bool]],
) -> None:
    updater = ViewUpdater(app, [view() for view in views])
    names = [name for view in views for name in view.table_names]
    with psycopg.connect(database_url, autocommit=True) as connection:
        tables = ", ".join(f'"{LIVE}".{name}' for name in names)
        connection.execute(f"TRUNCATE {tables}")
        connection.execute(f'UPDATE "{LIVE}".tracking SET position = %s', (app.log_head(),))
    tallies = [Tally(owner=f"张{n}") for n in range(4)]
    app.save(*tallies)
    for which, change, catch_up_now in commands:
        if isinstance(change, int):
            tallies[which].count(change)
        else:
            tallies[which].rename(change)
        app.save(tallies[which])
        if catch_up_now:
            updater.catch_up()
    assert updater.catch_up() == app.log_head()
    folded = fold(app, [t.id for t in tallies])
    for name in names:
        assert table(database_url, name=name) == folded, name


def test_a_batch_that_fails_half_way_leaves_no_rows_and_no_position(
    app: ServiceApplication, database_url: str
) -> None:
    updater = ViewUpdater(app, [Totals()])
    tally = Tally(owner="李四")
    app.save(tally)
    updater.catch_up()
    before, position = table(database_url), updater.position
    tally.count(5)
    tally.count(FAILING_COUNT)
    app.save(tally)
    with pytest.raises(RuntimeError, match="half-way"):
        updater.catch_up()
    assert table(database_url) == before  # the first count of the batch is not there either
    with psycopg.connect(database_url) as connection:
        stored = connection.execute(f'SELECT position FROM "{LIVE}".tracking').fetchone()
    assert stored == (position,)


def test_two_replicas_updating_one_database_apply_each_event_once(
    app: ServiceApplication, database_url: str
) -> None:
    other = ServiceApplication(app.settings)
    try:
        replicas = [ViewUpdater(app, [Totals()]), ViewUpdater(other, [Totals()])]
        tallies = [Tally(owner=f"王{n}") for n in range(5)]
        for round_ in range(1000):  # several batches each
            tallies[round_ % 5].count(round_)
        app.save(*tallies)
        start = threading.Barrier(4)

        errors: list[BaseException] = []

        def catch_up(replica: ViewUpdater) -> None:
            start.wait()
            try:
                replica.catch_up()
            except BaseException as error:  # noqa: BLE001 - reported by the test below
                errors.append(error)

        threads = [threading.Thread(target=catch_up, args=(r,)) for r in replicas for _ in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert table(database_url) == fold(app, [t.id for t in tallies])
    finally:
        other.close()


def test_a_rebuild_beside_the_live_views_switches_to_them_while_writes_go_on(
    app: ServiceApplication, database_url: str
) -> None:
    updater = ViewUpdater(app, [Totals()])
    tallies = [Tally(owner=f"赵{n}") for n in range(3)]
    app.save(*tallies)
    for n in range(300):
        tallies[n % 3].count(1)
        app.save(tallies[n % 3])
    updater.catch_up()
    writing, written = threading.Event(), []

    def write_on() -> None:
        writer = ServiceApplication(app.settings)
        try:
            while not writing.is_set():
                tally = Tally(owner="孙")
                tally.count(2)
                writer.save(tally)
                written.append(tally.id)
        finally:
            writer.close()

    writer = threading.Thread(target=write_on)
    writer.start()
    try:
        report = updater.rebuild_and_switch()
    finally:
        writing.set()
        writer.join()
    assert report.differences == []
    assert report.events_replayed >= 3 + 300
    updater.catch_up()
    assert written, "the writer wrote nothing during the rebuild"
    assert table(database_url) == fold(app, [t.id for t in tallies] + written)
    with psycopg.connect(database_url) as connection:
        schemas = {row[0] for row in connection.execute("SELECT nspname FROM pg_namespace")}
    assert LIVE in schemas and "views_rebuilt" not in schemas and "views_retired" not in schemas


def test_a_rebuild_that_disagrees_keeps_the_live_views_and_names_the_table(
    app: ServiceApplication, database_url: str
) -> None:
    updater = ViewUpdater(app, [Totals()])
    tally = Tally(owner="周")
    tally.count(7)
    app.save(tally)
    updater.catch_up()
    with psycopg.connect(database_url, autocommit=True) as connection:  # a damaged live view
        connection.execute(f'UPDATE "{LIVE}".totals SET total = 1000')
    report = updater.rebuild_and_switch()
    assert report.differences == ["totals"]
    assert table(database_url)[tally.id] == ("周", 1000, 1)  # not switched: left for a person


def counted_tallies(app: ServiceApplication, count: int = 3) -> list[Tally]:
    tallies = [Tally(owner=f"钱{n}") for n in range(count)]
    for n, tally in enumerate(tallies):
        tally.count(n + 1)
    app.save(*tallies)
    return tallies


def test_a_view_added_after_its_history_is_filled_from_the_whole_log(
    app: ServiceApplication, database_url: str
) -> None:
    ViewUpdater(app, [Totals()]).catch_up()  # an earlier release, with its history
    older = counted_tallies(app)
    ViewUpdater(app, [Totals()]).catch_up()
    upgraded = ViewUpdater(app, [Totals(), FoldedTotals()])  # an upgrade adds a read model
    assert upgraded.incomplete_tables() == ["folded_totals"]
    upgraded.catch_up()
    assert table(database_url, name="folded_totals") == {}  # its history is missing
    newer = counted_tallies(app, 1)
    report = upgraded.complete_if_needed()
    assert report is not None and (report.completed, report.differences) == (["folded_totals"], [])
    upgraded.catch_up()
    everyone = [t.id for t in older + newer]
    assert table(database_url, name="folded_totals") == fold(app, everyone)
    assert upgraded.incomplete_tables() == [] and upgraded.complete_if_needed() is None
    restarted = ViewUpdater(app, [Totals(), FoldedTotals()])
    assert restarted.incomplete_tables() == []  # made before: nothing is missing any more


def test_an_incomplete_table_does_not_excuse_a_damaged_one(
    app: ServiceApplication, database_url: str
) -> None:
    ViewUpdater(app, [Totals()]).catch_up()
    counted_tallies(app)
    ViewUpdater(app, [Totals()]).catch_up()
    upgraded = ViewUpdater(app, [Totals(), FoldedTotals()])
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f'UPDATE "{LIVE}".totals SET total = total + 1')
    report = upgraded.rebuild_and_switch()
    assert (report.differences, report.completed) == (["totals"], [])  # not switched
    assert upgraded.incomplete_tables() == ["folded_totals"]


def test_one_rebuild_at_a_time(app: ServiceApplication, database_url: str) -> None:
    updater = ViewUpdater(app, [Totals()])
    counted_tallies(app)
    with psycopg.connect(database_url, autocommit=True) as other:  # another replica's rebuild
        other.execute("SELECT pg_advisory_lock(%s)", (updater._rebuild_lock_key,))
        with pytest.raises(RebuildRunning):
            updater.rebuild_and_switch()
        other.execute("SELECT pg_advisory_unlock(%s)", (updater._rebuild_lock_key,))
        assert updater.rebuild_and_switch().differences == []  # its lock gone: this one runs


def test_views_of_a_new_owner_name_round_trip_byte_exact(
    app: ServiceApplication, database_url: str
) -> None:
    updater = ViewUpdater(app, [Totals()])
    name = "欧阳𠮷"  # a character outside the Basic Multilingual Plane
    tally = Tally(owner=name)
    app.save(tally)
    updater.catch_up()
    assert table(database_url)[tally.id][0].encode() == name.encode()
    assert uuid4() not in table(database_url)


def test_folded_writes_of_one_batch_end_as_the_statements_one_by_one(database_url: str) -> None:
    """Every way a row's writes fold in one batch, against what the log's order means."""
    first, second, third, fourth = (uuid4() for _ in range(4))
    with psycopg.connect(database_url, row_factory=dict_row) as connection:
        cursor = connection.cursor()
        cursor.execute("CREATE SCHEMA IF NOT EXISTS folding")
        cursor.execute(
            "CREATE TABLE folding.counters (counter_id UUID PRIMARY KEY, label TEXT NOT NULL,"
            " total INT NOT NULL, position BIGINT)"
        )
        rows = Rows(cursor, "folding", ColumnTypes())
        rows.set("counters", {"counter_id": first}, {"label": "早"})  # no row yet: changes nothing
        rows.insert("counters", {"counter_id": first, "label": "一", "total": 0, "position": 1})
        rows.add("counters", {"counter_id": first}, {"total": 2})
        rows.add("counters", {"counter_id": first}, {"total": 3})
        upsert = rows.upsert
        upsert("counters", {"counter_id": second}, {"label": "二", "total": 0}, {"position": 2})
        rows.add("counters", {"counter_id": second}, {"total": 4})  # into the upsert
        rows.add("counters", {"counter_id": second}, {"total": 1})
        upsert("counters", {"counter_id": second}, {"label": '二"\\'}, {"position": 9})
        upsert("counters", {"counter_id": third}, {"label": "三"}, {"total": 7, "position": 3})
        rows.add("counters", {"counter_id": third}, {"total": 1})  # not in the upsert: a barrier
        rows.set("counters", {"counter_id": third}, {"position": None})
        rows.execute(
            "UPDATE {schema}.counters SET total = total * 10 WHERE counter_id = %s", (first,)
        )
        rows.insert("counters", {"counter_id": fourth, "label": "四", "total": 1, "position": 4})
        rows.flush()
        cursor.execute("SELECT counter_id, label, total, position FROM folding.counters")
        table = {row["counter_id"]: (row["label"], row["total"], row["position"]) for row in cursor}
        connection.rollback()
    assert table == {
        first: ("一", 50, 1),
        second: ('二"\\', 5, 2),
        third: ("三", 8, None),
        fourth: ("四", 1, 4),
    }


def analyzed(database_url: str, schema: str, name: str) -> bool:
    """Whether the table's statistics were gathered (reltuples is -1 until they are)."""
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (f'"{schema}".{name}',)
        ).fetchone()
        return row is not None and row[0] >= 0


def test_a_large_catch_up_and_a_rebuild_leave_tables_the_planner_knows(
    app: ServiceApplication, database_url: str
) -> None:
    tallies = [Tally(owner=f"王{n}") for n in range(30)]
    app.save(*tallies)
    ViewUpdater(app, [Totals()], analyze_after=1_000).catch_up()
    assert not analyzed(database_url, LIVE, "totals")  # 30 events: autovacuum's to do
    ViewUpdater(app, [Totals()], analyze_after=10).catch_up()  # nothing left to apply
    assert not analyzed(database_url, LIVE, "totals")
    for tally in tallies:
        tally.count(1)
    app.save(*tallies)
    ViewUpdater(app, [Totals()], analyze_after=30).catch_up()
    assert analyzed(database_url, LIVE, "totals")
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{LIVE}" CASCADE')
    rebuilder = ViewUpdater(app, [Totals()])
    assert not analyzed(database_url, LIVE, "totals")
    assert rebuilder.rebuild_and_switch().differences == []
    assert analyzed(database_url, LIVE, "totals")  # the rebuilt tables, now live
