"""The ledger keeper of a service: signs a checkpoint of the hash chain's head (the recorder
chains every event in the transaction that writes it), published to `audit.checkpoints` and kept
for the service's API."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from faststream.kafka import KafkaBroker

from heze_common import clock
from heze_common.broker import read_all
from heze_common.cancellation import stop_if_cancelled
from heze_common.eventstore import ServiceApplication
from heze_common.ledger import ChainTable, Checkpoint, sign
from heze_contracts.topics import AUDIT_CHECKPOINTS

log = structlog.get_logger(__name__)


def signing_key(app: ServiceApplication) -> Ed25519PrivateKey:
    raw = app.settings.resolved_audit_signing_key()
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw))


def public_key_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


async def published_checkpoints(
    kafka: str, topic: str, service: str, **client_options: Any
) -> list[Checkpoint]:
    """Every checkpoint ever published for `service` on the checkpoints topic (read from its
    start; `client_options` as `aiokafka_options` gives them, for a secured broker)."""
    checkpoints = []
    for record in await read_all(kafka, topic, **client_options):
        try:
            checkpoint = Checkpoint.from_json(record.value)
        except (ValueError, TypeError):
            continue  # not a checkpoint at all; a forged one fails its signature in `verify`
        if checkpoint.service == service:
            checkpoints.append(checkpoint)
    return checkpoints


class LedgerKeeper:
    def __init__(self, app: ServiceApplication, broker: KafkaBroker, topic_prefix: str = ""):
        self.app = app
        self.broker = broker
        self.topic = topic_prefix + AUDIT_CHECKPOINTS
        self.key = signing_key(app)
        self.table = ChainTable(app.recorder, create_table=app.settings.create_tables)
        self.checkpoints: list[Checkpoint] = []

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    async def advance(self) -> Checkpoint | None:
        """Sign and publish a checkpoint when the chain's head moved. The head is only read:
        chaining rows someone wrote past it would vouch for them."""
        position, head = await asyncio.to_thread(self.table.head)
        if position == 0 or (self.checkpoints and self.checkpoints[-1].position == position):
            return None
        checkpoint = sign(self.key, self.app.name, position, head, clock.now())
        await self.broker.publish(checkpoint.to_json(), self.topic, key=self.app.name.encode())
        self.checkpoints.append(checkpoint)
        return checkpoint


def ledger_keeper(keeper: LedgerKeeper, every_seconds: float) -> Callable[[], Awaitable[None]]:
    async def keep() -> None:
        while True:
            try:
                await keeper.advance()
            except Exception:
                stop_if_cancelled()
                log.exception("ledger keeping failed; trying again next round")
            await asyncio.sleep(every_seconds)

    return keep
