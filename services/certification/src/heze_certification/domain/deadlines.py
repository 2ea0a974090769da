"""The deadline engine: every due date from the stage, the start date and the holiday calendar.

Working days are Chinese working days: weekdays that are not public holidays, plus make-up
working days (调休). Calendar data: a calendar the province loaded for that year, else the
`chinesecalendar` package (2004-2026); a year neither covers is counted on plain weekdays and
the result is marked provisional, to be recomputed when that year's calendar arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

import chinese_calendar

from heze_contracts.enums import CertificateStage

PACKAGE_YEARS = range(2004, 2027)


@dataclass(frozen=True)
class YearCalendar:
    holidays: frozenset[date]
    makeup_workdays: frozenset[date]


class Unit(Enum):
    CALENDAR_DAYS = "calendar days"
    WORKING_DAYS = "working days"


@dataclass(frozen=True)
class StageRule:
    days: int
    unit: Unit
    starts_from: str


STAGE_RULES: Mapping[CertificateStage, StageRule] = {
    CertificateStage.REPORT_TO_PROVINCE: StageRule(
        30, Unit.CALENDAR_DAYS, "the end of the assessment (or a return)"
    ),
    CertificateStage.PROVINCE_CONFIRMATION: StageRule(
        10, Unit.WORKING_DAYS, "the report to the province"
    ),
    CertificateStage.ISSUANCE: StageRule(30, Unit.CALENDAR_DAYS, "national approval"),
}
"""The plan sets no deadline for the national office's review."""


@dataclass(frozen=True)
class Due:
    on: date
    provisional: bool


def is_working_day(day: date, loaded: Mapping[int, YearCalendar]) -> tuple[bool, bool]:
    """(whether `day` is a working day, whether that answer is provisional)."""
    if (calendar := loaded.get(day.year)) is not None:
        if day in calendar.makeup_workdays:
            return True, False
        return day.weekday() < 5 and day not in calendar.holidays, False
    if day.year in PACKAGE_YEARS:
        return chinese_calendar.is_workday(day), False
    return day.weekday() < 5, True


def add_working_days(start: date, count: int, loaded: Mapping[int, YearCalendar]) -> Due:
    """The `count`-th working day after `start` (the start day itself is not counted)."""
    day, counted, provisional = start, 0, False
    while counted < count:
        day += timedelta(days=1)
        working, guessed = is_working_day(day, loaded)
        provisional = provisional or guessed
        counted += working
    return Due(day, provisional)


def due_date(
    stage: CertificateStage, start: date, loaded: Mapping[int, YearCalendar]
) -> Due | None:
    rule = STAGE_RULES.get(stage)
    if rule is None:
        return None
    if rule.unit is Unit.CALENDAR_DAYS:
        return Due(start + timedelta(days=rule.days), False)
    return add_working_days(start, rule.days, loaded)
