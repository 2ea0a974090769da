"""The province's application rules per occupation, each version with its effective date."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_assessment.domain.conditions import (
    DEFAULT_EFFECTIVE_FROM,
    INTELLIGENT_MANUFACTURING_STANDARD,
    RuleSet,
)
from heze_common.errors import NotFound
from heze_common.events import Aggregate, AggregateCreated

RULEBOOK_ID = uuid5(UUID("7c1e2d3f-4a5b-5c6d-8e7f-9a0b1c2d3e4f"), "rulebook")
DEFAULT = "*"
"""The occupation key of the rules that apply where the province set none of its own."""


class RuleBook(Aggregate):
    TOPIC = "assessment.RuleBook"

    class Started(AggregateCreated):
        TOPIC = "assessment.RuleBook.Started.v1"
        default_rules: RuleSet
        effective_from: date

    class RulesSet(Aggregate.Event):
        TOPIC = "assessment.RuleBook.RulesSet.v1"
        occupation_code: str
        rules: RuleSet
        effective_from: date

        def apply(self, book: RuleBook) -> None:
            book.versions.setdefault(self.occupation_code, []).append(
                (self.effective_from, self.rules)
            )

    @staticmethod
    def create_id() -> UUID:
        return RULEBOOK_ID

    @event(Started)
    def __init__(self, default_rules: RuleSet, effective_from: date) -> None:
        self.versions: dict[str, list[tuple[date, RuleSet]]] = {
            DEFAULT: [(effective_from, default_rules)]
        }

    @classmethod
    def with_default(cls) -> RuleBook:
        return cls(
            default_rules=INTELLIGENT_MANUFACTURING_STANDARD, effective_from=DEFAULT_EFFECTIVE_FROM
        )

    def set_rules(self, occupation_code: str, rules: RuleSet, effective_from: date) -> None:
        self.trigger_event(
            self.RulesSet,
            occupation_code=occupation_code,
            rules=rules,
            effective_from=effective_from,
        )

    def rules_for(self, occupation_code: str, on: date) -> tuple[str, date, RuleSet]:
        """The rule set in force: (whose it is, since when, the rules)."""
        for key in (occupation_code, DEFAULT):
            applicable = [version for version in self.versions.get(key, []) if version[0] <= on]
            if applicable:
                since, rules = max(applicable, key=lambda version: version[0])
                return key, since, rules
        raise NotFound("no_rules_in_force", f"no application rules were in force on {on}")
