"""Pending decisions in either order, qualification review, scores, corrections, voiding."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from assessment_builders import OCCUPATION, a_candidate, an_application

from heze_assessment.domain.application import Application, Status
from heze_assessment.domain.session import AssessmentSession
from heze_common.errors import Refusal
from heze_contracts.enums import Level


@contextmanager
def refusal(code: str, field: str | None = None) -> Iterator[None]:
    with pytest.raises(Refusal) as refused:
        yield
    assert refused.value.code == code, refused.value.message
    if field is not None:
        assert refused.value.field == field


def completed(candidate, level: Level = Level.JUNIOR) -> None:  # noqa: ANN001
    candidate.record_completion(OCCUPATION, level, "HZPX2026-2020713-000001", date(2026, 11, 20))


def test_an_application_before_the_completion_waits_then_is_accepted() -> None:
    candidate = a_candidate()
    application = an_application(candidate)
    application.decide_on_training(candidate)
    assert application.status is Status.AWAITING_TRAINING
    completed(candidate)
    application.decide_on_training(candidate)
    assert application.status is Status.AWAITING_REVIEW


def test_the_decision_is_the_same_whichever_arrives_first() -> None:
    first = a_candidate()
    completed(first)
    early = an_application(first)
    early.decide_on_training(first)

    second = a_candidate()
    late = an_application(second)
    late.decide_on_training(second)
    completed(second)
    late.decide_on_training(second)

    assert early.status is late.status is Status.AWAITING_REVIEW
    assert early.training_certificate_number == late.training_certificate_number


def test_a_withdrawal_refuses_a_waiting_application() -> None:
    candidate = a_candidate()
    application = an_application(candidate)
    candidate.record_withdrawal(OCCUPATION, Level.JUNIOR)
    application.decide_on_training(candidate)
    assert (application.status, application.reason) == (
        Status.REFUSED,
        "the trainee withdrew from the training of this occupation and level",
    )


def test_training_of_another_level_is_not_the_proof() -> None:
    candidate = a_candidate()
    completed(candidate, Level.INTERMEDIATE)
    application = an_application(candidate, Level.JUNIOR)
    application.decide_on_training(candidate)
    assert application.status is Status.AWAITING_TRAINING


@pytest.fixture
def assigned() -> tuple[Application, AssessmentSession]:
    candidate = a_candidate()
    completed(candidate)
    application = an_application(candidate)
    application.decide_on_training(candidate)
    application.confirm_qualification()
    session = AssessmentSession(
        evaluation_institution_id=application.evaluation_institution_id,
        occupation_code=OCCUPATION,
        level=Level.JUNIOR,
        held_on=date(2026, 12, 5),
        place="鲁东大学 实训楼 201",
    )
    session.assign(application)
    return application, session


def test_review_is_only_for_accepted_applications() -> None:
    candidate = a_candidate()
    application = an_application(candidate)
    with refusal("wrong_stage"):
        application.confirm_qualification()


def test_only_confirmed_applicants_are_assigned() -> None:
    candidate = a_candidate()
    completed(candidate)
    application = an_application(candidate)
    application.decide_on_training(candidate)
    session = AssessmentSession(
        evaluation_institution_id=application.evaluation_institution_id,
        occupation_code=OCCUPATION,
        level=Level.JUNIOR,
        held_on=date(2026, 12, 5),
        place="x",
    )
    with refusal("wrong_stage"):
        session.assign(application)
    application.reject_qualification("学历证明不符")
    assert application.status is Status.REJECTED


@pytest.mark.parametrize(
    ("theory", "practical", "passed"),
    [("60", "60", True), ("59.9", "95", False), ("100", "59.9", False), ("75.5", "88", True)],
)
def test_pass_means_both_scores_at_least_60(
    assigned, theory: str, practical: str, passed: bool
) -> None:  # noqa: ANN001
    application, session = assigned
    application.record_scores(session.id, Decimal(theory), Decimal(practical))
    assert application.status is (Status.PASSED if passed else Status.FAILED)


@pytest.mark.parametrize(
    ("theory", "field"),
    [("100.1", "theory_score"), ("-1", "theory_score"), ("70.25", "theory_score")],
)
def test_scores_out_of_range_are_refused(assigned, theory: str, field: str) -> None:  # noqa: ANN001
    application, session = assigned
    with refusal("invalid_score", field):
        application.record_scores(session.id, Decimal(theory), Decimal(70))


def test_scores_for_an_unassigned_applicant_or_twice_are_refused(assigned) -> None:  # noqa: ANN001
    application, session = assigned
    with refusal("not_assigned", "application_id"):
        application.record_scores(uuid4(), Decimal(70), Decimal(70))
    application.record_scores(session.id, Decimal(70), Decimal(70))
    with refusal("already_scored"):
        application.record_scores(session.id, Decimal(80), Decimal(80))


def test_a_correction_is_its_own_event_and_a_pass_turned_fail_voids_the_pass(assigned) -> None:  # noqa: ANN001
    application, session = assigned
    application.record_scores(session.id, Decimal(70), Decimal(65))
    application.collect_events()
    application.correct_scores(session.id, Decimal(70), Decimal(55), "实操评分表合计错误")
    voided, corrected = application.collect_events()
    assert isinstance(voided, Application.ResultVoided) and "实操评分表合计错误" in voided.reason
    assert isinstance(corrected, Application.ScoreCorrected)
    assert (corrected.passed, corrected.was_passed, corrected.reason) == (
        False,
        True,
        "实操评分表合计错误",
    )
    assert application.status is Status.FAILED and application.voided


def test_a_result_is_voided_even_after_a_pass(assigned) -> None:  # noqa: ANN001
    application, session = assigned
    application.record_scores(session.id, Decimal(90), Decimal(90))
    application.void_result("学历证书核查不实")
    assert application.voided and application.reason == "学历证书核查不实"
    with refusal("already_voided"):
        application.void_result("again")
