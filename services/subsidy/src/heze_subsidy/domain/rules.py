"""The city's subsidy rules as data: standards (amount per occupation and level, with an
effective date range) and the policy (which certificate is required, the one-year window, the
yearly cap, who may claim), each recorded as an event so a decision can name what applied."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import event
from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt

from heze_common.errors import InvalidInput
from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import Level

RULES_ID = uuid5(UUID("5e6f7a8b-9c0d-5e1f-8a2b-3c4d5e6f7a8b"), "subsidy-rules")


class RequiredCertificate(StrEnum):
    TRAINING = "training_certificate"
    LEVEL = "level_certificate"


class Window(StrEnum):
    ROLLING_365_DAYS = "rolling_365_days"
    CALENDAR_YEAR = "calendar_year"


class SubsidyPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    required_certificate: RequiredCertificate = RequiredCertificate.LEVEL
    window: Window = Window.ROLLING_365_DAYS
    yearly_cap: StrictInt = 3
    institutions_may_claim: StrictBool = False
    """Whether a training institution may claim on its trainee's behalf."""


class Standard(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    standard_id: UUID
    occupation_code: str
    level: Level
    amount_fen: int
    effective_from: date
    effective_to: date | None = None

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


class SubsidyRules(Aggregate):
    TOPIC = "subsidy.SubsidyRules"

    class Started(AggregateCreated):
        TOPIC = "subsidy.SubsidyRules.Started.v1"
        policy: SubsidyPolicy
        effective_from: date

    class PolicySet(Aggregate.Event):
        TOPIC = "subsidy.SubsidyRules.PolicySet.v1"
        policy: SubsidyPolicy
        effective_from: date

        def apply(self, rules: SubsidyRules) -> None:
            rules.policies.append((self.effective_from, self.policy))

    class StandardSet(Aggregate.Event):
        TOPIC = "subsidy.SubsidyRules.StandardSet.v1"
        standard: Standard

        def apply(self, rules: SubsidyRules) -> None:
            rules.standards.append(self.standard)

    @staticmethod
    def create_id() -> UUID:
        return RULES_ID

    @event(Started)
    def __init__(self, policy: SubsidyPolicy, effective_from: date) -> None:
        self.policies: list[tuple[date, SubsidyPolicy]] = [(effective_from, policy)]
        self.standards: list[Standard] = []

    def set_policy(self, policy: SubsidyPolicy, effective_from: date) -> None:
        if policy.yearly_cap < 1:
            raise InvalidInput("invalid_cap", "the yearly cap is at least 1", field="yearly_cap")
        self.trigger_event(self.PolicySet, policy=policy, effective_from=effective_from)

    def set_standard(
        self,
        occupation_code: str,
        level: Level,
        amount_fen: int,
        effective_from: date,
        effective_to: date | None,
    ) -> Standard:
        if amount_fen <= 0:
            raise InvalidInput(
                "invalid_amount", "the amount must be more than zero", field="amount_fen"
            )
        if effective_to is not None and effective_to < effective_from:
            raise InvalidInput(
                "invalid_dates", "the range must not end before it starts", field="effective_to"
            )
        standard = Standard(
            standard_id=uuid4(),
            occupation_code=occupation_code,
            level=level,
            amount_fen=amount_fen,
            effective_from=effective_from,
            effective_to=effective_to,
        )
        self.trigger_event(self.StandardSet, standard=standard)
        return standard

    def policy_on(self, day: date) -> tuple[date, SubsidyPolicy]:
        applicable = [version for version in self.policies if version[0] <= day] or self.policies[
            :1
        ]
        return max(applicable, key=lambda version: version[0])

    def standard_on(self, occupation_code: str, level: Level, day: date) -> Standard | None:
        """The standard in force on `day`; of overlapping ones, the latest set wins."""
        matching = [
            standard
            for standard in self.standards
            if (standard.occupation_code, standard.level) == (occupation_code, level)
            and standard.in_force(day)
        ]
        return matching[-1] if matching else None
