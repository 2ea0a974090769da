"""Programmes (enrolment notices, 招生简章): one occupation and level, a capacity, dates, and the
hours a trainee must complete. The programme holds its seats, so capacity cannot be exceeded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import event

from heze_common.errors import InvalidInput, Refusal
from heze_common.events import Aggregate, AggregateCreated
from heze_common.snapshots import AggregateSnapshot, SnapshotState
from heze_contracts.enums import Field, HourKind, Level
from heze_enrollment.domain.occupations import HourRequirement


class ProgrammeState(SnapshotState):
    """A programme's attributes in its snapshot, one field each."""

    institution_id: UUID
    occupation_code: str
    field: Field
    level: Level
    title: str
    capacity: int
    starts_on: date
    ends_on: date
    required_hours: dict[HourKind, Decimal]
    completion_pass_mark: Decimal
    subsidised_plan: bool
    in_city_training_directory: bool
    closed: bool
    seats: set[UUID]


class Programme(Aggregate):
    """Its history grows by an event per seat taken or released, and it is loaded for every
    enrolment and every logged session: its application snapshots it."""

    TOPIC = "enrollment.Programme"

    class Snapshot(AggregateSnapshot):
        TOPIC = "enrollment.Programme.Snapshot.v1"
        state: ProgrammeState

    class Published(AggregateCreated):
        TOPIC = "enrollment.Programme.Published.v1"
        institution_id: UUID
        occupation_code: str
        field: Field
        level: Level
        title: str
        capacity: int
        starts_on: date
        ends_on: date
        required_hours: dict[HourKind, Decimal]
        completion_pass_mark: Decimal
        subsidised_plan: bool
        in_city_training_directory: bool

    class EnrolmentClosed(Aggregate.Event):
        TOPIC = "enrollment.Programme.EnrolmentClosed.v1"
        institution_id: UUID

        def apply(self, programme: Programme) -> None:
            programme.closed = True

    class CityPlanChanged(Aggregate.Event):
        TOPIC = "enrollment.Programme.CityPlanChanged.v1"
        subsidised_plan: bool
        in_city_training_directory: bool

        def apply(self, programme: Programme) -> None:
            programme.subsidised_plan = self.subsidised_plan
            programme.in_city_training_directory = self.in_city_training_directory

    class SeatTaken(Aggregate.Event):
        TOPIC = "enrollment.Programme.SeatTaken.v1"
        trainee_id: UUID

        def apply(self, programme: Programme) -> None:
            programme.seats.add(self.trainee_id)

    class SeatReleased(Aggregate.Event):
        TOPIC = "enrollment.Programme.SeatReleased.v1"
        trainee_id: UUID

        def apply(self, programme: Programme) -> None:
            programme.seats.discard(self.trainee_id)

    @event(Published)
    def __init__(
        self,
        institution_id: UUID,
        occupation_code: str,
        field: Field,
        level: Level,
        title: str,
        capacity: int,
        starts_on: date,
        ends_on: date,
        required_hours: dict[HourKind, Decimal],
        completion_pass_mark: Decimal,
        subsidised_plan: bool,
        in_city_training_directory: bool,
    ) -> None:
        self.institution_id = institution_id
        self.occupation_code = occupation_code
        self.field = field
        self.level = level
        self.title = title
        self.capacity = capacity
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.required_hours = dict(required_hours)
        self.completion_pass_mark = completion_pass_mark
        self.subsidised_plan = subsidised_plan
        self.in_city_training_directory = in_city_training_directory
        self.closed = False
        self.seats: set[UUID] = set()

    @classmethod
    def publish(
        cls,
        *,
        institution_id: UUID,
        occupation_code: str,
        field: Field,
        level: Level,
        title: str,
        capacity: int,
        starts_on: date,
        ends_on: date,
        required_hours: dict[HourKind, Decimal] | None,
        minimum: HourRequirement | None,
        completion_pass_mark: Decimal,
        subsidised_plan: bool,
        in_city_training_directory: bool,
    ) -> Programme:
        if ends_on < starts_on:
            raise InvalidInput(
                "invalid_dates", "the programme must not end before it starts", field="ends_on"
            )
        if capacity < 1:
            raise InvalidInput("invalid_capacity", "capacity must be at least 1", field="capacity")
        hours = required_hours or (minimum.hours if minimum else None)
        if not hours or set(hours) != set(HourKind):
            raise InvalidInput(
                "missing_required_hours",
                "give required theory and practice hours",
                field="required_hours",
            )
        if minimum:
            for kind, least in minimum.hours.items():
                if hours[kind] < least:
                    raise InvalidInput(
                        "below_required_hours",
                        f"{kind.value} hours {hours[kind]} are below the {least} the bureau requires"
                        f" (in force since {minimum.effective_from})",
                        field=f"required_hours.{kind.value}",
                    )
        return cls(
            institution_id=institution_id,
            occupation_code=occupation_code,
            field=field,
            level=level,
            title=title,
            capacity=capacity,
            starts_on=starts_on,
            ends_on=ends_on,
            required_hours=hours,
            completion_pass_mark=completion_pass_mark,
            subsidised_plan=subsidised_plan,
            in_city_training_directory=in_city_training_directory,
        )

    @property
    def is_full(self) -> bool:
        return len(self.seats) >= self.capacity

    def close_enrolment(self) -> None:
        if self.closed:
            raise Refusal("programme_closed", "enrolment is already closed")
        self.trigger_event(self.EnrolmentClosed, institution_id=self.institution_id)

    def change_city_plan(self, subsidised_plan: bool, in_city_training_directory: bool) -> None:
        self.trigger_event(
            self.CityPlanChanged,
            subsidised_plan=subsidised_plan,
            in_city_training_directory=in_city_training_directory,
        )

    def take_seat(self, trainee_id: UUID, today: date) -> None:
        if self.closed:
            raise Refusal(
                "programme_closed", f"enrolment in {self.title} is closed", field="programme_id"
            )
        if today > self.ends_on:
            raise Refusal(
                "programme_ended", f"{self.title} ended on {self.ends_on}", field="programme_id"
            )
        if trainee_id in self.seats:
            raise Refusal("already_enrolled", "the trainee already holds a seat in this programme")
        if self.is_full:
            raise Refusal(
                "programme_full",
                f"all {self.capacity} seats of {self.title} are taken",
                field="programme_id",
            )
        self.trigger_event(self.SeatTaken, trainee_id=trainee_id)

    def release_seat(self, trainee_id: UUID) -> None:
        if trainee_id in self.seats:
            self.trigger_event(self.SeatReleased, trainee_id=trainee_id)

    def ensure_within_dates(self, day: date) -> None:
        if not self.starts_on <= day <= self.ends_on:
            raise InvalidInput(
                "date_outside_programme",
                f"{day} is outside the programme ({self.starts_on} to {self.ends_on})",
                field="date",
            )
