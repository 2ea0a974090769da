"""The deadline watcher: looks for breached deadlines and records each once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from heze_certification.application import CertificationApplication

log = structlog.get_logger(__name__)


def deadline_watcher(app: CertificationApplication) -> Callable[[], Awaitable[None]]:
    async def watch() -> None:
        while True:
            try:
                breaches = await asyncio.to_thread(app.detect_breaches)
                if breaches:
                    log.info("deadline breaches recorded", count=breaches)
            except Exception:
                log.exception("deadline watch failed; trying again next round")
            await asyncio.sleep(app.settings.deadline_watch_seconds)

    return watch
