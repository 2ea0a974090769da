"""A relay in a process of its own, so a test can kill it with SIGKILL mid-batch.

Usage: python -m tests.foundation.relay_process TOPIC BATCH_SIZE (DATABASE_URL etc. from env).
"""

from __future__ import annotations

import asyncio
import logging
import sys

from faststream.kafka import KafkaBroker

from heze_common.eventstore import ServiceApplication
from heze_common.outbox import OutboxRelay
from heze_common.settings import ServiceSettings
from tests.foundation.sample import LEARNER_MAPPER


async def main(topic: str, batch_size: int) -> None:
    settings = ServiceSettings(service_name="learners")
    app = ServiceApplication(settings)
    broker = KafkaBroker(settings.kafka_bootstrap_servers, log_level=logging.DEBUG)
    await broker.connect()
    await OutboxRelay(
        app, LEARNER_MAPPER, broker, topic, batch_size=batch_size, idle_seconds=0.01
    ).run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
