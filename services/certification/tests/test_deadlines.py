"""The deadline engine on real dates."""

from __future__ import annotations

from datetime import date

import pytest

from heze_certification.domain.deadlines import (
    Due,
    YearCalendar,
    add_working_days,
    due_date,
    is_working_day,
)
from heze_contracts.enums import CertificateStage

CONFIRMATION, REPORT, ISSUANCE = (
    CertificateStage.PROVINCE_CONFIRMATION,
    CertificateStage.REPORT_TO_PROVINCE,
    CertificateStage.ISSUANCE,
)


def test_a_report_on_24_september_2026_is_due_for_confirmation_on_15_october() -> None:
    # Mid-Autumn (25 Sep) and National Day (1-7 Oct) are skipped; the 10 October make-up day counts.
    assert due_date(CONFIRMATION, date(2026, 9, 24), {}) == Due(
        date(2026, 10, 15), provisional=False
    )


def test_across_the_2026_spring_festival_the_make_up_saturdays_count() -> None:
    # Working days after 11 Feb: 12, 13, 14 (Sat, make-up), 24, 25, 26, 27, 28 (Sat, make-up), 2 Mar, 3 Mar.
    assert due_date(CONFIRMATION, date(2026, 2, 11), {}) == Due(date(2026, 3, 3), provisional=False)


@pytest.mark.parametrize(
    ("stage", "start", "due"),
    [
        (
            REPORT,
            date(2026, 1, 15),
            date(2026, 2, 14),
        ),  # across a month end (a Saturday: calendar days)
        (REPORT, date(2026, 12, 20), date(2027, 1, 19)),  # across a year end
        (ISSUANCE, date(2027, 2, 15), date(2027, 3, 17)),  # February of a common year
        (ISSUANCE, date(2028, 2, 15), date(2028, 3, 16)),  # February of a leap year
        (REPORT, date(2028, 1, 31), date(2028, 3, 1)),
    ],
)
def test_30_calendar_day_deadlines(stage: CertificateStage, start: date, due: date) -> None:
    assert due_date(stage, start, {}) == Due(due, provisional=False)


def test_national_review_has_no_deadline_in_the_plan() -> None:
    assert due_date(CertificateStage.NATIONAL_REVIEW, date(2026, 5, 1), {}) is None


def test_a_2027_deadline_is_provisional_until_the_2027_calendar_is_loaded() -> None:
    guessed = due_date(CONFIRMATION, date(2026, 12, 28), {})
    # 29, 30, 31 Dec 2026 are known working days; 2027 is counted on weekdays: 1, 4, 5, 6, 7, 8, 11.
    assert guessed == Due(date(2027, 1, 11), provisional=True)
    calendar_2027 = YearCalendar(
        holidays=frozenset({date(2027, 1, 1), date(2027, 1, 4)}),
        makeup_workdays=frozenset({date(2027, 1, 9)}),
    )
    # With the calendar: 1 and 4 Jan are holidays, Saturday 9 Jan is a make-up day: 5, 6, 7, 8, 9, 11, 12.
    assert due_date(CONFIRMATION, date(2026, 12, 28), {2027: calendar_2027}) == Due(
        date(2027, 1, 12), provisional=False
    )


def test_a_loaded_calendar_takes_precedence_over_the_package() -> None:
    national_day = date(2026, 10, 1)
    assert is_working_day(national_day, {}) == (False, False)
    corrected = YearCalendar(holidays=frozenset(), makeup_workdays=frozenset())
    assert is_working_day(national_day, {2026: corrected}) == (True, False)


def test_zero_working_days_is_the_start_itself() -> None:
    assert add_working_days(date(2026, 5, 6), 0, {}) == Due(date(2026, 5, 6), provisional=False)
