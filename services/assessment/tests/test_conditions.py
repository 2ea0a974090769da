"""Every route of every level of the default (智能制造) application conditions, and refusals."""

from __future__ import annotations

import pytest

from heze_assessment.domain.conditions import (
    INTELLIGENT_MANUFACTURING_STANDARD,
    Declaration,
    Title,
    judge,
)
from heze_contracts.enums import Education, Level

E, T = Education, Title


def declared(**facts: object) -> Declaration:
    values: dict = {"education": E.BELOW_COLLEGE, "major_relevant": False}
    values.update(facts)
    return Declaration(**values)


@pytest.mark.parametrize(
    ("level", "facts", "route"),
    [
        (Level.JUNIOR, {"title": T.TECHNICIAN}, "junior.title"),
        (Level.JUNIOR, {"title": T.ENGINEER}, "junior.title"),  # a higher title serves too
        (Level.JUNIOR, {"education": E.BACHELOR, "major_relevant": True}, "junior.bachelor"),
        (
            Level.JUNIOR,
            {"education": E.BACHELOR, "major_relevant": True, "graduating_student": True},
            "junior.bachelor",
        ),
        (Level.JUNIOR, {"education": E.MASTER, "major_relevant": True}, "junior.bachelor"),
        (
            Level.JUNIOR,
            {"education": E.COLLEGE, "major_relevant": True, "years_in_occupation": 1},
            "junior.college_1y",
        ),
        (
            Level.INTERMEDIATE,
            {"title": T.ASSISTANT_ENGINEER, "years_in_occupation": 2},
            "intermediate.title_2y",
        ),
        (
            Level.INTERMEDIATE,
            {"education": E.COLLEGE, "prior_levels": [Level.JUNIOR], "years_in_occupation": 3},
            "intermediate.college_junior_3y",
        ),
        (
            Level.INTERMEDIATE,
            {"education": E.BACHELOR, "prior_levels": [Level.JUNIOR], "years_in_occupation": 3},
            "intermediate.college_junior_3y",
        ),
        (
            Level.INTERMEDIATE,
            {"education": E.MASTER, "prior_levels": [Level.JUNIOR], "years_in_occupation": 1},
            "intermediate.master_junior_1y",
        ),
        (
            Level.INTERMEDIATE,
            {
                "education": E.SECOND_BACHELOR,
                "prior_levels": [Level.JUNIOR],
                "years_in_occupation": 1,
            },
            "intermediate.master_junior_1y",
        ),
        (
            Level.INTERMEDIATE,
            {"education": E.DOCTORATE, "major_relevant": True},
            "intermediate.doctorate",
        ),
        (Level.SENIOR, {"title": T.ENGINEER, "years_in_occupation": 3}, "senior.title_3y"),
        (
            Level.SENIOR,
            {
                "education": E.BACHELOR,
                "prior_levels": [Level.INTERMEDIATE],
                "years_in_occupation": 4,
            },
            "senior.bachelor_intermediate_4y",
        ),
        (
            Level.SENIOR,
            {"education": E.MASTER, "prior_levels": [Level.INTERMEDIATE], "years_in_occupation": 4},
            "senior.bachelor_intermediate_4y",
        ),
        (
            Level.SENIOR,
            {
                "education": E.DOCTORATE,
                "prior_levels": [Level.INTERMEDIATE],
                "years_in_occupation": 1,
            },
            "senior.doctorate_intermediate_1y",
        ),
    ],
)
def test_each_route_qualifies(level: Level, facts: dict, route: str) -> None:
    assert judge(INTELLIGENT_MANUFACTURING_STANDARD, level, declared(**facts)).route == route


@pytest.mark.parametrize(
    ("level", "facts", "route", "missing"),
    [
        (Level.JUNIOR, {"education": E.BACHELOR}, "junior.bachelor", ["a relevant major"]),
        (
            Level.JUNIOR,
            {"education": E.COLLEGE, "major_relevant": True},
            "junior.college_1y",
            ["1 year(s) in the occupation"],
        ),
        (
            Level.INTERMEDIATE,
            {"title": T.ASSISTANT_ENGINEER, "years_in_occupation": 1},
            "intermediate.title_2y",
            ["2 year(s) in the occupation"],
        ),
        (
            Level.INTERMEDIATE,
            {"education": E.BACHELOR, "years_in_occupation": 5},
            "intermediate.college_junior_3y",
            ["the junior level certificate"],
        ),
        (
            Level.INTERMEDIATE,
            {"education": E.BACHELOR, "prior_levels": [Level.JUNIOR], "years_in_occupation": 1},
            "intermediate.master_junior_1y",
            ["education second_bachelor or higher"],
        ),
        (
            Level.SENIOR,
            {"title": T.ASSISTANT_ENGINEER, "years_in_occupation": 10},
            "senior.title_3y",
            ["title engineer or higher"],
        ),
        (
            Level.SENIOR,
            {
                "education": E.BACHELOR,
                "prior_levels": [Level.INTERMEDIATE],
                "years_in_occupation": 3,
            },
            "senior.bachelor_intermediate_4y",
            ["4 year(s) in the occupation"],
        ),
        (
            Level.SENIOR,
            {
                "education": E.COLLEGE,
                "prior_levels": [Level.INTERMEDIATE],
                "years_in_occupation": 9,
            },
            "senior.bachelor_intermediate_4y",
            ["education bachelor or higher"],
        ),
    ],
)
def test_refusals_name_what_each_route_misses(
    level: Level, facts: dict, route: str, missing: list[str]
) -> None:
    verdict = judge(INTELLIGENT_MANUFACTURING_STANDARD, level, declared(**facts))
    assert verdict.route is None
    assert verdict.unmet[route] == missing
    assert set(verdict.unmet) == {r.name for r in INTELLIGENT_MANUFACTURING_STANDARD.routes[level]}
