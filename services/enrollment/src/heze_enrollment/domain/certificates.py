"""Training certificates (培训合格证书): numbered `HZPX<year>-<occupation digits>-<serial>`,
e.g. HZPX2026-2021011-000042, the serial counted per year from 1 and never reused (it comes from
the service's serial numbers, `heze_common.serials`; a number drawn but not issued is a gap)."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_common.events import Aggregate, AggregateCreated

PREFIX = "HZPX"
REGISTER_NAMESPACE = UUID("0a9b8c7d-6e5f-5a4b-8c3d-2e1f0a9b8c7d")


def training_certificate_number(year: int, occupation_code: str, serial: int) -> str:
    if serial < 1:
        raise ValueError(f"a certificate serial counts from 1, got {serial}")
    return f"{PREFIX}{year}-{occupation_code.replace('-', '')}-{serial:06d}"


class TrainingCertificateRegister(Aggregate):
    """Retired: the year's register, one event per certificate, which handed out the serials
    until a database sequence per year replaced it (its cost grew with the year). Kept so that
    stored history still reads, and so that a year's sequence starts after its last number."""

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
