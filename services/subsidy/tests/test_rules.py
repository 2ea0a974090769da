"""Subsidy decisions: eligibility facts, the one-year window, the yearly cap, standards."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from heze_common import clock
from heze_common.persistence import JsonTranscoder, PydanticMapper
from heze_contracts.enums import Level, Role
from heze_subsidy.domain.beneficiary import Beneficiary, Enrolment
from heze_subsidy.domain.claim import Claim, ClaimStatus
from heze_subsidy.domain.rules import RequiredCertificate, SubsidyPolicy, SubsidyRules, Window

BIG_DATA = "2-02-10-11"
START = date(2023, 1, 1)
ISSUED = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)


def rules(**policy: object) -> SubsidyRules:
    book = SubsidyRules(policy=SubsidyPolicy(**policy), effective_from=START)
    book.set_standard(BIG_DATA, Level.JUNIOR, 150_000, START, None)
    book.set_standard("2-02-10-12", Level.JUNIOR, 150_000, START, None)
    book.set_standard("2-02-10-13", Level.JUNIOR, 150_000, START, None)
    book.set_standard("2-02-10-14", Level.JUNIOR, 150_000, START, None)
    return book


def eligible(
    beneficiary: Beneficiary, code: str = BIG_DATA, level: Level = Level.JUNIOR, plan: bool = True
) -> UUID:
    programme = uuid4()
    beneficiary.learn_enrolment(Enrolment(programme, uuid4(), code, level, plan))
    beneficiary.learn_completion(programme, code, level, f"HZPX-{programme.hex[:6]}")
    beneficiary.learn_level_certificate(f"HZSZ-{programme.hex[:6]}", code, level, ISSUED)
    return programme


def claim_for(
    beneficiary: Beneficiary, programme: UUID, code: str = BIG_DATA, level: Level = Level.JUNIOR
) -> Claim:
    claim = Claim(
        trainee_id=beneficiary.trainee_id,
        programme_id=programme,
        occupation_code=code,
        level=level,
        applied_by_role=Role.TRAINEE,
        applied_by="trainee:x",
    )
    beneficiary.file(claim.id)
    return claim


def test_complete_facts_approve_with_the_standard_recorded() -> None:
    book, person = rules(), Beneficiary.open(uuid4())
    claim = claim_for(person, eligible(person))
    claim.settle(person, book, date(2026, 5, 1))
    approved = claim.collect_events()[-1]
    assert claim.status is ClaimStatus.APPROVED and claim.amount_fen == 150_000
    assert approved.standard.effective_from == START and approved.policy_effective_from == START


def test_missing_facts_wait_and_a_forced_decision_names_what_is_missing() -> None:
    book, person = rules(), Beneficiary.open(uuid4())
    programme = uuid4()
    claim = claim_for(person, programme)
    claim.settle(person, book, date(2026, 5, 1))
    assert (claim.status, claim.waiting_for) == (
        ClaimStatus.WAITING,
        "no enrolment of the trainee in this programme is known",
    )
    person.learn_enrolment(Enrolment(programme, uuid4(), BIG_DATA, Level.JUNIOR, True))
    claim.settle(person, book, date(2026, 5, 1))
    assert claim.waiting_for == "the training has not been completed"
    person.learn_completion(programme, BIG_DATA, Level.JUNIOR, "HZPX-1")
    claim.settle(person, book, date(2026, 5, 1))
    assert claim.waiting_for == "no valid level certificate of this occupation and level"
    claim.settle(person, book, date(2026, 5, 1), force=True)
    assert (claim.status, claim.reason_code) == (ClaimStatus.REJECTED, "certificate_missing")


def test_the_training_certificate_suffices_when_the_city_says_so() -> None:
    book, person = (
        rules(required_certificate=RequiredCertificate.TRAINING),
        Beneficiary.open(uuid4()),
    )
    programme = uuid4()
    person.learn_enrolment(Enrolment(programme, uuid4(), BIG_DATA, Level.JUNIOR, True))
    person.learn_completion(programme, BIG_DATA, Level.JUNIOR, "HZPX-1")
    claim = claim_for(person, programme)
    claim.settle(person, book, date(2026, 5, 1))
    assert claim.status is ClaimStatus.APPROVED


def test_a_programme_outside_the_subsidised_plan_is_refused_at_once() -> None:
    book, person = rules(), Beneficiary.open(uuid4())
    claim = claim_for(person, eligible(person, plan=False))
    claim.settle(person, book, date(2026, 5, 1))
    assert (claim.status, claim.reason_code) == (ClaimStatus.REJECTED, "not_in_subsidised_plan")


def test_a_revoked_level_certificate_does_not_count() -> None:
    book, person = rules(), Beneficiary.open(uuid4())
    programme = eligible(person)
    person.learn_revocation(f"HZSZ-{programme.hex[:6]}", ISSUED + timedelta(days=3), "承诺不实")
    claim = claim_for(person, programme)
    claim.settle(person, book, date(2026, 5, 1), force=True)
    assert claim.reason_code == "certificate_missing"


def test_a_certificate_revoked_before_the_claim_was_filed_does_not_count() -> None:
    book, person = rules(), Beneficiary.open(uuid4())
    programme = eligible(person)
    person.learn_revocation(f"HZSZ-{programme.hex[:6]}", ISSUED + timedelta(days=3), "承诺不实")
    with clock.frozen_at(ISSUED + timedelta(days=10)):
        claim = claim_for(person, programme)
    claim.settle(person, book, date(2026, 5, 1))
    assert claim.status is ClaimStatus.WAITING
    assert claim.waiting_for == "no valid level certificate of this occupation and level"


def test_a_revocation_after_the_facts_were_complete_cancels_the_approval_when_it_overtakes_them() -> (
    None
):
    """The claim was filed and the certificate issued, then revoked; the enrolment arrives last
    (the enrollment topic lagged). In the order things happened the claim was approved before
    the revocation, which then cancelled it: so it is approved, and cancelled, now too."""
    book, person = rules(), Beneficiary.open(uuid4())
    with clock.frozen_at(ISSUED - timedelta(days=10)):
        claim = claim_for(person, programme := uuid4())
    person.learn_level_certificate(f"HZSZ-{programme.hex[:6]}", BIG_DATA, Level.JUNIOR, ISSUED)
    person.learn_revocation(f"HZSZ-{programme.hex[:6]}", ISSUED + timedelta(days=3), "承诺不实")
    person.learn_completion(programme, BIG_DATA, Level.JUNIOR, "HZPX-1")
    person.learn_enrolment(Enrolment(programme, uuid4(), BIG_DATA, Level.JUNIOR, True))
    claim.settle(person, book, date(2026, 5, 1))
    approved, cancelled = (e for e in claim.collect_events() if not isinstance(e, Claim.Filed))
    assert isinstance(approved, Claim.Approved) and isinstance(cancelled, Claim.Cancelled)
    assert (claim.status, claim.reason) == (ClaimStatus.CANCELLED, "承诺不实")


@pytest.mark.parametrize(
    ("days_later", "status"),
    [(364, ClaimStatus.REJECTED), (365, ClaimStatus.APPROVED), (366, ClaimStatus.APPROVED)],
)
def test_rolling_window_same_occupation_and_level(days_later: int, status: ClaimStatus) -> None:
    book, person = rules(), Beneficiary.open(uuid4())
    first = claim_for(person, eligible(person))
    first.settle(person, book, date(2025, 3, 1))
    second = claim_for(person, eligible(person))
    second.settle(person, book, date(2025, 3, 1) + timedelta(days=days_later))
    assert second.status is status
    if status is ClaimStatus.REJECTED:
        assert second.reason_code == "already_subsidised"


@pytest.mark.parametrize(
    ("second_day", "status"),
    [(date(2025, 12, 31), ClaimStatus.REJECTED), (date(2026, 1, 1), ClaimStatus.APPROVED)],
)
def test_calendar_year_window(second_day: date, status: ClaimStatus) -> None:
    book, person = rules(window=Window.CALENDAR_YEAR), Beneficiary.open(uuid4())
    first = claim_for(person, eligible(person))
    first.settle(person, book, date(2025, 1, 2))
    second = claim_for(person, eligible(person))
    second.settle(person, book, second_day)
    assert second.status is status


def test_the_yearly_cap_counts_approvals_in_the_window() -> None:
    book, person = rules(yearly_cap=3), Beneficiary.open(uuid4())
    for code in (BIG_DATA, "2-02-10-12", "2-02-10-13"):
        claim = claim_for(person, eligible(person, code), code)
        claim.settle(person, book, date(2026, 2, 1))
        assert claim.status is ClaimStatus.APPROVED
    fourth = claim_for(person, eligible(person, "2-02-10-14"), "2-02-10-14")
    fourth.settle(person, book, date(2026, 3, 1))
    assert (fourth.status, fourth.reason_code) == (ClaimStatus.REJECTED, "yearly_cap_reached")


def test_a_claim_uses_the_standard_in_force_on_its_decision_date() -> None:
    book, person = (
        SubsidyRules(policy=SubsidyPolicy(), effective_from=START),
        Beneficiary.open(uuid4()),
    )
    book.set_standard(BIG_DATA, Level.JUNIOR, 150_000, START, date(2026, 6, 30))
    raised = book.set_standard(BIG_DATA, Level.JUNIOR, 180_000, date(2026, 7, 1), None)
    before = claim_for(person, eligible(person))
    before.settle(person, book, date(2026, 6, 30))
    other = Beneficiary.open(uuid4())
    after = claim_for(other, eligible(other))
    after.settle(other, book, date(2026, 7, 1))
    assert (before.amount_fen, after.amount_fen) == (150_000, 180_000)
    assert after.standard_id == raised.standard_id


def test_a_claim_for_another_occupation_than_the_programme_is_refused() -> None:
    book, person = rules(), Beneficiary.open(uuid4())
    claim = claim_for(person, eligible(person), "2-02-10-12")
    claim.settle(person, book, date(2026, 5, 1))
    assert claim.reason_code == "programme_mismatch"


def test_certificate_facts_stored_before_version_2_read_as_happening_when_they_were_learnt() -> (
    None
):
    mapper, learnt_at = PydanticMapper(transcoder=JsonTranscoder()), "2026-04-02T08:30:00Z"
    stored = {
        Beneficiary.LevelCertificateLearnt: {
            "certificate_number": "HZSZ2026-2021011-J-000001",
            "occupation_code": BIG_DATA,
            "level": "junior",
        },
        Beneficiary.LevelCertificateRevoked: {"certificate_number": "HZSZ2026-2021011-J-000001"},
    }
    for event_class, state in stored.items():
        event = mapper.to_domain_event(
            StoredEvent(
                originator_id=uuid4(),
                originator_version=2,
                topic=event_class.TOPIC,
                state=json.dumps({**state, "timestamp": learnt_at}).encode(),
            )
        )
        happened_at = getattr(event, "issued_at", None) or event.revoked_at
        assert happened_at == datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
