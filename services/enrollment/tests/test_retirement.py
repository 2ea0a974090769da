"""Statutory retirement age at the boundaries of the 2025 reform."""

from datetime import date

import pytest

from heze_contracts.enums import RetirementGroup, Sex
from heze_enrollment.domain.retirement import is_past_retirement_age, retirement_date

MAN, WOMAN = Sex.MALE, Sex.FEMALE
G50, G55 = RetirementGroup.FEMALE_50, RetirementGroup.FEMALE_55


@pytest.mark.parametrize(
    ("birth", "sex", "group", "retires_on"),
    [
        (date(1964, 12, 15), MAN, None, date(2024, 12, 15)),  # before the reform's cohorts: 60
        (date(1965, 1, 10), MAN, None, date(2025, 2, 10)),  # first cohort: 60 + 1 month
        (date(1965, 4, 30), MAN, None, date(2025, 5, 30)),  # same 4-month cohort
        (date(1965, 5, 1), MAN, None, date(2025, 7, 1)),  # next cohort: + 2 months
        (date(1966, 5, 20), MAN, None, date(2026, 10, 20)),  # + 5 months
        (date(1976, 9, 1), MAN, None, date(2039, 9, 1)),  # capped at 63
        (date(1980, 1, 1), MAN, None, date(2043, 1, 1)),
        (date(1969, 12, 31), WOMAN, G55, date(2024, 12, 31)),  # 55 group, before its cohorts
        (date(1970, 1, 1), WOMAN, G55, date(2025, 2, 1)),  # 55 + 1 month
        (date(1981, 9, 1), WOMAN, G55, date(2039, 9, 1)),  # capped at 58
        (date(1974, 12, 1), WOMAN, G50, date(2024, 12, 1)),  # 50 group, before its cohorts
        (date(1975, 1, 1), WOMAN, G50, date(2025, 2, 1)),  # 50 + 1 month
        (date(1975, 3, 1), WOMAN, G50, date(2025, 5, 1)),  # 2-month cohorts: + 2 months
        (date(1984, 11, 1), WOMAN, G50, date(2039, 11, 1)),  # capped at 55
    ],
)
def test_retirement_dates_under_the_reform(
    birth: date, sex: Sex, group: RetirementGroup | None, retires_on: date
) -> None:
    assert retirement_date(birth, sex, group, on=date(2026, 1, 1)) == retires_on


def test_a_man_born_1965_01_is_retired_in_2026_but_one_born_1966_05_is_not() -> None:
    registration = date(2026, 3, 1)
    assert is_past_retirement_age(date(1965, 1, 15), MAN, None, registration)
    assert not is_past_retirement_age(date(1966, 5, 15), MAN, None, registration)
    assert is_past_retirement_age(date(1966, 5, 15), MAN, None, date(2026, 10, 15))


def test_the_day_before_and_the_day_of_retirement() -> None:
    birth = date(1966, 5, 20)
    assert not is_past_retirement_age(birth, MAN, None, date(2026, 10, 19))
    assert is_past_retirement_age(birth, MAN, None, date(2026, 10, 20))


def test_women_of_the_two_groups_differ() -> None:
    birth, on = date(1975, 6, 1), date(2026, 1, 1)
    assert is_past_retirement_age(birth, WOMAN, G50, on)  # 50 + 3 months: retired in 2025-09
    assert not is_past_retirement_age(birth, WOMAN, G55, on)  # 55 group: retires in 2030


def test_before_2025_the_old_ages_apply() -> None:
    assert retirement_date(date(1965, 1, 10), MAN, None, on=date(2024, 6, 1)) == date(2025, 1, 10)
