"""Statutory retirement age, with the gradual reform in force since 1 January 2025.

Men 60 -> 63 and women of the 55 group 55 -> 58: one month added per 4 months of birth cohort
(from births in January 1965 and January 1970). Women of the 50 group 50 -> 55: one month per
2 months (from births in January 1975). Before 2025 the old ages apply.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date

from heze_contracts.enums import RetirementGroup, Sex

REFORM_START = date(2025, 1, 1)


@dataclass(frozen=True)
class RetirementRule:
    base_age_years: int
    first_affected_birth: date
    months_per_step: int
    max_added_months: int


MEN = RetirementRule(60, date(1965, 1, 1), 4, 36)
WOMEN_55 = RetirementRule(55, date(1970, 1, 1), 4, 36)
WOMEN_50 = RetirementRule(50, date(1975, 1, 1), 2, 60)


def rule_for(sex: Sex, group: RetirementGroup | None) -> RetirementRule:
    if sex is Sex.MALE:
        return MEN
    return WOMEN_55 if group is RetirementGroup.FEMALE_55 else WOMEN_50


def added_months(rule: RetirementRule, birth_date: date) -> int:
    cohort = (birth_date.year - rule.first_affected_birth.year) * 12 + (
        birth_date.month - rule.first_affected_birth.month
    )
    if cohort < 0:
        return 0
    return min(cohort // rule.months_per_step + 1, rule.max_added_months)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def retirement_date(birth_date: date, sex: Sex, group: RetirementGroup | None, on: date) -> date:
    """The day the person reaches statutory retirement age, under the rules in force `on`."""
    rule = rule_for(sex, group)
    extra = added_months(rule, birth_date) if on >= REFORM_START else 0
    return _add_months(birth_date, rule.base_age_years * 12 + extra)


def is_past_retirement_age(
    birth_date: date, sex: Sex, group: RetirementGroup | None, on: date
) -> bool:
    return on >= retirement_date(birth_date, sex, group, on)
