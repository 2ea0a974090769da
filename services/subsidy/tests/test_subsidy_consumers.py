"""The subsidy service's application and consumer on the in-memory store (the fast tier):
enrollment's and certification's facts handed to the consumer's processing path as the broker
would hand them over, claims as the application's commands, and the integration events its
relay would publish."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count, permutations
from uuid import UUID, uuid4

import pytest
from subsidy_builders import CITY_BUREAU, employer_staff, institution_staff, trainee

from heze_common import clock
from heze_common.consumer import Outcome
from heze_common.errors import Refusal
from heze_common.auth import Principal
from heze_common.idempotency import IdempotencyKey, fingerprint
from heze_common.testing import InMemoryService
from heze_contracts import IntegrationEvent
from heze_contracts import certification as certified
from heze_contracts import enrollment as enrolled
from heze_contracts.enums import Field, HourKind, HourMode, Level, Role
from heze_subsidy import consumers
from heze_subsidy.commands import (
    DecideClaim,
    FileClaim,
    RecordPayment,
    RecordReimbursement,
    SetPolicy,
    SetStandard,
)
from heze_subsidy.domain.beneficiary import Beneficiary
from heze_subsidy.domain.claim import Claim, ClaimStatus
from heze_subsidy.domain.rules import SubsidyPolicy
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
    """The trainee claims for themself."""
    return service.application.handle(
        FileClaim(
            principal=trainee(trainee_id),
            trainee_id=None,
            programme_id=programme_id,
            occupation_code=OCCUPATION,
            level=Level.JUNIOR,
        )
    )


def pay(service: InMemoryService, claim_id: UUID, reference: str) -> Claim:
    return service.application.handle(
        RecordPayment(principal=CITY_BUREAU, claim_id=claim_id, payment_reference=reference)
    )


def decide_now(service: InMemoryService, claim_id: UUID) -> Claim:
    return service.application.handle(DecideClaim(principal=CITY_BUREAU, claim_id=claim_id))


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
    pay(subsidy, claim.id, "HZCZ-2026-0001")
    assert subsidy.application.claim(claim.id).status is ClaimStatus.PAID
    with pytest.raises(Refusal) as again:
        pay(subsidy, claim.id, "HZCZ-2026-0002")
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
    decide_now(subsidy, claim.id)
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
    decide_now(subsidy, claim.id)
    assert subsidy.application.claim(claim.id).reason_code == "certificate_missing"


async def test_a_revocation_cancels_the_unpaid_claim_and_records_what_a_paid_one_owes(
    subsidy: InMemoryService,
) -> None:
    app = subsidy.application
    unpaid_trainee, paid_trainee, programme_id = uuid4(), uuid4(), uuid4()
    for trainee_id in (unpaid_trainee, paid_trainee):
        await subsidy.deliver(*enrollment_facts(trainee_id, programme_id), issued(trainee_id))
    unpaid = file_claim(subsidy, unpaid_trainee, programme_id)
    paid = file_claim(subsidy, paid_trainee, programme_id)
    pay(subsidy, paid.id, "HZCZ-2026-0007")
    assert await subsidy.deliver(revoked(unpaid_trainee), revoked(paid_trainee)) == [
        Outcome.APPLIED
    ] * 2

    cancelled = app.claim(unpaid.id)
    assert (cancelled.status, cancelled.reason_code, cancelled.reason) == (
        ClaimStatus.CANCELLED,
        "certificate_revoked",
        "承诺事项核查不实",
    )
    assert refusal_code(lambda: pay(subsidy, unpaid.id, "HZCZ-2026-0008")) == "claim_cancelled"
    owed = app.claim(paid.id)
    assert (owed.status, owed.recovery_due_fen) == (ClaimStatus.PAID, 150_000)
    recovery = next(e for e in app.events.get(paid.id) if isinstance(e, Claim.RecoveryDue))
    assert (recovery.certificate_number, recovery.reason, recovery.due_since) == (
        "HZSZ2026-2021011-J-000001",
        "承诺事项核查不实",
        NOW.date(),
    )
    # The same revocation again changes nothing.
    head = app.log_head()
    assert await subsidy.deliver(revoked(paid_trainee)) == [Outcome.APPLIED]
    assert app.claim(paid.id).recovery_due_fen == 150_000
    assert len([e for e in app.events.get(paid.id) if isinstance(e, Claim.RecoveryDue)]) == 1
    assert app.log_head() == head  # nothing more recorded


async def test_a_revocation_leaves_a_claim_another_valid_certificate_supports(
    subsidy: InMemoryService,
) -> None:
    trainee_id, programme_id = uuid4(), uuid4()
    facts = [*enrollment_facts(trainee_id, programme_id), issued(trainee_id)]
    await subsidy.deliver(*facts, issued(trainee_id, "HZSZ2026-2021011-J-000002"))
    claim = file_claim(subsidy, trainee_id, programme_id)
    await subsidy.deliver(revoked(trainee_id))
    assert subsidy.application.claim(claim.id).status is ClaimStatus.APPROVED


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


def refusal_code(attempt: Callable[[], object]) -> str:
    with pytest.raises(Refusal) as refusal:
        attempt()
    return refusal.value.code


async def test_a_trainee_claims_for_themself_and_an_institution_for_its_own_trainees(
    subsidy: InMemoryService,
) -> None:
    app = subsidy.application
    trainee_id, programme_id, other = uuid4(), uuid4(), uuid4()
    enrolment = enrollment_facts(trainee_id, programme_id)[0]
    assert await subsidy.deliver(enrolment) == [Outcome.APPLIED]
    institution_id = enrolment.payload.institution_id

    def claim(principal: Principal, named: UUID | None) -> Callable[[], Claim]:
        return lambda: app.handle(
            FileClaim(
                principal=principal,
                trainee_id=named,
                programme_id=programme_id,
                occupation_code=OCCUPATION,
                level=Level.JUNIOR,
            )
        )

    not_a_trainee_id = Principal(subject="account-7", role=Role.TRAINEE)
    assert refusal_code(claim(trainee(trainee_id), other)) == "not_your_claim"
    assert refusal_code(claim(not_a_trainee_id, trainee_id)) == "not_your_claim"
    assert refusal_code(claim(not_a_trainee_id, None)) == "no_trainee_id"
    assert refusal_code(claim(institution_staff(institution_id), None)) == "trainee_id_required"
    assert refusal_code(claim(institution_staff(institution_id), trainee_id)) == (
        "institution_claims_off"
    )
    app.handle(
        SetPolicy(
            principal=CITY_BUREAU,
            policy=SubsidyPolicy(institutions_may_claim=True),
            effective_from=date(2026, 1, 1),
        )
    )
    assert refusal_code(claim(institution_staff(uuid4()), trainee_id)) == "not_your_trainee"
    assert app.beneficiary(trainee_id).claim_ids == []

    filed = claim(institution_staff(institution_id), trainee_id)()
    assert (filed.trainee_id, filed.applied_by_role) == (trainee_id, Role.TRAINING_INSTITUTION)
    assert claim(trainee(trainee_id), trainee_id)().trainee_id == trainee_id
    assert len(app.beneficiary(trainee_id).claim_ids) == 2


async def test_a_keyed_command_sent_again_takes_effect_once(subsidy: InMemoryService) -> None:
    app, trainee_id = subsidy.application, uuid4()
    principal = trainee(trainee_id)
    file = FileClaim(
        principal=principal,
        trainee_id=None,
        programme_id=uuid4(),
        occupation_code=OCCUPATION,
        level=Level.JUNIOR,
    )
    key = IdempotencyKey(principal.actor, "claim-1", fingerprint("POST", "/claims", b"{}"))
    first, again = app.handle(file, key), app.handle(file, key)
    assert again.id == first.id
    assert app.beneficiary(trainee_id).claim_ids == [first.id]

    standards = len(app.rules().standards)
    standard = SetStandard(
        principal=CITY_BUREAU,
        occupation_code=OCCUPATION,
        level=Level.SENIOR,
        amount_fen=320_000,
        effective_from=date(2027, 1, 1),
        effective_to=None,
    )
    key = IdempotencyKey(CITY_BUREAU.actor, "std-1", fingerprint("POST", "/standards", b"{}"))
    assert app.handle(standard, key) == app.handle(standard, key)
    assert len(app.rules().standards) == standards + 1


async def test_an_employer_records_a_reimbursement_as_its_own_once(
    subsidy: InMemoryService,
) -> None:
    app, employer_id = subsidy.application, uuid4()
    record = RecordReimbursement(
        principal=employer_staff(employer_id),
        trainee_id=uuid4(),
        programme_id=uuid4(),
        amount_fen=380_000,
    )
    reimbursement = app.handle(record)
    assert (reimbursement.employer_id, reimbursement.reimbursed_on) == (employer_id, NOW.date())
    again = RecordReimbursement(**{**vars(record), "principal": employer_staff(uuid4())})
    assert refusal_code(lambda: app.handle(again)) == "already_reimbursed"


async def test_a_revocation_is_learnt_and_decides_no_waiting_claim(
    subsidy: InMemoryService,
) -> None:
    trainee_id = uuid4()
    file_claim(subsidy, trainee_id, uuid4())  # waiting for the enrolment
    (changed,) = consumers.on_certificate_revoked(subsidy.application, revoked(trainee_id))
    assert changed.id == Beneficiary.id_for(trainee_id)  # the beneficiary alone, not the claim
    assert list(changed.revoked) == ["HZSZ2026-2021011-J-000001"]
