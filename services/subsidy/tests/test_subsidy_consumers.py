"""The subsidy service's application and consumer on the in-memory store (the fast tier):
enrollment's and certification's facts handed to the consumer's processing path as the broker
would hand them over, claims on the application, and the integration events its relay would
publish."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count, permutations
from uuid import UUID, uuid4

import pytest

from heze_common import clock
from heze_common.consumer import Outcome
from heze_common.errors import Refusal
from heze_common.testing import InMemoryService
from heze_contracts import IntegrationEvent
from heze_contracts import certification as certified
from heze_contracts import enrollment as enrolled
from heze_contracts.enums import Field, HourKind, HourMode, Level, Role
from heze_subsidy.domain.claim import Claim, ClaimStatus
from heze_subsidy.main import definition
from heze_subsidy.settings import SubsidySettings

OCCUPATION = "2-02-10-11"
NOW = datetime(2026, 11, 27, 2, tzinfo=UTC)
ISSUED = datetime(2026, 9, 1, 2, tzinfo=UTC)
positions = count(1)


def envelope(event_class: type, payload: object, subject: UUID, at: datetime) -> IntegrationEvent:
    return event_class.build(
        payload,
        position=next(positions),
        occurred_at=at,
        origin_id=subject,
        origin_version=1,
        correlation_id=uuid4(),
        causation_id=None,
    )


def enrollment_facts(trainee_id: UUID, programme_id: UUID) -> list[IntegrationEvent]:
    study = dict(
        trainee_id=trainee_id,
        programme_id=programme_id,
        institution_id=uuid4(),
        occupation_code=OCCUPATION,
        field=Field.BIG_DATA,
        level=Level.JUNIOR,
        subsidised_plan=True,
    )
    return [
        envelope(
            enrolled.TraineeEnrolled,
            enrolled.TraineeEnrolledPayload(**study, enrolled_on=date(2026, 3, 1)),
            trainee_id,
            datetime(2026, 3, 1, 2, tzinfo=UTC),
        ),
        envelope(
            enrolled.TrainingCompleted,
            enrolled.TrainingCompletedPayload(
                **study,
                hours_by_kind={
                    HourKind.THEORY: Decimal("80.0"),
                    HourKind.PRACTICE: Decimal("48.0"),
                },
                hours_by_mode={HourMode.ONLINE: Decimal("128.0"), HourMode.OFFLINE: Decimal("0.0")},
                total_hours=Decimal("128.0"),
                exam_score=Decimal("70.0"),
                training_certificate_number="HZPX2026-2021011-000003",
                completed_on=date(2026, 6, 1),
            ),
            trainee_id,
            datetime(2026, 6, 1, 2, tzinfo=UTC),
        ),
    ]


def issued(trainee_id: UUID, number: str = "HZSZ2026-2021011-J-000001") -> IntegrationEvent:
    return envelope(
        certified.CertificateIssued,
        certified.CertificateIssuedPayload(
            case_id=uuid4(),
            trainee_id=trainee_id,
            certificate_number=number,
            holder_name="某学员",
            occupation_code=OCCUPATION,
            field=Field.BIG_DATA,
            level=Level.JUNIOR,
            evaluation_institution_id=uuid4(),
            issued_on=ISSUED.date(),
        ),
        trainee_id,
        ISSUED,
    )


def revoked(trainee_id: UUID, number: str = "HZSZ2026-2021011-J-000001") -> IntegrationEvent:
    at = datetime(2026, 10, 1, 2, tzinfo=UTC)
    return envelope(
        certified.CertificateRevoked,
        certified.CertificateRevokedPayload(
            case_id=uuid4(),
            trainee_id=trainee_id,
            certificate_number=number,
            reason="承诺事项核查不实",
            revoked_at=at,
        ),
        trainee_id,
        at,
    )


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def subsidy(memory_service: Callable[..., InMemoryService]) -> InMemoryService:
    return memory_service(definition, SubsidySettings)


def file_claim(service: InMemoryService, trainee_id: UUID, programme_id: UUID) -> Claim:
    return service.application.file_claim(
        trainee_id=trainee_id,
        programme_id=programme_id,
        occupation_code=OCCUPATION,
        level=Level.JUNIOR,
        applied_by_role=Role.TRAINEE,
        applied_by=f"trainee:{trainee_id}",
        institution_id=None,
    )


async def test_every_order_of_the_facts_and_the_claim_gives_the_same_decision(
    subsidy: InMemoryService,
) -> None:
    decisions = {}
    for order in permutations(["claim", "enrollment", "certification"]):
        trainee_id, programme_id = uuid4(), uuid4()
        claim_id = None
        for step in order:
            if step == "claim":
                claim_id = file_claim(subsidy, trainee_id, programme_id).id
            elif step == "enrollment":
                facts = enrollment_facts(trainee_id, programme_id)
                assert await subsidy.deliver(*facts) == [Outcome.APPLIED] * 2
            else:
                assert await subsidy.deliver(issued(trainee_id)) == [Outcome.APPLIED]
        claim = subsidy.application.claim(claim_id)
        decisions[order] = (claim.status, claim.amount_fen, claim.standard_id)
    assert len(set(decisions.values())) == 1, decisions
    status, amount, _ = next(iter(decisions.values()))
    assert (status, amount) == (ClaimStatus.APPROVED, 150_000)


async def test_the_same_training_is_subsidised_once(subsidy: InMemoryService) -> None:
    trainee_id, programme_id = uuid4(), uuid4()
    await subsidy.deliver(*enrollment_facts(trainee_id, programme_id), issued(trainee_id))
    claims = [file_claim(subsidy, trainee_id, programme_id) for _ in range(3)]
    assert [claim.status for claim in claims] == [ClaimStatus.APPROVED] + [ClaimStatus.REJECTED] * 2
    assert {claim.reason_code for claim in claims[1:]} == {"already_subsidised"}


async def test_payment_and_the_published_events(subsidy: InMemoryService) -> None:
    trainee_id, programme_id = uuid4(), uuid4()
    await subsidy.deliver(*enrollment_facts(trainee_id, programme_id), issued(trainee_id))
    head = subsidy.application.log_head()
    claim = file_claim(subsidy, trainee_id, programme_id)
    subsidy.application.record_payment(claim.id, "HZCZ-2026-0001")
    assert subsidy.application.claim(claim.id).status is ClaimStatus.PAID
    with pytest.raises(Refusal) as again:
        subsidy.application.record_payment(claim.id, "HZCZ-2026-0002")
    assert again.value.code == "already_paid"
    events = subsidy.published(after=head)
    assert [e.event_type for e in events] == ["SubsidyApplied", "SubsidyApproved", "SubsidyPaid"]
    approved, paid = events[1].payload, events[2].payload
    assert (approved.claim_id, approved.amount_fen, approved.decided_on) == (
        claim.id,
        150_000,
        NOW.date(),
    )
    assert (paid.payment_reference, paid.amount_fen) == ("HZCZ-2026-0001", 150_000)


async def test_a_waiting_claim_decided_by_the_city_names_what_is_missing(
    subsidy: InMemoryService,
) -> None:
    claim = file_claim(subsidy, uuid4(), uuid4())
    assert (claim.status, claim.waiting_for) == (
        ClaimStatus.WAITING,
        "no enrolment of the trainee in this programme is known",
    )
    subsidy.application.decide_now(claim.id)
    decided = subsidy.application.claim(claim.id)
    assert (decided.status, decided.reason_code) == (ClaimStatus.REJECTED, "not_enrolled")


async def test_a_revoked_certificate_is_no_proof_for_a_later_claim(
    subsidy: InMemoryService,
) -> None:
    trainee_id, programme_id = uuid4(), uuid4()
    facts = [*enrollment_facts(trainee_id, programme_id), issued(trainee_id), revoked(trainee_id)]
    assert await subsidy.deliver(*facts) == [Outcome.APPLIED] * 4
    claim = file_claim(subsidy, trainee_id, programme_id)
    assert (claim.status, claim.waiting_for) == (
        ClaimStatus.WAITING,
        "no valid level certificate of this occupation and level",
    )
    subsidy.application.decide_now(claim.id)
    assert subsidy.application.claim(claim.id).reason_code == "certificate_missing"


async def test_redelivered_facts_change_nothing(subsidy: InMemoryService) -> None:
    trainee_id, programme_id = uuid4(), uuid4()
    facts = [*enrollment_facts(trainee_id, programme_id), issued(trainee_id)]
    claim = file_claim(subsidy, trainee_id, programme_id)
    assert await subsidy.deliver(*facts) == [Outcome.APPLIED] * 3
    head = subsidy.application.log_head()
    beneficiary_version = subsidy.application.beneficiary(trainee_id).version
    assert await subsidy.deliver(*facts) == [Outcome.DUPLICATE] * 3
    assert subsidy.application.log_head() == head
    assert subsidy.application.beneficiary(trainee_id).version == beneficiary_version
    assert subsidy.application.claim(claim.id).status is ClaimStatus.APPROVED
    approvals = [e for e in subsidy.published() if e.event_type == "SubsidyApproved"]
    assert [e.payload.claim_id for e in approvals] == [claim.id]
