"""Domain rules of the enrollment service, with the refusal code and field each names."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest
from enrollment_builders import (
    OFFLINE,
    ONLINE,
    PRACTICE,
    THEORY,
    TODAY,
    a_programme,
    a_trainee,
    refusal,
)

from heze_contracts.enums import Field, Level, RetirementGroup, Sex
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import Institution
from heze_enrollment.domain.occupations import seeded_occupation_table
from heze_enrollment.domain.programme import Programme
from heze_enrollment.domain.trainee import Trainee

# Registration


def test_a_declared_sex_that_differs_from_the_id_number_is_refused() -> None:
    with refusal("id_number_mismatch", "sex"):
        a_trainee(declared_sex=Sex.FEMALE)


def test_a_declared_birth_date_that_differs_from_the_id_number_is_refused() -> None:
    with refusal("id_number_mismatch", "birth_date"):
        a_trainee(declared_birth_date=date(1995, 6, 16))


def test_matching_declared_values_are_accepted() -> None:
    trainee = a_trainee(declared_sex=Sex.MALE, declared_birth_date=date(1995, 6, 15))
    assert (trainee.sex, trainee.birth_date) == (Sex.MALE, date(1995, 6, 15))


def test_a_pension_drawer_is_refused() -> None:
    with refusal("retired", "draws_pension"):
        a_trainee(draws_pension=True)


def test_a_man_past_the_reformed_retirement_age_is_refused() -> None:
    with refusal("retired", "id_number"):
        a_trainee(
            ResidentId.compose("371702", date(1965, 1, 15), 11), registered_on=date(2026, 3, 1)
        )
    assert a_trainee(
        ResidentId.compose("371702", date(1966, 5, 15), 11), registered_on=date(2026, 3, 1)
    )


def test_a_woman_must_state_her_retirement_group() -> None:
    with refusal("retirement_group_required", "retirement_group"):
        a_trainee(ResidentId.compose("371702", date(1990, 1, 1), 22), retirement_group=None)


def test_a_50_group_woman_past_her_age_is_refused_where_a_55_group_woman_is_not() -> None:
    number = ResidentId.compose("371702", date(1975, 6, 1), 22)
    with refusal("retired"):
        a_trainee(number, retirement_group=RetirementGroup.FEMALE_50)
    assert a_trainee(number, retirement_group=RetirementGroup.FEMALE_55)


def test_a_man_cannot_state_a_retirement_group() -> None:
    with refusal("retirement_group_not_applicable", "retirement_group"):
        a_trainee(retirement_group=RetirementGroup.FEMALE_55)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("phone", "12345", "invalid_phone"),
        ("county", "北京市", "unknown_county"),
        ("name", "  ", "blank_name"),
    ],
)
def test_invalid_registration_details_are_refused(field: str, value: str, code: str) -> None:
    with refusal(code, field):
        a_trainee(**{field: value})


# Institutions and programmes


def test_an_institution_trains_only_within_its_scope_and_not_when_suspended() -> None:
    institution = Institution.accredit(
        1, "中国石油大学(华东)", [Field.BIG_DATA, Field.BLOCKCHAIN], "唐莉", "0532-86980900"
    )
    institution.ensure_may_train(Field.BIG_DATA)
    with refusal("outside_scope", "occupation_code"):
        institution.ensure_may_train(Field.INTELLIGENT_MANUFACTURING)
    institution.suspend("资质复核")
    with refusal("institution_suspended"):
        institution.ensure_may_train(Field.BIG_DATA)
    institution.reinstate()
    institution.ensure_may_train(Field.BIG_DATA)


def test_an_institution_is_not_suspended_twice_nor_reinstated_when_active() -> None:
    institution = Institution.accredit(
        2, "中国海洋大学", [Field.BIG_DATA], "赵洪华", "0532-85902926"
    )
    with refusal("not_suspended"):
        institution.reinstate()
    institution.suspend("x")
    with refusal("already_suspended"):
        institution.suspend("x")


def test_programme_hours_below_the_bureau_requirement_are_refused() -> None:
    table = seeded_occupation_table()
    minimum = table.hour_requirement("2-02-10-11", Level.JUNIOR, date(2026, 11, 1))
    with refusal("below_required_hours", "required_hours.theory"):
        a_programme(
            required_hours={THEORY: Decimal("10.0"), PRACTICE: Decimal("60.0")}, minimum=minimum
        )
    assert a_programme(required_hours=None, minimum=minimum).required_hours == minimum.hours


def test_hour_requirements_follow_their_effective_dates() -> None:
    table = seeded_occupation_table()
    table.set_hour_requirement(
        "2-02-10-11", Level.JUNIOR, {THEORY: Decimal(100), PRACTICE: Decimal(60)}, date(2027, 1, 1)
    )
    assert table.hour_requirement("2-02-10-11", Level.JUNIOR, date(2026, 12, 31)).hours[
        THEORY
    ] == Decimal(80)
    assert table.hour_requirement("2-02-10-11", Level.JUNIOR, date(2027, 1, 1)).hours[
        THEORY
    ] == Decimal(100)


def test_programme_dates_and_capacity_are_checked() -> None:
    with refusal("invalid_dates", "ends_on"):
        a_programme(ends_on=date(2026, 10, 1))
    with refusal("invalid_capacity", "capacity"):
        a_programme(capacity=0)


# Enrolment


def test_a_full_programme_refuses_the_next_trainee() -> None:
    programme = a_programme(capacity=1)
    first, second = a_trainee(), a_trainee(ResidentId.compose("371702", date(1996, 1, 1), 13))
    first.enrol(programme, TODAY)
    programme.take_seat(first.id, TODAY)
    second.enrol(programme, TODAY)
    with refusal("programme_full", "programme_id"):
        programme.take_seat(second.id, TODAY)


def test_a_closed_or_ended_programme_refuses_enrolment() -> None:
    programme = a_programme()
    with refusal("programme_ended"):
        programme.take_seat(uuid4(), date(2027, 2, 1))
    programme.close_enrolment()
    with refusal("programme_closed"):
        programme.take_seat(uuid4(), TODAY)


def test_the_same_occupation_and_level_twice_is_refused_until_withdrawn() -> None:
    trainee, first, second = a_trainee(), a_programme(), a_programme()
    trainee.enrol(first, TODAY)
    with refusal("already_enrolled_same_level", "programme_id"):
        trainee.enrol(second, TODAY)
    trainee.withdraw(first.id, "时间冲突", TODAY)
    trainee.enrol(second, TODAY)
    assert trainee.enrolments[second.id].status == "enrolled"


def test_a_withdrawal_releases_the_seat() -> None:
    programme, trainee = a_programme(capacity=1), a_trainee()
    trainee.enrol(programme, TODAY)
    programme.take_seat(trainee.id, TODAY)
    programme.release_seat(trainee.id)
    assert not programme.is_full


# Training record and completion


@pytest.fixture
def enrolled() -> tuple[Trainee, Programme]:
    trainee, programme = a_trainee(), a_programme()
    trainee.enrol(programme, TODAY)
    return trainee, programme


def test_zero_or_negative_hours_are_refused(enrolled: tuple[Trainee, Programme]) -> None:
    trainee, programme = enrolled
    for hours in (Decimal(0), Decimal(-1)):
        with refusal("invalid_hours", "hours"):
            trainee.log_session(programme, TODAY, hours, THEORY, ONLINE)


def test_more_than_24_hours_in_a_day_is_refused(enrolled: tuple[Trainee, Programme]) -> None:
    trainee, programme = enrolled
    trainee.log_session(programme, TODAY, Decimal("20.0"), THEORY, ONLINE)
    trainee.log_session(programme, TODAY, Decimal("4.0"), PRACTICE, OFFLINE)
    with refusal("daily_hours_exceeded", "hours"):
        trainee.log_session(programme, TODAY, Decimal("0.1"), PRACTICE, OFFLINE)


def test_a_session_outside_the_programme_dates_is_refused(
    enrolled: tuple[Trainee, Programme],
) -> None:
    trainee, programme = enrolled
    with refusal("date_outside_programme", "date"):
        trainee.log_session(programme, date(2026, 10, 31), Decimal(2), THEORY, ONLINE)


def test_a_withdrawn_trainee_gets_no_hours(enrolled: tuple[Trainee, Programme]) -> None:
    trainee, programme = enrolled
    trainee.withdraw(programme.id, "工作调动", TODAY)
    with refusal("trainee_withdrawn"):
        trainee.log_session(programme, TODAY, Decimal(2), THEORY, ONLINE)


def test_completion_needs_every_hour_kind_and_a_passed_exam(
    enrolled: tuple[Trainee, Programme],
) -> None:
    trainee, programme = enrolled
    trainee.log_session(programme, TODAY, Decimal("8.0"), THEORY, ONLINE)
    with refusal("hours_not_met", "hours"):
        trainee.complete(programme.id, "HZPX2026-2021011-000001", TODAY)
    trainee.log_session(programme, TODAY, Decimal("4.0"), PRACTICE, OFFLINE)
    with refusal("exam_not_taken", "score"):
        trainee.complete(programme.id, "HZPX2026-2021011-000001", TODAY)
    trainee.record_exam(programme.id, Decimal("59.9"))
    with refusal("exam_not_passed", "score"):
        trainee.complete(programme.id, "HZPX2026-2021011-000001", TODAY)
    trainee.record_exam(programme.id, Decimal("60.0"))
    trainee.complete(programme.id, "HZPX2026-2021011-000001", TODAY)
    record = trainee.enrolments[programme.id]
    assert (record.status, record.certificate_number) == ("completed", "HZPX2026-2021011-000001")
    assert record.hours_by_mode == {ONLINE: Decimal("8.0"), OFFLINE: Decimal("4.0")}
    with refusal("already_completed"):
        trainee.record_exam(programme.id, Decimal(90))


def test_exam_scores_outside_0_to_100_are_refused(enrolled: tuple[Trainee, Programme]) -> None:
    trainee, programme = enrolled
    for score in (Decimal("-0.1"), Decimal("100.1"), Decimal("59.95")):
        with refusal("invalid_score", "score"):
            trainee.record_exam(programme.id, score)
