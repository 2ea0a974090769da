"""Programmes are snapshotted every 50 events (a seat taken or released is one), so loading one
reads its snapshot and the events after it; what loads is what the whole history folds to."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from enrollment_builders import a_programme, a_trainee, institution_staff

from heze_common import clock
from heze_common.testing import service_settings
from heze_enrollment.application import EnrollmentApplication
from heze_enrollment.commands import Enrol, Withdraw
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import Institution
from heze_enrollment.domain.programme import Programme
from heze_enrollment.main import start
from heze_enrollment.settings import EnrollmentSettings

UPC = Institution.create_id("中国石油大学(华东)")
NOW = datetime(2026, 11, 27, 2, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


def folded(app: EnrollmentApplication, programme_id: UUID) -> Any:
    """The programme folded from every one of its events, no snapshot."""
    programme = None
    for event in app.events.get(programme_id):
        programme = event.mutate(programme)
    return programme


def test_a_programme_is_snapshotted_every_50_events_and_loads_as_its_history_folds(
    database_url: str,
) -> None:
    settings = service_settings(EnrollmentSettings, database_url=database_url)
    app = start(settings)
    programme = a_programme(capacity=60, institution_id=UPC)
    trainees = [
        a_trainee(
            ResidentId.compose("371702", date(1990, 1, 1), 2 * n + 1),
            account=None,
            registered_by_institution_id=UPC,
            person_consents=True,
        )
        for n in range(52)
    ]
    app.save(programme, *trainees)
    staff = institution_staff(UPC)
    for trainee in trainees:  # versions 2 to 53
        app.handle(Enrol(principal=staff, trainee_id=trainee.id, programme_id=programme.id))
    app.handle(  # 54
        Withdraw(
            principal=staff, trainee_id=trainees[0].id, programme_id=programme.id, reason="工作调动"
        )
    )
    app.close()

    restarted = start(settings)
    try:
        assert restarted.snapshots is not None
        snapshots = list(restarted.snapshots.get(programme.id))
        assert [s.originator_version for s in snapshots] == [50]
        loaded = restarted.programme(programme.id)
        assert vars(loaded) == vars(folded(restarted, programme.id))
        assert (loaded.version, len(loaded.seats)) == (54, 51)
        # The snapshot alone is the programme as it was at version 50.
        at_50 = snapshots[0].mutate(None)
        assert vars(at_50) == vars(restarted.repository.get(programme.id, version=50))
    finally:
        restarted.close()


def test_a_snapshot_holds_every_attribute_of_a_programme() -> None:
    """A new attribute missing from the snapshot's state fails here, not after a save."""
    programme = a_programme()
    programme.take_seat(a_trainee().id, date(2026, 11, 2))
    programme.close_enrolment()
    restored = Programme.Snapshot.take(programme).mutate(None)
    assert {**vars(restored), "_pending_events": []} == {**vars(programme), "_pending_events": []}


def test_a_snapshot_class_without_a_topic_of_its_own_is_refused() -> None:
    with pytest.raises(TypeError, match="needs a topic of its own"):

        class Untitled(Programme.Snapshot):
            pass
