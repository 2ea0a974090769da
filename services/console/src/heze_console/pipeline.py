"""The pipeline after training as the pages show it: the Chinese names of the applications',
cases' and claims' states, each case's deadline as a queue marks it (overdue, provisional, days
left), reasons typed one per line, the commitment a trainee signs, and what a waiting subsidy
claim waits for. Pure functions: the services decide, these only say it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from heze_contracts.enums import CertificateStage, Education, Level

APPLICATION_STATUS = {
    "awaiting_training": "等待培训结业信息",
    "awaiting_review": "待资格审核",
    "refused": "未受理",
    "confirmed": "资格审核通过，待安排考核",
    "rejected": "资格审核未通过",
    "assigned": "已安排考核",
    "passed": "考核合格",
    "failed": "考核不合格",
}

CASE_STATUS = {
    "awaiting_report": "待评价机构上报省人社厅",
    "awaiting_confirmation": "待省人社厅确认",
    "awaiting_approval": "待国家审核",
    "awaiting_issuance": "已通过国家审核，待颁发证书",
    "issued": "证书已颁发",
    "revoked": "证书已撤销",
    "closed": "已关闭（评价结果作废）",
}

CLAIM_STATUS = {
    "waiting": "等待审核条件齐备",
    "approved": "已批准，待发放",
    "rejected": "未通过",
    "paid": "已发放",
    "cancelled": "已撤销",
}

WAITING_FOR = {
    "not_enrolled": "等待培训报名信息",
    "not_completed": "等待培训结业信息",
    "certificate_missing": "等待该职业该等级的等级证书",
    "no_standard": "等待该职业该等级的补贴标准",
}
"""What a waiting claim waits for, by the subsidy service's `waiting_for_code`."""

COMMITMENT_TEXT = (
    "数字技术工程师等级评价告知承诺书\n"
    "本人自愿申请参加数字技术工程师专业技术等级评价，已知晓并理解申报条件。"
    "本人承诺：所填报的学历、专业、职称、从业年限、已取得的等级等信息真实、准确、完整；"
    "如经核查发现承诺不实，本人愿意承担相应责任，接受评价结果作废、已颁发证书撤销、"
    "已领取补贴追回，并在规定期限内不得再次申请该职业的评价，相关情况记入诚信档案。"
)
"""The commitment (告知承诺书) the applicant reads and signs; its exact text goes with the
application and is kept with it."""

TITLES = (
    ("technician", "技术员"),
    ("assistant_engineer", "助理工程师"),
    ("engineer", "工程师"),
    ("senior_engineer", "高级工程师"),
)
"""The professional titles an applicant may declare (assessment's `Title`), lowest first."""

ROUTES = {
    "junior.title": "具有技术员及以上职称",
    "junior.bachelor": "相关专业本科及以上学历（含应届毕业生）",
    "junior.college_1y": "相关专业大专及以上学历，从事本职业 1 年以上",
    "intermediate.title_2y": "具有助理工程师及以上职称，从事本职业 2 年以上",
    "intermediate.college_junior_3y": "大专及以上学历，取得初级证书后从事本职业 3 年以上",
    "intermediate.master_junior_1y": "第二学士学位或研究生学历，取得初级证书后从事本职业 1 年以上",
    "intermediate.doctorate": "相关专业博士研究生学历",
    "senior.title_3y": "具有工程师及以上职称，从事本职业 3 年以上",
    "senior.bachelor_intermediate_4y": "本科及以上学历，取得中级证书后从事本职业 4 年以上",
    "senior.doctorate_intermediate_1y": "博士研究生学历，取得中级证书后从事本职业 1 年以上",
}
"""The routes of the default rule set (the 智能制造 standard's); rules the province sets may name
others, shown as they are named."""

TITLE_SERIES = "工程技术"
"""The title series the trainee's certificates are looked up under (the eligibility endpoint
lists every valid certificate whatever the series; the series only changes the recognition)."""

MAX_REASONS = 20


@dataclass(frozen=True)
class Deadline:
    """A case's current stage and its due date as a queue shows them."""

    stage: str
    due_on: date | None
    provisional: bool
    days_left: int | None
    """Negative once overdue; None when the stage has no due date (the national review)."""

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def text(self) -> str:
        if self.due_on is None:
            return "无办理时限"
        provisional = "（暂定：该年度节假日安排尚未公布，按工作日推算）" if self.provisional else ""
        if self.days_left is None or self.days_left > 0:
            when = f"剩余 {self.days_left} 天" if self.days_left is not None else ""
        elif self.days_left == 0:
            when = "今天到期"
        else:
            when = f"已逾期 {-self.days_left} 天"
        return f"{self.due_on.isoformat()} 前（{when}）{provisional}"


def deadline(case: dict[str, Any], today: date) -> Deadline:
    """The case's stage and due date, counted against `today` (the certification service set
    the due date by its rules; this only counts the days left)."""
    stage = case.get("stage")
    stage_text = CertificateStage(stage).label if stage else CASE_STATUS.get(case["status"], "")
    due = date.fromisoformat(case["due_on"]) if case.get("due_on") else None
    return Deadline(
        stage=stage_text,
        due_on=due,
        provisional=bool(case.get("due_is_provisional")),
        days_left=(due - today).days if due else None,
    )


def by_urgency(cases: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """A queue's cases, the overdue first, then by due date (none last), then in opening order."""

    def key(indexed: tuple[int, dict[str, Any]]) -> tuple[int, str, int]:
        index, case = indexed
        due = case.get("due_on")
        return (0 if due and date.fromisoformat(due) < today else 1, due or "9999", index)

    return [case for _, case in sorted(enumerate(cases), key=key)]


def reasons(text: str) -> list[str]:
    """Reasons typed one per line (blank lines dropped)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def waiting_for(code: str | None) -> str:
    """A claim made waiting before the service gave the code has none: it waits all the same."""
    return WAITING_FOR.get(code or "", "等待所需信息")


def route(name: str) -> str:
    return ROUTES.get(name, name)


_UNMET = (
    (re.compile(r"title (\w+) or higher"), lambda m: f"{_title(m[1])}及以上职称"),
    (re.compile(r"education (\w+) or higher"), lambda m: f"{_education(m[1])}及以上学历"),
    (re.compile(r"a relevant major"), lambda m: "相关专业"),
    (re.compile(r"the (\w+) level certificate"), lambda m: f"{_level(m[1])}证书"),
    (re.compile(r"(\d+) year\(s\) in the occupation"), lambda m: f"从事本职业 {m[1]} 年以上"),
)


def unmet(details: dict[str, Any]) -> str:
    """What an application lacked for each route (`conditions_not_met`'s `unmet`), in Chinese:
    e.g. 「相关专业本科及以上学历（含应届毕业生）：缺相关专业」."""
    parts = []
    for name, missing in (details.get("unmet") or {}).items():
        said = []
        for condition in missing:
            said.append(
                next(
                    (say(m) for pattern, say in _UNMET if (m := pattern.fullmatch(condition))),
                    condition,
                )
            )
        parts.append(f"{route(name)}：缺{'、'.join(said)}")
    return "；".join(parts)


def _title(value: str) -> str:
    return dict(TITLES).get(value, value)


def _education(value: str) -> str:
    try:
        return Education(value).label
    except ValueError:
        return value


def _level(value: str) -> str:
    try:
        return Level(value).label
    except ValueError:
        return value


def yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen / 100:,.2f} 元"
