"""Title recognition and entrepreneurship-loan eligibility from the city's policy data."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from heze_certification.domain.policy import (
    PolicyTerms,
    Recognition,
    loan_eligibility,
    title_recognition,
)
from heze_certification.domain.talent import TalentRecord
from heze_contracts.enums import Field, Level

TERMS = PolicyTerms(
    exam_based_title_series=["卫生系列"],
    loan_levels=[Level.INTERMEDIATE, Level.SENIOR],
    loan_counties=["牡丹区"],
    loan_requires_employer=True,
)


def test_junior_and_intermediate_are_recognised_without_review_except_exam_based_series() -> None:
    assert title_recognition(Level.JUNIOR, "工程系列", TERMS) is Recognition.WITHOUT_SECOND_REVIEW
    assert (
        title_recognition(Level.INTERMEDIATE, "工程系列", TERMS)
        is Recognition.WITHOUT_SECOND_REVIEW
    )
    assert (
        title_recognition(Level.INTERMEDIATE, "卫生系列", TERMS) is Recognition.EXAMINATION_REQUIRED
    )
    assert (
        title_recognition(Level.SENIOR, "工程系列", TERMS)
        is Recognition.REFERENCE_FOR_SENIOR_REVIEW
    )


def test_loan_eligibility_names_each_unmet_condition() -> None:
    record = TalentRecord.open(uuid4())
    record.learn_person("白龙马", "11010519491231002X", "曹县", False, date(2026, 1, 1))
    record.note_certificate(
        "HZSZ2026-2021011-J-000001",
        Field.BIG_DATA,
        Level.JUNIOR,
        date(2026, 5, 1),
        date(2026, 5, 1),
    )
    assert loan_eligibility(record, TERMS) == [
        "a valid certificate at an eligible level",
        "registration in an eligible county",
        "an employer",
    ]
    assert loan_eligibility(record, PolicyTerms()) == []


def test_admission_waits_for_the_county_whichever_arrives_last() -> None:
    record = TalentRecord.open(uuid4())
    record.note_certificate(
        "HZSZ2026-2021011-J-000002",
        Field.BIG_DATA,
        Level.JUNIOR,
        date(2026, 5, 1),
        date(2026, 5, 1),
    )
    assert not any(isinstance(e, TalentRecord.AdmittedToPool) for e in record.collect_events())
    record.learn_person("白龙马", "11010519491231002X", "曹县", True, date(2026, 5, 2))
    admitted = [e for e in record.collect_events() if isinstance(e, TalentRecord.AdmittedToPool)]
    assert [(e.county, e.admitted_on) for e in admitted] == [("曹县", date(2026, 5, 2))]


def test_an_admission_says_whether_the_person_enters_the_pool_with_it() -> None:
    record = TalentRecord.open(uuid4())
    record.learn_person("白龙马", "11010519491231002X", "曹县", False, date(2026, 5, 1))

    def admit(number: str) -> bool | None:
        record.note_certificate(
            number, Field.BIG_DATA, Level.JUNIOR, date(2026, 5, 2), date(2026, 5, 2)
        )
        (admitted,) = [
            e for e in record.collect_events() if isinstance(e, TalentRecord.AdmittedToPool)
        ]
        return admitted.enters_pool

    assert admit("HZSZ2026-2021011-J-000001") is True  # the first certificate: enters
    assert admit("HZSZ2026-2021011-J-000002") is False  # a member already
    record.note_revocation("HZSZ2026-2021011-J-000001")
    assert admit("HZSZ2026-2021011-J-000003") is False  # still holds the second
    record.note_revocation("HZSZ2026-2021011-J-000002")
    record.note_revocation("HZSZ2026-2021011-J-000003")
    assert admit("HZSZ2026-2021011-J-000004") is True  # held none any more: enters again
