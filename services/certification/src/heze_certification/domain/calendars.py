"""Holiday calendars the province loads for years the `chinesecalendar` package does not cover."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_certification.domain.deadlines import YearCalendar
from heze_common.errors import InvalidInput
from heze_common.events import Aggregate, AggregateCreated

CALENDARS_ID = uuid5(UUID("4f5e6d7c-8b9a-5f0e-9d1c-2b3a4f5e6d7c"), "holiday-calendars")


class HolidayCalendars(Aggregate):
    TOPIC = "certification.HolidayCalendars"

    class Started(AggregateCreated):
        TOPIC = "certification.HolidayCalendars.Started.v1"

    class YearLoaded(Aggregate.Event):
        TOPIC = "certification.HolidayCalendars.YearLoaded.v1"
        year: int
        holidays: list[date]
        makeup_workdays: list[date]

        def apply(self, calendars: HolidayCalendars) -> None:
            calendars.years[self.year] = YearCalendar(
                frozenset(self.holidays), frozenset(self.makeup_workdays)
            )

    @staticmethod
    def create_id() -> UUID:
        return CALENDARS_ID

    @event(Started)
    def __init__(self) -> None:
        self.years: dict[int, YearCalendar] = {}

    def load(self, year: int, holidays: list[date], makeup_workdays: list[date]) -> None:
        for field, days in (("holidays", holidays), ("makeup_workdays", makeup_workdays)):
            strays = [day for day in days if day.year != year]
            if strays:
                raise InvalidInput(
                    "date_outside_year", f"{strays[0]} is not in {year}", field=field
                )
        if set(holidays) & set(makeup_workdays):
            raise InvalidInput(
                "conflicting_days",
                "a day cannot be both a holiday and a make-up working day",
                field="makeup_workdays",
            )
        self.trigger_event(
            self.YearLoaded,
            year=year,
            holidays=sorted(set(holidays)),
            makeup_workdays=sorted(set(makeup_workdays)),
        )
