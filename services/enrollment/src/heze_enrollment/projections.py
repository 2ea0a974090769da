"""Read models of the enrollment service: the directory, programmes with their rosters, and the
city's registration list per county (the talent information base)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from heze_common.projection import Projection
from heze_contracts.enums import Field, HourKind, Level
from heze_enrollment.domain.institution import Institution
from heze_enrollment.domain.programme import Programme
from heze_enrollment.domain.trainee import EnrolmentStatus, Trainee


class Directory(Projection):
    """Institution ids in accreditation order."""

    def __init__(self) -> None:
        self.institution_ids: list[UUID] = []

    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        return {
            Institution.Accredited: lambda event: self.institution_ids.append(event.originator_id)
        }


@dataclass
class RosterEntry:
    trainee_id: UUID
    name: str
    status: EnrolmentStatus
    enrolled_on: date
    hours_by_kind: dict[HourKind, Decimal] = field(
        default_factory=lambda: {kind: Decimal(0) for kind in HourKind}
    )
    exam_score: Decimal | None = None
    certificate_number: str | None = None


@dataclass
class ProgrammeSummary:
    programme_id: UUID
    institution_id: UUID
    occupation_code: str
    field: Field
    level: Level
    title: str
    capacity: int
    starts_on: date
    ends_on: date
    roster: dict[UUID, RosterEntry] = field(default_factory=dict)


class Programmes(Projection):
    """Every programme with its roster and each trainee's progress."""

    def __init__(self) -> None:
        self.by_id: dict[UUID, ProgrammeSummary] = {}
        self.names: dict[UUID, str] = {}

    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        return {
            Programme.Published: self._published,
            Trainee.Registered: lambda event: self.names.__setitem__(
                event.originator_id, event.name
            ),
            Trainee.Enrolled: self._enrolled,
            Trainee.Withdrew: lambda event: self._entry(event).__setattr__(
                "status", EnrolmentStatus.WITHDRAWN
            ),
            Trainee.SessionLogged: self._session,
            Trainee.ExamRecorded: lambda event: self._entry(event).__setattr__(
                "exam_score", event.score
            ),
            Trainee.Completed: self._completed,
        }

    def _published(self, event: Programme.Published) -> None:
        self.by_id[event.originator_id] = ProgrammeSummary(
            programme_id=event.originator_id,
            institution_id=event.institution_id,
            occupation_code=event.occupation_code,
            field=event.field,
            level=event.level,
            title=event.title,
            capacity=event.capacity,
            starts_on=event.starts_on,
            ends_on=event.ends_on,
        )

    def _enrolled(self, event: Trainee.Enrolled) -> None:
        self.by_id[event.programme_id].roster[event.originator_id] = RosterEntry(
            trainee_id=event.originator_id,
            name=self.names[event.originator_id],
            status=EnrolmentStatus.ENROLLED,
            enrolled_on=event.enrolled_on,
        )

    def _entry(self, event: Any) -> RosterEntry:
        return self.by_id[event.programme_id].roster[event.originator_id]

    def _session(self, event: Trainee.SessionLogged) -> None:
        self._entry(event).hours_by_kind[event.kind] += event.hours

    def _completed(self, event: Trainee.Completed) -> None:
        entry = self._entry(event)
        entry.status = EnrolmentStatus.COMPLETED
        entry.certificate_number = event.certificate_number


@dataclass(frozen=True)
class Registration:
    trainee_id: UUID
    name: str
    county: str
    registered_on: date
    participant_category: str
    education: str
    major: str
    employer: str | None


class Registrations(Projection):
    """The city's registration list, per county, in registration order."""

    def __init__(self) -> None:
        self.by_county: dict[str, list[Registration]] = {}

    def handlers(self) -> Mapping[type, Callable[[Any], None]]:
        return {Trainee.Registered: self._registered}

    def _registered(self, event: Trainee.Registered) -> None:
        self.by_county.setdefault(event.county, []).append(
            Registration(
                trainee_id=event.originator_id,
                name=event.name,
                county=event.county,
                registered_on=event.registered_on,
                participant_category=event.participant_category.value,
                education=event.education.value,
                major=event.major,
                employer=event.employer,
            )
        )
