"""Integration events published by the certification service (topic certification.events.v1),
keyed by trainee_id.
"""

from datetime import date
from typing import Literal
from uuid import UUID

from heze_contracts.enums import CertificateStage, Field, Level, Producer
from heze_contracts.envelope import ContractModel, IntegrationEvent
from heze_contracts.values import Count, Hours, OccupationCode, Reasons, Text, UtcDatetime, Year


class CertificationEvent(IntegrationEvent, producer=Producer.CERTIFICATION, key="trainee_id"):
    pass


class CertificateDataReportedPayload(ContractModel):
    """The evaluation institution reported certificate data to the province."""

    case_id: UUID
    trainee_id: UUID
    application_id: UUID
    evaluation_institution_id: UUID
    occupation_code: OccupationCode
    field: Field
    level: Level
    reported_at: UtcDatetime
    confirmation_due_on: date
    """10 Chinese working days after the report."""
    due_is_provisional: bool
    """True when no loaded holiday calendar covers the due year (weekdays were counted)."""


class CertificateDataReported(CertificationEvent):
    event_type: Literal["CertificateDataReported"]
    schema_version: Literal[1]
    payload: CertificateDataReportedPayload


class ProvinceConfirmedPayload(ContractModel):
    case_id: UUID
    trainee_id: UUID
    confirmed_at: UtcDatetime


class ProvinceConfirmed(CertificationEvent):
    event_type: Literal["ProvinceConfirmed"]
    schema_version: Literal[1]
    payload: ProvinceConfirmedPayload


class ProvinceReturnedPayload(ContractModel):
    case_id: UUID
    trainee_id: UUID
    reasons: Reasons
    returned_at: UtcDatetime


class ProvinceReturned(CertificationEvent):
    event_type: Literal["ProvinceReturned"]
    schema_version: Literal[1]
    payload: ProvinceReturnedPayload


class NationalApprovedPayload(ContractModel):
    case_id: UUID
    trainee_id: UUID
    approved_at: UtcDatetime
    issue_due_on: date
    """30 calendar days after approval."""


class NationalApproved(CertificationEvent):
    event_type: Literal["NationalApproved"]
    schema_version: Literal[1]
    payload: NationalApprovedPayload


class NationalRejectedPayload(ContractModel):
    case_id: UUID
    trainee_id: UUID
    reasons: Reasons
    rejected_at: UtcDatetime


class NationalRejected(CertificationEvent):
    event_type: Literal["NationalRejected"]
    schema_version: Literal[1]
    payload: NationalRejectedPayload


class CertificateIssuedPayload(ContractModel):
    """An issued certificate, naming its holder by trainee id only."""

    case_id: UUID
    trainee_id: UUID
    certificate_number: Text
    occupation_code: OccupationCode
    field: Field
    level: Level
    evaluation_institution_id: UUID
    issued_on: date


class CertificateIssued(CertificationEvent):
    event_type: Literal["CertificateIssued"]
    schema_version: Literal[2]
    payload: CertificateIssuedPayload


class CertificateIssuedV1Payload(ContractModel):
    """An issued certificate as version 1 published it, with the holder's name (read only in
    messages already on the topic)."""

    case_id: UUID
    trainee_id: UUID
    certificate_number: Text
    holder_name: Text
    occupation_code: OccupationCode
    field: Field
    level: Level
    evaluation_institution_id: UUID
    issued_on: date


class CertificateIssuedV1(CertificationEvent):
    event_type: Literal["CertificateIssued"]
    schema_version: Literal[1]
    payload: CertificateIssuedV1Payload


class CertificateRevokedPayload(ContractModel):
    case_id: UUID
    trainee_id: UUID
    certificate_number: Text
    reason: Text
    revoked_at: UtcDatetime


class CertificateRevoked(CertificationEvent):
    event_type: Literal["CertificateRevoked"]
    schema_version: Literal[1]
    payload: CertificateRevokedPayload


class DeadlineBreachedPayload(ContractModel):
    case_id: UUID
    trainee_id: UUID
    evaluation_institution_id: UUID
    stage: CertificateStage
    due_on: date
    detected_on: date
    days_late: Count


class DeadlineBreached(CertificationEvent):
    event_type: Literal["DeadlineBreached"]
    schema_version: Literal[1]
    payload: DeadlineBreachedPayload


class DeadlineChangedPayload(ContractModel):
    """A due date moved, e.g. recomputed when the holiday calendar of its year arrived."""

    case_id: UUID
    trainee_id: UUID
    stage: CertificateStage
    previous_due_on: date
    due_on: date
    due_is_provisional: bool


class DeadlineChanged(CertificationEvent):
    event_type: Literal["DeadlineChanged"]
    schema_version: Literal[1]
    payload: DeadlineChangedPayload


class ContinuingEducationHoursCreditedPayload(ContractModel):
    """Training hours counted as continuing-education hours (其他学时认定) for one year."""

    trainee_id: UUID
    year: Year
    hours: Hours
    source_programme_id: UUID
    credited_on: date


class ContinuingEducationHoursCredited(CertificationEvent):
    event_type: Literal["ContinuingEducationHoursCredited"]
    schema_version: Literal[1]
    payload: ContinuingEducationHoursCreditedPayload


class TalentPoolAdmittedPayload(ContractModel):
    trainee_id: UUID
    certificate_number: Text
    field: Field
    level: Level
    county: Text
    admitted_on: date


class TalentPoolAdmitted(CertificationEvent):
    event_type: Literal["TalentPoolAdmitted"]
    schema_version: Literal[1]
    payload: TalentPoolAdmittedPayload


EVENTS = (
    CertificateDataReported,
    ProvinceConfirmed,
    ProvinceReturned,
    NationalApproved,
    NationalRejected,
    CertificateIssuedV1,
    CertificateIssued,
    CertificateRevoked,
    DeadlineBreached,
    DeadlineChanged,
    ContinuingEducationHoursCredited,
    TalentPoolAdmitted,
)
