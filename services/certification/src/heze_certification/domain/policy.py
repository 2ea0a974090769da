"""The city's policy data: which title series use examination instead of review (以考代评), and
the conditions for entrepreneurship guarantee-loan eligibility; each version with its date."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import event
from pydantic import BaseModel, ConfigDict, StrictBool

from heze_certification.domain.talent import TalentRecord
from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import Level

POLICY_ID = uuid5(UUID("3c4d5e6f-7a8b-5c9d-8e0f-1a2b3c4d5e6f"), "city-policy")


class PolicyTerms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    exam_based_title_series: list[str] = []
    """Title series that use examination instead of review: no recognition without review."""
    loan_levels: list[Level] = [Level.JUNIOR, Level.INTERMEDIATE, Level.SENIOR]
    loan_counties: list[str] | None = None
    """None: every county."""
    loan_requires_employer: StrictBool = False


class Recognition(StrEnum):
    WITHOUT_SECOND_REVIEW = "recognised_without_second_review"
    EXAMINATION_REQUIRED = "examination_required"
    REFERENCE_FOR_SENIOR_REVIEW = "reference_for_senior_title_review"


class CityPolicy(Aggregate):
    TOPIC = "certification.CityPolicy"

    class Started(AggregateCreated):
        TOPIC = "certification.CityPolicy.Started.v1"
        terms: PolicyTerms
        effective_from: date

    class TermsSet(Aggregate.Event):
        TOPIC = "certification.CityPolicy.TermsSet.v1"
        terms: PolicyTerms
        effective_from: date

        def apply(self, policy: CityPolicy) -> None:
            policy.versions.append((self.effective_from, self.terms))

    @staticmethod
    def create_id() -> UUID:
        return POLICY_ID

    @event(Started)
    def __init__(self, terms: PolicyTerms, effective_from: date) -> None:
        self.versions: list[tuple[date, PolicyTerms]] = [(effective_from, terms)]

    def set_terms(self, terms: PolicyTerms, effective_from: date) -> None:
        self.trigger_event(self.TermsSet, terms=terms, effective_from=effective_from)

    def terms_on(self, day: date) -> tuple[date, PolicyTerms]:
        applicable = [version for version in self.versions if version[0] <= day] or self.versions[
            :1
        ]
        return max(applicable, key=lambda version: version[0])


def title_recognition(level: Level, title_series: str, terms: PolicyTerms) -> Recognition:
    if level is Level.SENIOR:
        return Recognition.REFERENCE_FOR_SENIOR_REVIEW
    if title_series in terms.exam_based_title_series:
        return Recognition.EXAMINATION_REQUIRED
    return Recognition.WITHOUT_SECOND_REVIEW


def loan_eligibility(record: TalentRecord, terms: PolicyTerms) -> list[str]:
    """What keeps the person from entrepreneurship-loan eligibility (empty: eligible)."""
    unmet = []
    if not any(held.level in terms.loan_levels for held in record.valid_certificates()):
        unmet.append("a valid certificate at an eligible level")
    if terms.loan_counties is not None and record.county not in terms.loan_counties:
        unmet.append("registration in an eligible county")
    if terms.loan_requires_employer and not record.employed:
        unmet.append("an employer")
    return unmet
