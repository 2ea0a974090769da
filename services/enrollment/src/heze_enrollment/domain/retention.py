"""How long the programme keeps the personal data of registrants it need not keep: people who
never enrolled, or withdrew from everything they enrolled in. Data the city bureau sets, each
period recorded with the date it takes effect; past it, such a registrant is erased."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_common.errors import InvalidInput
from heze_common.events import Aggregate, AggregateCreated

RETENTION_RULE_ID = uuid5(UUID("5d2f1c3a-7b6e-5a4d-8c9b-0e1f2a3b4c5d"), "retention-rule")
PLAN_START = date(2023, 4, 27)
SEEDED_DAYS = 730
"""Two years after the last registration or withdrawal: long enough to answer a question about
a claim or a complaint, no longer (PIPL art. 47: deleted once the purpose is met)."""
LONGEST_DAYS = 3650


@dataclass(frozen=True)
class RetentionPeriod:
    days: int
    effective_from: date


class RetentionRule(Aggregate):
    TOPIC = "enrollment.RetentionRule"

    class Started(AggregateCreated):
        TOPIC = "enrollment.RetentionRule.Started.v1"
        days: int
        effective_from: date

    class PeriodSet(Aggregate.Event):
        TOPIC = "enrollment.RetentionRule.PeriodSet.v1"
        days: int
        effective_from: date

        def apply(self, rule: RetentionRule) -> None:
            rule.periods.append(RetentionPeriod(self.days, self.effective_from))

    @staticmethod
    def create_id(*_: object, **__: object) -> UUID:
        return RETENTION_RULE_ID

    @event(Started)
    def __init__(self, days: int = SEEDED_DAYS, effective_from: date = PLAN_START) -> None:
        self.periods = [RetentionPeriod(days, effective_from)]

    def set_period(self, days: int, effective_from: date, today: date) -> None:
        if not 1 <= days <= LONGEST_DAYS:
            raise InvalidInput(
                "invalid_retention_days",
                f"the retention period is 1 to {LONGEST_DAYS} days",
                field="days",
            )
        if effective_from < today:
            raise InvalidInput(  # it would erase people retroactively
                "effective_date_in_past",
                "a retention period takes effect today or later, never in the past",
                field="effective_from",
            )
        self.trigger_event(self.PeriodSet, days=days, effective_from=effective_from)

    def days_on(self, day: date) -> int:
        """The period in force on `day`: the latest taking effect by then (of two set from one
        date, the later set); before the first, the first."""
        applicable = [
            (period.effective_from, order, period)
            for order, period in enumerate(self.periods)
            if period.effective_from <= day
        ]
        if not applicable:
            return self.periods[0].days
        return max(applicable, key=lambda entry: entry[:2])[2].days
