"""Evaluation institutions, registered by the provincial department for the occupations they
may assess."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_common.errors import InvalidInput, Refusal
from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import Field

NAMESPACE = UUID("9d8c7b6a-5f4e-5d3c-8b2a-1f0e9d8c7b6a")


class EvaluationInstitution(Aggregate):
    TOPIC = "assessment.EvaluationInstitution"

    class Registered(AggregateCreated):
        TOPIC = "assessment.EvaluationInstitution.Registered.v1"
        name: str
        occupations: dict[str, Field]

    class Suspended(Aggregate.Event):
        TOPIC = "assessment.EvaluationInstitution.Suspended.v1"
        reason: str

        def apply(self, institution: EvaluationInstitution) -> None:
            institution.suspended = True

    class Reinstated(Aggregate.Event):
        TOPIC = "assessment.EvaluationInstitution.Reinstated.v1"

        def apply(self, institution: EvaluationInstitution) -> None:
            institution.suspended = False

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE, name.strip())

    @event(Registered)
    def __init__(self, name: str, occupations: dict[str, Field]) -> None:
        self.name = name
        self.occupations = dict(occupations)
        self.suspended = False

    @classmethod
    def register(cls, name: str, occupations: dict[str, Field]) -> EvaluationInstitution:
        if not occupations:
            raise InvalidInput(
                "empty_scope", "name at least one occupation it may assess", field="occupations"
            )
        return cls(name=name.strip(), occupations=occupations)

    def suspend(self, reason: str) -> None:
        if self.suspended:
            raise Refusal("already_suspended", "the evaluation institution is already suspended")
        self.trigger_event(self.Suspended, reason=reason)

    def reinstate(self) -> None:
        if not self.suspended:
            raise Refusal("not_suspended", "the evaluation institution is not suspended")
        self.trigger_event(self.Reinstated)

    def ensure_may_assess(self, occupation_code: str) -> Field:
        if self.suspended:
            raise Refusal("evaluation_institution_suspended", f"{self.name} is suspended")
        if occupation_code not in self.occupations:
            raise Refusal(
                "not_assessable",
                f"{self.name} may not assess {occupation_code}",
                field="occupation_code",
            )
        return self.occupations[occupation_code]
