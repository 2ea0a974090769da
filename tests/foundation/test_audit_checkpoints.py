"""A running service chains its log, signs checkpoints, publishes them outside its database,
and serves them to auditors only."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from heze_common.auth import TokenIssuer
from heze_common.ledger import ChainTable, Checkpoint, verify
from heze_common.runtime import create_app
from heze_common.testing import Tokens, eventually, read_topic, running
from heze_contracts.enums import Role
from heze_enrollment.main import definition
from heze_enrollment.settings import EnrollmentSettings


async def test_checkpoints_are_signed_published_and_verify_the_log(
    checkpointing_enrollment: EnrollmentSettings,
) -> None:
    settings = checkpointing_enrollment
    tokens = Tokens(TokenIssuer(settings))
    app = create_app(definition(settings))
    async with running(app) as client:

        async def checkpointed() -> bool:
            response = await client.get("/audit/checkpoints", headers=tokens(Role.AUDITOR))
            return bool(response.json()["checkpoints"])

        await eventually(checkpointed)
        published = (await client.get("/audit/checkpoints", headers=tokens(Role.AUDITOR))).json()
        assert (
            await client.get("/audit/checkpoints", headers=tokens(Role.CITY_BUREAU))
        ).status_code == 403
        application = app.state.application
        public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(published["public_key"]))
        checkpoints = [Checkpoint(**item) for item in published["checkpoints"]]
        assert checkpoints[-1].position == application.log_head()
        assert (
            verify(application.recorder, ChainTable(application.recorder), checkpoints, public_key)
            == []
        )

    on_kafka = [
        json.loads(r.value)
        for r in await read_topic(
            settings.kafka_bootstrap_servers or "",
            settings.kafka_topic_prefix + "audit.checkpoints",
        )
    ]
    assert on_kafka and on_kafka[0]["service"] == "enrollment"
    assert Checkpoint(**on_kafka[0]).is_signed_by(public_key)
