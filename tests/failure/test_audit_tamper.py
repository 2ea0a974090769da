"""The tamper suite: someone with the database's write credentials edits the enrollment service's
log on PostgreSQL, and the auditor's `audit verify` (pinned key, every checkpoint ever published
on the topic or kept in the archive, nothing taken from the service) names what was done."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from heze_common.broker import read_all
from heze_common.eventstore import ServiceApplication
from heze_common.ledger import ChainTable, sign
from heze_common.runtime import create_app
from heze_common.testing import eventually, running, service_settings
from heze_contracts.topics import AUDIT_CHECKPOINTS
from heze_enrollment.main import definition
from heze_enrollment.settings import EnrollmentSettings
from heze_system.launcher import cli


@dataclass
class AuditedService:
    settings: EnrollmentSettings
    checkpoint_head: int
    archive: Path

    def sql(self, statement: str) -> None:
        with psycopg.connect(self.settings.database_url, autocommit=True) as connection:
            connection.execute(statement)

    def verify(self, public_key: str | None = None) -> tuple[int, str]:
        """`./heze audit verify enrollment` as the auditor runs it, the service stopped."""
        result = CliRunner().invoke(
            cli,
            [
                "audit",
                "verify",
                "enrollment",
                "--public-key",
                public_key or self.public_key,
                "--kafka",
                self.settings.kafka_bootstrap_servers or "",
                "--topic-prefix",
                self.settings.kafka_topic_prefix,
                "--archive",
                str(self.archive),
                "--database-url",
                self.settings.database_url or "",
            ],
            env={"COLUMNS": "250"},
        )
        return result.exit_code, result.output

    @property
    def public_key(self) -> str:
        raw = base64.b64decode(self.settings.resolved_audit_signing_key())
        public = Ed25519PrivateKey.from_private_bytes(raw).public_key()
        return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


@pytest.fixture
async def audited(
    database_url: str, kafka_bootstrap_servers: str, topic_prefix: str, tmp_path: Path
) -> AsyncIterator[AuditedService]:
    settings = service_settings(
        EnrollmentSettings,
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        kafka_topic_prefix=topic_prefix,
        audit_checkpoint_seconds=0.2,
        audit_signing_key=base64.b64encode(bytes(range(32))).decode(),
    )
    app = create_app(definition(settings))
    topic = topic_prefix + AUDIT_CHECKPOINTS
    async with running(app):
        head = await asyncio.to_thread(app.state.application.log_head)
        ledger = app.state.ledger

        def checkpointed_head() -> bool:
            return bool(ledger.checkpoints) and ledger.checkpoints[-1].position == head

        await eventually(checkpointed_head)
        await eventually(lambda: _published(kafka_bootstrap_servers, topic))
    archive = tmp_path / "checkpoints.jsonl"
    result = await asyncio.to_thread(  # the command runs its own event loop
        CliRunner().invoke,
        cli,
        [
            "audit",
            "archive",
            str(archive),
            "--kafka",
            kafka_bootstrap_servers,
            "--topic-prefix",
            topic_prefix,
        ],
    )
    assert result.exit_code == 0, result.output
    yield AuditedService(settings, head, archive)  # the service has stopped: its memory is gone


async def _published(bootstrap: str, topic: str) -> bool:
    return bool(await read_all(bootstrap, topic, idle_ms=200))


def test_a_clean_log_verifies_clean(audited: AuditedService) -> None:
    code, output = audited.verify()
    assert code == 0, output
    assert "verifies clean" in output


def test_deleting_the_tail_after_a_checkpoint_is_truncation(audited: AuditedService) -> None:
    gone_from = audited.checkpoint_head - 4
    audited.sql(f"DELETE FROM enrollment_events WHERE notification_id >= {gone_from}")
    audited.sql(f"DELETE FROM audit_chain WHERE position >= {gone_from}")
    code, output = audited.verify()
    assert code == 1
    assert "truncated" in output
    assert f"positions {gone_from}-{audited.checkpoint_head} are gone" in output


def test_rewriting_an_event_and_its_whole_chain_contradicts_the_checkpoints(
    audited: AuditedService,
) -> None:
    audited.sql(
        "UPDATE enrollment_events SET state = set_byte(state, 20, get_byte(state, 20) # 1)"
        " WHERE notification_id = 5"
    )
    audited.sql("DELETE FROM audit_chain")
    rechain(audited)  # the forger recomputes the chain over the altered log
    code, output = audited.verify()
    assert code == 1
    assert "chain_rewritten" in output and "differs from a signed checkpoint" in output


def test_a_row_forged_into_a_gap_is_inserted(audited: AuditedService) -> None:
    # A position below the head that the chain does not hold (its event and chain row gone,
    # as a burnt position would be): the forger puts an event of their own there.
    audited.sql("DELETE FROM enrollment_events WHERE notification_id = 3")
    audited.sql("DELETE FROM audit_chain WHERE position = 3")
    audited.sql(
        "INSERT INTO enrollment_events (originator_id, originator_version, topic, state,"
        " notification_id) SELECT gen_random_uuid(), 1, topic, state, 3 FROM enrollment_events"
        " WHERE notification_id = 1"
    )
    code, output = audited.verify()
    assert code == 1
    assert "inserted" in output


def test_a_row_forged_beyond_the_head_is_inserted_too(audited: AuditedService) -> None:
    """Every genuine event is chained in the transaction that writes it, so there is no window
    after the head in which a forged row passes for a genuine write."""
    beyond = audited.checkpoint_head + 1
    audited.sql(
        "INSERT INTO enrollment_events (originator_id, originator_version, topic, state,"
        f" notification_id) SELECT gen_random_uuid(), 1, topic, state, {beyond}"
        " FROM enrollment_events WHERE notification_id = 1"
    )
    code, output = audited.verify()
    assert code == 1
    assert "inserted" in output and f"│ {beyond} " in output.replace("┃", "│")


def test_edited_bytes_are_altered(audited: AuditedService) -> None:
    audited.sql(
        "UPDATE enrollment_events SET state = set_byte(state, 10, get_byte(state, 10) # 1)"
        " WHERE notification_id = 7"
    )
    code, output = audited.verify()
    assert code == 1
    assert "altered" in output and "│ 7 " in output.replace("┃", "│")


def test_a_checkpoint_forged_with_another_key_is_a_bad_signature(
    audited: AuditedService,
) -> None:
    forger = Ed25519PrivateKey.generate()
    forged = sign(forger, "enrollment", audited.checkpoint_head, bytes(32), datetime.now(UTC))
    with audited.archive.open("ab") as archive:
        archive.write(forged.to_json() + b"\n")
    code, output = audited.verify()
    assert code == 1
    assert "bad_signature" in output


def test_only_the_pinned_key_counts(audited: AuditedService) -> None:
    """A service that serves (or a forger who publishes) another key convinces no one: verify
    never asks the service, and the checkpoints do not verify under any key but the pinned one."""
    other = Ed25519PrivateKey.generate().public_key()
    served = base64.b64encode(other.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    code, output = audited.verify(public_key=served)
    assert code == 1
    assert "bad_signature" in output


def rechain(audited: AuditedService) -> None:
    app = ServiceApplication(audited.settings.model_copy(update={"create_tables": False}))
    try:
        ChainTable(app.recorder, create_table=False).extend()
    finally:
        app.close()
