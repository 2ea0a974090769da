"""The retention sweep: erases the registrants whose retention period ended, and finishes any
erasure whose key outlived it (a crash between recording an erasure and deleting the key)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from uuid import UUID

import structlog
from eventsourcing.persistence import IntegrityError

from heze_common import clock
from heze_common.person_keys import PostgresPersonKeys
from heze_common.views import CaughtUpViews
from heze_enrollment.application import EnrollmentApplication
from heze_enrollment.views import VIEWS

log = structlog.get_logger(__name__)
BATCH = 500


class RetentionFinder:
    """The registrants the views find past retention, and the erased people whose key remains
    (heze_common.views.CaughtUpViews)."""

    def __init__(self, app: EnrollmentApplication) -> None:
        self.app = app
        self.views = CaughtUpViews(app, VIEWS)

    def _ids(self, query: str, params: tuple[object, ...]) -> list[UUID]:
        return self.views.ids(query, params)

    def past_retention(self) -> list[UUID]:
        today = clock.today()
        last_kept = today - timedelta(days=self.app.retention_rule().days_on(today))
        return self._ids(
            "SELECT trainee_id FROM {schema}.retention"
            " WHERE open_enrolments = 0 AND last_activity_on < %s"
            " ORDER BY last_activity_on LIMIT %s",
            (last_kept, BATCH),
        )

    def erased_with_keys(self) -> list[UUID]:
        """The people whose erasure is recorded and whose key has no tombstone yet."""
        keys = self.app.personal_data.keys
        assert isinstance(keys, PostgresPersonKeys), "the views live in PostgreSQL"
        return self._ids(
            f"SELECT e.trainee_id FROM {{schema}}.erasures e LEFT JOIN {keys.qualified_table()} k"
            " ON k.person_id = e.trainee_id WHERE k.erased_at IS NULL LIMIT %s",
            (BATCH,),
        )


def sweep(app: EnrollmentApplication, finder: RetentionFinder) -> int:
    """One round; the number of people erased by it. A person another replica (or a request)
    changed meanwhile is left to the next round."""
    for trainee_id in finder.erased_with_keys():
        app.forget(trainee_id)
    erased = 0
    for trainee_id in finder.past_retention():
        try:
            erased += app.erase_for_retention(trainee_id)
        except IntegrityError:
            log.info("registrant changed during the retention sweep", trainee_id=str(trainee_id))
    return erased


def retention_sweeper(app: EnrollmentApplication) -> Callable[[], Awaitable[None]]:
    finder = RetentionFinder(app)

    async def run() -> None:
        while True:
            await asyncio.sleep(app.settings.retention_sweep_seconds)  # type: ignore[attr-defined]
            try:
                erased = await asyncio.to_thread(sweep, app, finder)
                if erased:
                    log.info("registrants erased at the end of retention", count=erased)
            except Exception:
                log.exception("retention sweep failed; trying again next round")

    return run
