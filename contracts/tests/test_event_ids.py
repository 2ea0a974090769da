"""Event ids are derived from the domain event, so a re-publish carries the same id."""

from uuid import UUID

from heze_contracts import derive_event_id
from heze_contracts.enums import Producer

ORIGIN = UUID("7d9b2f4e-1c3a-4e5b-9f60-0a1b2c3d4e5f")


def test_same_domain_event_gives_the_same_id():
    first = derive_event_id(Producer.ENROLLMENT, ORIGIN, 4, "TraineeEnrolled")
    assert first == derive_event_id(Producer.ENROLLMENT, ORIGIN, 4, "TraineeEnrolled")
    assert first.version == 5


def test_id_differs_by_version_type_producer_and_aggregate():
    base = derive_event_id(Producer.ENROLLMENT, ORIGIN, 4, "TraineeEnrolled")
    others = {
        derive_event_id(Producer.ENROLLMENT, ORIGIN, 5, "TraineeEnrolled"),
        derive_event_id(Producer.ENROLLMENT, ORIGIN, 4, "TrainingCompleted"),
        derive_event_id(Producer.ASSESSMENT, ORIGIN, 4, "TraineeEnrolled"),
        derive_event_id(Producer.ENROLLMENT, UUID(int=ORIGIN.int + 1), 4, "TraineeEnrolled"),
    }
    assert len(others) == 4 and base not in others


def test_republishing_builds_an_identical_message(build, sample):
    assert build(type(sample)).to_bytes() == sample.to_bytes()
