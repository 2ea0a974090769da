"""A sheet of an assessment session's scores (.xlsx or .csv), every row checked before any is
sent; the file is read, its rows numbered and sent as the sessions sheet's are (`sheets`).

One row per applicant: 申请编号, 学员编号, 理论考试成绩, 实操考核成绩 (the applications the
console reads carry no name, so the sheet has none). A row passes when its application is in
the session and still awaits its scores, its trainee id is the application's, and both scores
are numbers from 0 to 100 with at most one decimal place (assessment's `Mark`); an application
appears once. Scores are recorded once: an application scored already is refused unless the row
repeats the scores recorded, which is then counted as recorded and not sent again (a sheet
uploaded again after a refusal midway); a change goes through a correction with a reason. Each
row's `Idempotency-Key` follows the session, the application and the scores, so a row recorded
whose application the page still shows awaiting is answered as the first time, not refused."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import openpyxl

from heze_console import pipeline
from heze_console.sheets import Refuse, RowError, cell_text, one_decimal, row_key

COLUMNS = ("申请编号", "学员编号", "理论考试成绩", "实操考核成绩")
SCORES = (("theory_score", "理论考试成绩"), ("practical_score", "实操考核成绩"))
AWAITING = ("assigned",)
SCORED = ("passed", "failed")


@dataclass(frozen=True)
class Applicant:
    """An application of the session, as the sheet checks it."""

    application_id: str
    trainee_id: str
    status: str
    theory_score: Decimal | None = None
    practical_score: Decimal | None = None

    @classmethod
    def of(cls, application: Mapping[str, Any]) -> Applicant:
        def mark(name: str) -> Decimal | None:
            value = application.get(name)
            return None if value is None else Decimal(str(value))

        return cls(
            application["application_id"],
            application["trainee_id"],
            application["status"],
            mark("theory_score"),
            mark("practical_score"),
        )


@dataclass(frozen=True)
class ScoreRow:
    row: int
    application_id: str
    trainee_id: str
    theory_score: Decimal
    practical_score: Decimal
    idempotency_key: str

    def body(self) -> dict[str, Any]:
        return {
            "theory_score": float(self.theory_score),
            "practical_score": float(self.practical_score),
        }


def of_session(
    session: Mapping[str, Any], applications: Iterable[Mapping[str, Any]]
) -> dict[str, Applicant]:
    """The session's applications (its `application_ids`, in assignment order) by id."""
    known = {application["application_id"]: application for application in applications}
    return {
        application_id: Applicant.of(known[application_id])
        for application_id in session["application_ids"]
        if application_id in known
    }


def validate(
    rows: list[tuple[int, dict[str, Any]]],
    session_id: str,
    applicants: Mapping[str, Applicant],
) -> tuple[list[ScoreRow], list[ScoreRow], list[RowError]]:
    """Every row checked: the rows to send and the rows already recorded with these scores, both
    empty when any row failed, and the problems."""
    to_send: list[ScoreRow] = []
    recorded: list[ScoreRow] = []
    errors: list[RowError] = []
    first_row: dict[str, int] = {}
    for number, cells in rows:
        problems: list[RowError] = []

        def refuse(column: str, text: str, row: int = number) -> None:
            problems.append(RowError(row, column, text))

        application_id = cell_text(cells["申请编号"]).lower()
        trainee_id = cell_text(cells["学员编号"])
        applicant = applicants.get(application_id)
        if not application_id:
            refuse("申请编号", "必填")
        elif application_id in first_row:
            refuse("申请编号", f"与第 {first_row[application_id]} 行重复：每名考生只填一行")
        elif applicant is None:
            refuse("申请编号", "不是本场考核的考生（请使用本场下载的模板）")
        elif applicant.status not in AWAITING + SCORED:
            status = pipeline.APPLICATION_STATUS.get(applicant.status, applicant.status)
            refuse("申请编号", f"该申请当前为「{status}」，不能录入成绩")
        if application_id:
            first_row.setdefault(application_id, number)
        if applicant is not None and trainee_id != applicant.trainee_id:
            refuse(
                "学员编号",
                f"与申请中的学员编号「{applicant.trainee_id}」不一致" if trainee_id else "必填",
            )
        theory, practical = (_mark(cells[column], column, refuse) for _, column in SCORES)
        if (
            applicant is not None
            and applicant.status in SCORED
            and (theory, practical) != (applicant.theory_score, applicant.practical_score)
        ):
            refuse(
                "申请编号",
                f"该考生的成绩已录入（理论 {_shown(applicant.theory_score)}，实操"
                f" {_shown(applicant.practical_score)}），不能再次录入；如需修改，请在"
                "「成绩录入与更正」中对该考生提交更正并填写更正原因",
            )
        if problems:
            errors.extend(problems)
            continue
        assert applicant is not None and theory is not None and practical is not None
        line = ScoreRow(
            number,
            application_id,
            trainee_id,
            theory,
            practical,
            idempotency_key=row_key(
                "scores", session_id, application_id, theory.normalize(), practical.normalize()
            ),
        )
        (recorded if applicant.status in SCORED else to_send).append(line)
    if errors:
        return [], [], errors
    return to_send, recorded, errors


def _mark(cell: Any, column: str, refuse: Refuse) -> Decimal | None:
    mark = one_decimal(cell, column, refuse, lambda m: Decimal(0) <= m <= 100, "须在 0 到 100 之间")
    return None if mark is None else abs(mark)  # -0 is 0, for the key


def _shown(mark: Decimal | None) -> str:
    return "—" if mark is None else f"{mark:.1f}"


def template(session: Mapping[str, Any], applicants: Iterable[Applicant]) -> bytes:
    """An .xlsx template: the header and one line per applicant of the session awaiting scores."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = f"考核成绩 {session['held_on']}"
    sheet.append(list(COLUMNS))
    for applicant in applicants:
        if applicant.status in AWAITING:
            sheet.append([applicant.application_id, applicant.trainee_id, None, None])
    for column in ("A", "B"):
        sheet.column_dimensions[column].width = 40
    for column in ("C", "D"):
        sheet.column_dimensions[column].width = 16
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
