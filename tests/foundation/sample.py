"""A small sample service used to exercise the shared plumbing with real infrastructure.

`Learner` plays an upstream producer (some of its events are public, some private);
`Tally` plays a downstream consumer that counts what it was told about each learner.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_common.events import Aggregate, AggregateCreated
from heze_common.eventstore import ServiceApplication
from heze_common.outbox import IntegrationMapper, Publication
from heze_contracts.enrollment import (
    TraineeRegisteredV1,
    TraineeRegisteredV1Payload,
    TraineeWithdrawn,
    TraineeWithdrawnPayload,
)
from heze_contracts.enums import Education, Level, ParticipantCategory, Producer, Sex

PROGRAMME_ID = UUID("00000000-0000-4000-8000-000000000001")
INSTITUTION_ID = UUID("00000000-0000-4000-8000-000000000002")


class Learner(Aggregate):
    TOPIC = "sample.Learner"

    class Registered(AggregateCreated):
        TOPIC = "sample.Learner.Registered.v1"
        name: str
        id_number: str

    class Noted(Aggregate.Event):
        TOPIC = "sample.Learner.Noted.v1"
        note: str

        def apply(self, learner: Learner) -> None:
            learner.notes += 1

    class Withdrawn(Aggregate.Event):
        TOPIC = "sample.Learner.Withdrawn.v1"
        reason: str

        def apply(self, learner: Learner) -> None:
            learner.withdrawn = True

    @event(Registered)
    def __init__(self, name: str, id_number: str) -> None:
        self.name = name
        self.id_number = id_number
        self.notes = 0
        self.withdrawn = False

    def note(self, note: str) -> None:
        self.trigger_event(self.Noted, note=note)

    def withdraw(self, reason: str) -> None:
        self.trigger_event(self.Withdrawn, reason=reason)


def _registered(event: Learner.Registered) -> Publication:
    return Publication(
        TraineeRegisteredV1,
        TraineeRegisteredV1Payload(
            trainee_id=event.originator_id,
            name=event.name,
            id_number=event.id_number,
            sex=Sex.MALE,
            birth_date=date(1990, 1, 1),
            phone="13800000000",
            education=Education.BACHELOR,
            major="计算机科学与技术",
            employer=None,
            county="牡丹区",
            participant_category=ParticipantCategory.DIGITAL_WORKER,
            registered_on=event.timestamp.date(),
            registered_by_institution_id=None,
            retirement_group=None,
        ),
    )


def _withdrawn(event: Learner.Withdrawn) -> Publication:
    return Publication(
        TraineeWithdrawn,
        TraineeWithdrawnPayload(
            trainee_id=event.originator_id,
            programme_id=PROGRAMME_ID,
            institution_id=INSTITUTION_ID,
            occupation_code="2-02-10-11",
            level=Level.JUNIOR,
            reason=event.reason,
            withdrawn_on=event.timestamp.date(),
        ),
    )


LEARNER_MAPPER = IntegrationMapper(
    Producer.ENROLLMENT, {Learner.Registered: _registered, Learner.Withdrawn: _withdrawn}
)


class Tally(Aggregate):
    """What the downstream sample service learnt about one learner."""

    TOPIC = "sample.Tally"

    class Opened(AggregateCreated):
        TOPIC = "sample.Tally.Opened.v1"
        trainee_id: UUID
        name: str

    class WithdrawalCounted(Aggregate.Event):
        TOPIC = "sample.Tally.WithdrawalCounted.v1"
        reason: str

        def apply(self, tally: Tally) -> None:
            tally.withdrawals.append(self.reason)

    @staticmethod
    def create_id(trainee_id: UUID) -> UUID:
        return uuid5(UUID("00000000-0000-4000-8000-0000000000aa"), str(trainee_id))

    @event(Opened)
    def __init__(self, trainee_id: UUID, name: str) -> None:
        self.trainee_id = trainee_id
        self.name = name
        self.withdrawals: list[str] = []

    def count_withdrawal(self, reason: str) -> None:
        self.trigger_event(self.WithdrawalCounted, reason=reason)


class TallyApplication(ServiceApplication):
    def on_registered(self, event: TraineeRegisteredV1) -> Iterable[Tally]:
        return [Tally(trainee_id=event.payload.trainee_id, name=event.payload.name)]

    handler_bug_fixed = False
    """Tests flip this to re-drive a dead-lettered message after "fixing" the handler."""

    def on_withdrawn(self, event: TraineeWithdrawn) -> Iterable[Tally]:
        if event.payload.reason == "always fails" and not self.handler_bug_fixed:
            raise RuntimeError("this handler cannot process this message")
        tally: Tally = self.repository.get(Tally.create_id(event.payload.trainee_id))
        tally.count_withdrawal(event.payload.reason)
        return [tally]

    def handlers(self) -> dict[type, object]:
        return {TraineeRegisteredV1: self.on_registered, TraineeWithdrawn: self.on_withdrawn}
