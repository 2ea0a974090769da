"""Tamper evidence: the verifier names the first altered, deleted or inserted event by position,
and an untouched store verifies clean."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from heze_common import ledger
from heze_common.eventstore import ServiceApplication
from heze_common.ledger import ChainTable, Finding, extends, sign, verify
from heze_common.settings import ServiceSettings
from tests.foundation.history import store_history
from tests.foundation.sample import Learner

KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def chained(upstream: ServiceApplication) -> tuple[ServiceApplication, ChainTable, list]:
    store_history(upstream, learners=20, notes=2)  # 80 events
    table = ChainTable(upstream.recorder)
    position, head = table.head()
    checkpoints = [sign(KEY, "learners", position, head, datetime.now(UTC))]
    return upstream, table, checkpoints


def sql(settings: ServiceSettings, statement: str, *params: object) -> None:
    with psycopg.connect(settings.database_url, autocommit=True) as connection:
        connection.execute(statement, params)


def findings(app: ServiceApplication, table: ChainTable, checkpoints: list) -> list[Finding]:
    return verify(app.recorder, table, checkpoints, KEY.public_key())


def test_every_event_is_chained_in_the_transaction_that_writes_it(
    upstream: ServiceApplication,
) -> None:
    store_history(upstream, learners=5, notes=1)  # no keeper runs
    assert ChainTable(upstream.recorder).head()[0] == upstream.log_head() > 0


def test_concurrent_writers_chain_every_event_onto_the_one_before(
    upstream: ServiceApplication, upstream_settings: ServiceSettings
) -> None:
    """Each writer reads the head under the events table lock, so two processes writing at
    once still give one unbroken chain."""

    def write_history(app: ServiceApplication) -> None:
        store_history(app, learners=60, notes=1, batch=3)

    other = ServiceApplication(upstream_settings)
    try:
        with ThreadPoolExecutor(4) as writers:
            list(writers.map(write_history, (upstream, other, upstream, other)))
    finally:
        other.close()
    table = ChainTable(upstream.recorder)
    position, head = table.head()
    assert position == upstream.log_head() == 4 * 60 * 3
    assert (
        findings(upstream, table, [sign(KEY, "learners", position, head, datetime.now(UTC))]) == []
    )


def test_a_log_stored_unchained_is_chained_at_start_as_its_writes_would_have_been(
    upstream: ServiceApplication,
    upstream_settings: ServiceSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store_history(upstream, learners=20, notes=2)  # 80 events, chained as they are written
    written = ChainTable(upstream.recorder).head()
    sql(upstream_settings, "DELETE FROM audit_chain WHERE position > 30")  # as an older version
    monkeypatch.setattr(ledger, "CATCH_UP_BATCH", 7)  # the catch-up in several batches
    restarted = ServiceApplication(upstream_settings)  # creating the tables catches up
    try:
        assert ChainTable(restarted.recorder).head() == written
    finally:
        restarted.close()


def test_an_untouched_store_verifies_clean(chained: tuple) -> None:
    assert findings(*chained) == []


def test_one_changed_byte_is_named_by_position(
    chained: tuple, upstream_settings: ServiceSettings
) -> None:
    app, table, checkpoints = chained
    sql(
        upstream_settings,
        "UPDATE learners_events SET state = set_byte(state, 20, get_byte(state, 20) # 1) WHERE notification_id = 37",
    )
    assert findings(app, table, checkpoints) == [
        Finding("altered", 37, "the stored event differs from its chained hash")
    ]


def test_a_deleted_row_is_named_by_position(
    chained: tuple, upstream_settings: ServiceSettings
) -> None:
    app, table, checkpoints = chained
    sql(upstream_settings, "DELETE FROM learners_events WHERE notification_id = 12")
    assert findings(app, table, checkpoints) == [
        Finding("deleted", 12, "a chained event is missing from the log")
    ]


def test_a_forged_row_in_the_history_is_named_by_position(
    upstream: ServiceApplication, upstream_settings: ServiceSettings
) -> None:
    upstream.save(Learner(name="真实学员", id_number="11010519491231002X"))
    # A failed save burns a position, leaving a gap in the log (position 2).
    sql(
        upstream_settings,
        "SELECT nextval(pg_get_serial_sequence('learners_events', 'notification_id'))",
    )
    store_history(upstream, learners=3, notes=0)
    table = ChainTable(upstream.recorder)
    position, head = table.head()
    checkpoints = [sign(KEY, "learners", position, head, datetime.now(UTC))]
    assert findings(upstream, table, checkpoints) == []

    sql(
        upstream_settings,
        "INSERT INTO learners_events (originator_id, originator_version, topic, state, notification_id)"
        " SELECT gen_random_uuid(), 1, topic, state, 2 FROM learners_events WHERE notification_id = 1",
    )
    assert findings(upstream, table, checkpoints) == [
        Finding("inserted", 2, "an event the chain never recorded")
    ]


def test_a_rewritten_chain_contradicts_the_signed_checkpoint(
    chained: tuple, upstream_settings: ServiceSettings
) -> None:
    app, table, checkpoints = chained
    sql(
        upstream_settings,
        "UPDATE learners_events SET state = set_byte(state, 20, get_byte(state, 20) # 1) WHERE notification_id = 5",
    )
    sql(upstream_settings, "DELETE FROM audit_chain")
    table.extend()  # the forger recomputes the whole chain over the altered log
    kinds = {(finding.kind, finding.position) for finding in findings(app, table, checkpoints)}
    assert ("chain_rewritten", checkpoints[0].position) in kinds


def test_a_forged_checkpoint_signature_is_refused(chained: tuple) -> None:
    app, table, checkpoints = chained
    forged = sign(
        Ed25519PrivateKey.generate(),
        "learners",
        checkpoints[0].position,
        bytes(32),
        datetime.now(UTC),
    )
    assert findings(app, table, [forged]) == [
        Finding("bad_signature", forged.position, "checkpoint signature does not verify")
    ]


def test_a_later_checkpoint_extends_an_earlier_one_and_a_fork_does_not(
    upstream: ServiceApplication,
) -> None:
    store_history(upstream, learners=4, notes=1)
    table = ChainTable(upstream.recorder)
    first_position, first_head = table.head()
    earlier = sign(KEY, "learners", first_position, first_head, datetime.now(UTC))
    store_history(upstream, learners=3, notes=1)
    later_position, later_head = table.head()
    later = sign(KEY, "learners", later_position, later_head, datetime.now(UTC))
    proof = [hashed for position, hashed, _ in table.rows() if position > first_position]
    assert extends(earlier, later, proof)
    # A checkpoint the key holder signed over another history (a fork) extends nothing.
    fork = sign(KEY, "learners", later_position, bytes(32), datetime.now(UTC))
    assert not extends(earlier, fork, proof)
    assert findings(upstream, table, [earlier, fork])[-1].kind == "chain_rewritten"
    assert findings(upstream, table, [earlier, later]) == []
