"""Training certificates (培训合格证书): numbered `HZPX<year>-<occupation digits>-<serial>`,
e.g. HZPX2026-2021011-000042, serial counted per year from 1 and never reused."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_common.events import Aggregate, AggregateCreated

REGISTER_NAMESPACE = UUID("0a9b8c7d-6e5f-5a4b-8c3d-2e1f0a9b8c7d")


class TrainingCertificateRegister(Aggregate):
    """The year's register of issued training certificates; it hands out serial numbers."""

    TOPIC = "enrollment.TrainingCertificateRegister"

    class Opened(AggregateCreated):
        TOPIC = "enrollment.TrainingCertificateRegister.Opened.v1"
        year: int

    class NumberIssued(Aggregate.Event):
        TOPIC = "enrollment.TrainingCertificateRegister.NumberIssued.v1"
        number: str
        trainee_id: UUID
        programme_id: UUID

        def apply(self, register: TrainingCertificateRegister) -> None:
            register.issued += 1

    @staticmethod
    def create_id(year: int) -> UUID:
        return uuid5(REGISTER_NAMESPACE, str(year))

    @event(Opened)
    def __init__(self, year: int) -> None:
        self.year = year
        self.issued = 0

    def issue(self, occupation_code: str, trainee_id: UUID, programme_id: UUID) -> str:
        number = f"HZPX{self.year}-{occupation_code.replace('-', '')}-{self.issued + 1:06d}"
        self.trigger_event(
            self.NumberIssued, number=number, trainee_id=trainee_id, programme_id=programme_id
        )
        return number
