"""Employer tuition reimbursement from staff-education funds: once per trainee and programme."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid5

from eventsourcing.domain import event

from heze_common.events import Aggregate, AggregateCreated

NAMESPACE = UUID("7d8e9f0a-1b2c-5d3e-8f4a-5b6c7d8e9f0a")


class Reimbursement(Aggregate):
    TOPIC = "subsidy.Reimbursement"

    class Recorded(AggregateCreated):
        TOPIC = "subsidy.Reimbursement.Recorded.v1"
        employer_id: UUID
        trainee_id: UUID
        programme_id: UUID
        amount_fen: int
        reimbursed_on: date

    @staticmethod
    def id_for(trainee_id: UUID, programme_id: UUID) -> UUID:
        """The same tuition (one trainee, one programme) has one reimbursement."""
        return uuid5(NAMESPACE, f"{trainee_id}/{programme_id}")

    @event(Recorded)
    def __init__(
        self,
        id: UUID,
        employer_id: UUID,
        trainee_id: UUID,
        programme_id: UUID,
        amount_fen: int,
        reimbursed_on: date,  # noqa: A002
    ) -> None:
        self.employer_id = employer_id
        self.trainee_id = trainee_id
        self.programme_id = programme_id
        self.amount_fen = amount_fen
        self.reimbursed_on = reimbursed_on
