"""The deadline watcher: looks for breached deadlines and records each once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from heze_certification.application import CertificationApplication
from heze_certification.views import CaseFinder
from heze_common import clock

log = structlog.get_logger(__name__)


def record_overdue(app: CertificationApplication, cases: CaseFinder) -> int:
    """One round: the breaches of the cases the views find overdue and not yet recorded."""
    return app.record_breaches(cases.overdue_unrecorded(clock.today()))


def deadline_watcher(app: CertificationApplication) -> Callable[[], Awaitable[None]]:
    cases = CaseFinder(app)

    async def watch() -> None:
        while True:
            # A round first waits: the service creates the views' tables as it starts, after
            # starting its jobs.
            await asyncio.sleep(app.settings.deadline_watch_seconds)
            try:
                breaches = await asyncio.to_thread(record_overdue, app, cases)
                if breaches:
                    log.info("deadline breaches recorded", count=breaches)
            except Exception:
                log.exception("deadline watch failed; trying again next round")

    return watch
