"""Integration events of the subsidy service (subsidy.events.v1), keyed by trainee_id."""

from datetime import date
from typing import Literal
from uuid import UUID

from heze_contracts.enums import Level, Producer, Role
from heze_contracts.envelope import ContractModel, IntegrationEvent
from heze_contracts.values import AmountFen, Code, OccupationCode, Text, UtcDatetime


class SubsidyEvent(IntegrationEvent, producer=Producer.SUBSIDY, key="trainee_id"):
    pass


class SubsidyAppliedPayload(ContractModel):
    claim_id: UUID
    trainee_id: UUID
    programme_id: UUID
    occupation_code: OccupationCode
    level: Level
    applied_at: UtcDatetime
    applied_by_role: Role


class SubsidyApplied(SubsidyEvent):
    event_type: Literal["SubsidyApplied"]
    schema_version: Literal[1]
    payload: SubsidyAppliedPayload


class SubsidyApprovedPayload(ContractModel):
    claim_id: UUID
    trainee_id: UUID
    amount_fen: AmountFen
    standard_id: UUID
    """The city's subsidy standard (cfg) that set the amount, for the audit trail."""
    decided_on: date


class SubsidyApproved(SubsidyEvent):
    event_type: Literal["SubsidyApproved"]
    schema_version: Literal[1]
    payload: SubsidyApprovedPayload


class SubsidyRejectedPayload(ContractModel):
    claim_id: UUID
    trainee_id: UUID
    reason_code: Code
    reason: Text
    decided_on: date


class SubsidyRejected(SubsidyEvent):
    event_type: Literal["SubsidyRejected"]
    schema_version: Literal[1]
    payload: SubsidyRejectedPayload


class SubsidyPaidPayload(ContractModel):
    claim_id: UUID
    trainee_id: UUID
    amount_fen: AmountFen
    payment_reference: Text
    paid_on: date


class SubsidyPaid(SubsidyEvent):
    event_type: Literal["SubsidyPaid"]
    schema_version: Literal[1]
    payload: SubsidyPaidPayload


EVENTS = (SubsidyApplied, SubsidyApproved, SubsidyRejected, SubsidyPaid)
