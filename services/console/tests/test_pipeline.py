"""The pipeline's pure parts: deadlines as the queues mark them, the queues' order, reasons typed
one per line, what a waiting claim waits for, and the applications remembered per trainee."""

from __future__ import annotations

from datetime import date

from heze_console import pipeline
from heze_console.errors import MESSAGES

TODAY = date(2026, 12, 2)


def case(status: str = "awaiting_confirmation", **fields: object) -> dict[str, object]:
    return {
        "status": status,
        "stage": "province_confirmation",
        "due_on": None,
        "due_is_provisional": False,
        **fields,
    }


def test_a_deadline_counts_the_days_left_and_says_when_it_is_overdue() -> None:
    later = pipeline.deadline(case(due_on="2026-12-09"), TODAY)
    assert (later.stage, later.days_left, later.overdue) == ("省级确认", 7, False)
    assert later.text == "2026-12-09 前（剩余 7 天）"
    today = pipeline.deadline(case(due_on="2026-12-02"), TODAY)
    assert (today.overdue, today.text) == (False, "2026-12-02 前（今天到期）")
    late = pipeline.deadline(case(due_on="2026-11-29"), TODAY)
    assert (late.days_left, late.overdue, late.text) == (-3, True, "2026-11-29 前（已逾期 3 天）")


def test_a_provisional_deadline_says_so_and_the_national_review_has_none() -> None:
    provisional = pipeline.deadline(case(due_on="2027-01-15", due_is_provisional=True), TODAY)
    assert provisional.provisional and "暂定" in provisional.text
    national = pipeline.deadline(case("awaiting_approval", stage="national_review"), TODAY)
    assert (national.stage, national.due_on, national.overdue) == ("国家审核", None, False)
    assert national.text == "无办理时限"
    issued = pipeline.deadline(case("issued", stage=None), TODAY)
    assert issued.stage == "证书已颁发"


def test_a_queue_puts_the_overdue_first_then_the_soonest_due_then_those_without_one() -> None:
    cases = [
        case(due_on=None, name="none"),
        case(due_on="2026-12-20", name="later"),
        case(due_on="2026-11-30", name="late"),
        case(due_on="2026-12-05", name="soon"),
        case(due_on="2026-12-05", name="soon, opened after"),
    ]
    ordered = [c["name"] for c in pipeline.by_urgency(cases, TODAY)]
    assert ordered == ["late", "soon", "soon, opened after", "later", "none"]


def test_reasons_are_one_a_line_and_blank_lines_are_dropped() -> None:
    assert pipeline.reasons(" 姓名与身份证不符 \n\n  成绩单缺页\r\n ") == [
        "姓名与身份证不符",
        "成绩单缺页",
    ]
    assert pipeline.reasons("  \n ") == []


def test_what_a_claim_waits_for_reads_in_chinese() -> None:
    assert pipeline.waiting_for("certificate_missing") == "等待该职业该等级的等级证书"
    assert pipeline.waiting_for(None) == "等待所需信息"  # waiting since before the code
    # What a claim waits for is what a forced decision refuses it for: the same codes.
    assert set(pipeline.WAITING_FOR) <= set(MESSAGES)
    assert pipeline.yuan(150000) == "1,500.00 元" and pipeline.yuan(None) == ""


def test_every_state_has_a_chinese_name() -> None:
    for names in (pipeline.APPLICATION_STATUS, pipeline.CASE_STATUS, pipeline.CLAIM_STATUS):
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in names.values())
    assert len(pipeline.COMMITMENT_TEXT) < 4000  # the service's limit for the signed text


def test_every_state_the_services_have_is_named() -> None:
    """The services' own vocabularies (read here only, never by the console's code)."""
    from heze_assessment.domain.application import Status
    from heze_certification.domain.case import CaseStatus
    from heze_subsidy.domain.claim import ClaimStatus

    assert {s.value for s in Status} == set(pipeline.APPLICATION_STATUS)
    assert {s.value for s in CaseStatus} == set(pipeline.CASE_STATUS)
    assert {s.value for s in ClaimStatus} == set(pipeline.CLAIM_STATUS)


def test_the_waits_named_are_the_subsidy_services_own_words() -> None:
    from pathlib import Path

    claim = Path(__file__).resolve().parents[2] / "subsidy/src/heze_subsidy/domain/claim.py"
    source = " ".join(claim.read_text().split())
    for english in pipeline.WAITING_FOR:
        assert f'"{english}"' in source, english


def test_every_route_of_the_default_rules_has_a_chinese_name() -> None:
    from heze_assessment.domain.conditions import INTELLIGENT_MANUFACTURING_STANDARD

    names = {
        r.name for routes in INTELLIGENT_MANUFACTURING_STANDARD.routes.values() for r in routes
    }
    assert names == set(pipeline.ROUTES)
