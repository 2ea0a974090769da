"""A service checks its own log on an auditor's request (`POST /audit/verification`): against
every checkpoint it published on the audit topic, with its own checkpoint key. Clean, it
verifies; a row altered in the database is named by position and kind; only auditors ask."""

from __future__ import annotations

import asyncio

import psycopg

from heze_common.auth import TokenIssuer
from heze_common.runtime import create_app
from heze_common.testing import Tokens, eventually, running
from heze_contracts.enums import Role
from heze_enrollment.main import definition
from heze_enrollment.settings import EnrollmentSettings


async def test_the_service_verifies_its_own_log_and_names_an_altered_row(
    checkpointing_enrollment: EnrollmentSettings, database_url: str
) -> None:
    settings = checkpointing_enrollment
    tokens = Tokens(TokenIssuer(settings))
    app = create_app(definition(settings))
    async with running(app) as client:
        application, ledger = app.state.application, app.state.ledger
        head = await asyncio.to_thread(application.log_head)
        assert head >= 2

        def checkpointed_head() -> bool:
            return bool(ledger.checkpoints) and ledger.checkpoints[-1].position == head

        await eventually(checkpointed_head)

        clean = await client.post("/audit/verification", headers=tokens(Role.AUDITOR))
        assert clean.status_code == 200, clean.text
        report = clean.json()
        assert report["service"] == "enrollment" and report["verified"] is True
        assert report["checkpoints"] >= 1 and report["head"] == head
        assert report["findings"] == [] and report["findings_total"] == 0

        refused = await client.post("/audit/verification", headers=tokens(Role.CITY_BUREAU))
        assert refused.status_code == 403

        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute(
                "UPDATE enrollment_events SET state = set_byte(state, 10, get_byte(state, 10) # 1)"
                " WHERE notification_id = 2"
            )
        tampered = (await client.post("/audit/verification", headers=tokens(Role.AUDITOR))).json()
        assert tampered["verified"] is False
        assert {"position": 2, "kind": "altered"}.items() <= tampered["findings"][0].items()
        assert tampered["findings"][0]["detail"]
        assert tampered["findings_total"] == len(tampered["findings"]) >= 1
