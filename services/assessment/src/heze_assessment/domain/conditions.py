"""Application conditions of the national occupational standards, as data.

Each level has routes; an applicant qualifies by one route. The default rule set is the
智能制造 (intelligent manufacturing) standard's; the province can set others per occupation,
each with the date it takes effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from heze_contracts.enums import Education, Level


class Title(StrEnum):
    """Professional titles, lowest first."""

    TECHNICIAN = "technician"  # 技术员
    ASSISTANT_ENGINEER = "assistant_engineer"  # 助理工程师
    ENGINEER = "engineer"  # 工程师
    SENIOR_ENGINEER = "senior_engineer"  # 高级工程师


TITLE_RANK = {title: rank for rank, title in enumerate(Title)}
EDUCATION_RANK = {
    Education.BELOW_COLLEGE: 0,
    Education.COLLEGE: 1,
    Education.BACHELOR: 2,
    Education.SECOND_BACHELOR: 3,
    Education.MASTER: 4,
    Education.DOCTORATE: 5,
}


class Declaration(BaseModel):
    """What the applicant declares under the commitment system (告知承诺制)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    education: Education
    major_relevant: StrictBool
    graduating_student: StrictBool = False
    title: Title | None = None
    years_in_occupation: StrictInt = 0
    prior_levels: list[Level] = []


class Route(BaseModel):
    """One way to qualify; every condition it names must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title_at_least: Title | None = None
    education_at_least: Education | None = None
    relevant_major: StrictBool = False
    prior_level: Level | None = None
    years_at_least: StrictInt = 0
    graduating_students_exempt_from_years: StrictBool = False

    def unmet(self, declared: Declaration) -> list[str]:
        """The conditions of this route the declaration does not meet (empty: qualifies)."""
        missing = []
        if self.title_at_least and (
            declared.title is None or TITLE_RANK[declared.title] < TITLE_RANK[self.title_at_least]
        ):
            missing.append(f"title {self.title_at_least.value} or higher")
        if (
            self.education_at_least
            and EDUCATION_RANK[declared.education] < EDUCATION_RANK[self.education_at_least]
        ):
            missing.append(f"education {self.education_at_least.value} or higher")
        if self.relevant_major and not declared.major_relevant:
            missing.append("a relevant major")
        if self.prior_level and self.prior_level not in declared.prior_levels:
            missing.append(f"the {self.prior_level.value} level certificate")
        exempt = self.graduating_students_exempt_from_years and declared.graduating_student
        if declared.years_in_occupation < self.years_at_least and not exempt:
            missing.append(f"{self.years_at_least} year(s) in the occupation")
        return missing


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    routes: dict[Level, list[Route]]
    false_commitment_bar_months: int = Field(default=36, ge=0, le=120)
    """How long an applicant whose commitment (告知承诺) was found false may not apply again
    for the occupation; 36 is an example figure for the province to set."""


@dataclass(frozen=True)
class Verdict:
    route: str | None
    """The first route met, or None."""
    unmet: dict[str, list[str]]
    """For each route, what was missing (when none was met)."""


def judge(rule_set: RuleSet, level: Level, declared: Declaration) -> Verdict:
    unmet = {}
    for route in rule_set.routes.get(level, []):
        missing = route.unmet(declared)
        if not missing:
            return Verdict(route=route.name, unmet={})
        unmet[route.name] = missing
    return Verdict(route=None, unmet=unmet)


INTELLIGENT_MANUFACTURING_STANDARD = RuleSet(
    name="智能制造工程技术人员国家职业技术技能标准",
    routes={
        Level.JUNIOR: [
            Route(name="junior.title", title_at_least=Title.TECHNICIAN),
            Route(
                name="junior.bachelor", education_at_least=Education.BACHELOR, relevant_major=True
            ),
            Route(
                name="junior.college_1y",
                education_at_least=Education.COLLEGE,
                relevant_major=True,
                years_at_least=1,
            ),
        ],
        Level.INTERMEDIATE: [
            Route(
                name="intermediate.title_2y",
                title_at_least=Title.ASSISTANT_ENGINEER,
                years_at_least=2,
            ),
            Route(
                name="intermediate.college_junior_3y",
                education_at_least=Education.COLLEGE,
                prior_level=Level.JUNIOR,
                years_at_least=3,
            ),
            Route(
                name="intermediate.master_junior_1y",
                education_at_least=Education.SECOND_BACHELOR,
                prior_level=Level.JUNIOR,
                years_at_least=1,
            ),
            Route(
                name="intermediate.doctorate",
                education_at_least=Education.DOCTORATE,
                relevant_major=True,
            ),
        ],
        Level.SENIOR: [
            Route(name="senior.title_3y", title_at_least=Title.ENGINEER, years_at_least=3),
            Route(
                name="senior.bachelor_intermediate_4y",
                education_at_least=Education.BACHELOR,
                prior_level=Level.INTERMEDIATE,
                years_at_least=4,
            ),
            Route(
                name="senior.doctorate_intermediate_1y",
                education_at_least=Education.DOCTORATE,
                prior_level=Level.INTERMEDIATE,
                years_at_least=1,
            ),
        ],
    },
)
DEFAULT_EFFECTIVE_FROM = date(2023, 4, 27)
