"""Professional technical level certificates are numbered `HZSZ<year>-<occupation digits>-<level>-<serial>`,
e.g. HZSZ2026-2020713-J-000001 (level J/I/S = junior/intermediate/senior); the serial counts
from 1 each year and is never reused (it comes from the service's serial numbers,
`heze_common.serials`; a number drawn but not issued is a gap)."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import Level

PREFIX = "HZSZ"
NAMESPACE = UUID("1b2c3d4e-5f6a-5b7c-8d9e-0f1a2b3c4d5e")
LEVEL_LETTER = {Level.JUNIOR: "J", Level.INTERMEDIATE: "I", Level.SENIOR: "S"}


def certificate_number(year: int, occupation_code: str, level: Level, serial: int) -> str:
    if serial < 1:
        raise ValueError(f"a certificate serial counts from 1, got {serial}")
    return f"{PREFIX}{year}-{occupation_code.replace('-', '')}-{LEVEL_LETTER[level]}-{serial:06d}"


class CertificateRegister(Aggregate):
    """Retired: the year's register, one event per certificate, which handed out the serials
    until a database sequence per year replaced it (its cost grew with the year). Kept so that
    stored history still reads, and so that a year's sequence starts after its last number."""

    TOPIC = "certification.CertificateRegister"

    class Opened(AggregateCreated):
        TOPIC = "certification.CertificateRegister.Opened.v1"
        year: int

    class NumberIssued(Aggregate.Event):
        TOPIC = "certification.CertificateRegister.NumberIssued.v1"
        number: str
        case_id: UUID

        def apply(self, register: CertificateRegister) -> None:
            register.issued += 1

    @staticmethod
    def create_id(year: int) -> UUID:
        return uuid5(NAMESPACE, str(year))

    @event(Opened)
    def __init__(self, year: int) -> None:
        self.year = year
        self.issued = 0
