"""Sheets uploaded to the console, on mocked services: an assessment session's scores by the
evaluation institution (the template of its applicants awaiting scores; every row checked
before anything is sent; the rows sent one by one with keys following their content, a refusal
midway named, the sheet uploaded again recording only what is missing), and the training
institution's hours sheet reported through the same report."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from fastapi.testclient import TestClient

from heze_console.main import create_app
from heze_console.settings import ConsoleSettings

EVALUATOR = "0b8f7c0e-4b7e-5a55-9d0e-2f1b8c3d4e55"
INSTITUTION = "6f1c3b52-33a8-5d53-b3b9-4d2a7b8f3a11"
SESSION = "5e550000-0000-4000-8000-000000000001"
OTHER_SESSION = "5e550000-0000-4000-8000-000000000002"
HEADER = ["申请编号", "学员编号", "理论考试成绩", "实操考核成绩"]
HOURS_HEADER = ["学员编号", "姓名", "日期", "学时", "类型", "方式"]


def application_id(n: int) -> str:
    return f"a0000000-0000-4000-8000-00000000000{n}"


def trainee_id(n: int) -> str:
    return f"5d7e0c2a-000{n}-4a4a-9b9b-0c0c0c0c0c0c"


def application(n: int, session_id: str | None, status: str = "assigned") -> dict[str, Any]:
    return {
        "application_id": application_id(n),
        "trainee_id": trainee_id(n),
        "evaluation_institution_id": EVALUATOR,
        "occupation_code": "2-02-10-11",
        "field": "big_data",
        "level": "junior",
        "status": status,
        "route": "junior.bachelor",
        "declaration": {"education": "bachelor", "major_relevant": True, "years_in_occupation": 0},
        "commitment_text": "…",
        "commitment_signed_at": "2026-12-01T08:00:00Z",
        "session_id": session_id,
        "assessed_on": "2026-12-01" if session_id else None,
        "theory_score": None,
        "practical_score": None,
        "voided": False,
        "reason": None,
    }


def session(session_id: str, held_on: str, place: str, ids: list[str]) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "evaluation_institution_id": EVALUATOR,
        "occupation_code": "2-02-10-11",
        "level": "junior",
        "held_on": held_on,
        "place": place,
        "application_ids": ids,
    }


@dataclass
class Assessment:
    """Assessment as the console meets it: sessions, applications (the listing a view that
    follows the recorded scores unless `view_lags`), scores recorded once, an `Idempotency-Key`
    answered as the first time; `refuse` names an application whose scores it refuses once."""

    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    listed: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, httpx.Response] = field(default_factory=dict)
    recordings: list[str] = field(default_factory=list)
    sent: list[httpx.Request] = field(default_factory=list)
    refuse: str | None = None
    view_lags: bool = False

    def __post_init__(self) -> None:
        # Session 1 (菏泽): 1, 2, 3 awaiting scores, 4 passed at 75 / 80. Session 2: 5 awaiting.
        for n, session_id in ((1, SESSION), (2, SESSION), (3, SESSION), (5, OTHER_SESSION)):
            self.applications[application_id(n)] = application(n, session_id)
        self.applications[application_id(4)] = {
            **application(4, SESSION, "passed"),
            "theory_score": "75.0",
            "practical_score": "80",
        }
        self.applications[application_id(6)] = application(6, None, "confirmed")
        self.sessions[SESSION] = session(
            SESSION, "2026-12-01", "菏泽", [application_id(n) for n in (1, 2, 3, 4)]
        )
        self.sessions[OTHER_SESSION] = session(
            OTHER_SESSION, "2026-12-08", "鄄城县", [application_id(5)]
        )
        self.listed = {key: dict(value) for key, value in self.applications.items()}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        path, method = request.url.path, request.method
        if path == "/evaluation-institutions":
            evaluator = {
                "evaluation_institution_id": EVALUATOR,
                "name": "山东省数字技术工程师评价中心",
                "occupations": {"2-02-10-11": "big_data"},
                "suspended": False,
            }
            return httpx.Response(200, json=[evaluator])
        if path == "/applications":
            return httpx.Response(200, json=list(self.listed.values()))
        if path == "/sessions":
            return httpx.Response(
                200,
                json=[
                    {
                        **{k: v for k, v in s.items() if k != "application_ids"},
                        "applicant_count": len(s["application_ids"]),
                    }
                    for s in self.sessions.values()
                ],
            )
        if match := re.fullmatch(r"/sessions/([^/]+)", path):
            found = self.sessions.get(match.group(1))
            if found is None:
                return httpx.Response(404, json={"error": {"code": "not_found", "message": "?"}})
            return httpx.Response(200, json=found)
        if match := re.fullmatch(r"/sessions/([^/]+)/applications/([^/]+)/scores", path):
            assert method == "PUT"
            return self.scores(request, match.group(1), match.group(2))
        if path in ("/cases", "/institutions", "/occupations", "/programmes"):
            return httpx.Response(200, json=[])
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "?"}})

    def scores(self, request: httpx.Request, session_id: str, app_id: str) -> httpx.Response:
        key = request.headers.get("Idempotency-Key")
        if key in self.answers:
            return self.answers[key]
        if self.refuse == app_id:
            self.refuse = None
            error = {"code": "institution_suspended", "message": "…"}
            return httpx.Response(409, json={"error": error})
        found = self.applications[app_id]
        if found["session_id"] != session_id:
            error = {"code": "not_assigned", "message": "…", "field": "application_id"}
            return httpx.Response(409, json={"error": error})
        if found["status"] != "assigned":
            return httpx.Response(409, json={"error": {"code": "already_scored", "message": "…"}})
        body = json.loads(request.content)
        passed = body["theory_score"] >= 60 and body["practical_score"] >= 60
        found.update(body, status="passed" if passed else "failed")
        self.recordings.append(app_id)
        if not self.view_lags:
            self.listed[app_id] = dict(found)
        answer = httpx.Response(200, json=found)
        if key:
            self.answers[key] = answer
        return answer

    def puts(self) -> list[tuple[str, dict[str, Any], str | None]]:
        """The scores sent: application, body and key, in order."""
        return [
            (
                request.url.path.split("/")[4],
                json.loads(request.content),
                request.headers.get("Idempotency-Key"),
            )
            for request in self.sent
            if request.method == "PUT"
        ]


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def signed_in(
    tmp_path: Path, handler: Callable[[httpx.Request], httpx.Response], data: dict[str, str]
) -> tuple[TestClient, str]:
    """A console signed in (the development sign-in); the CSRF token of its pages."""
    client = TestClient(
        create_app(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(handler)),
        follow_redirects=False,
    )
    client.get("/sign-in")
    answer = client.post("/sign-in", data={**data, "csrf_token": csrf(client.get("/sign-in").text)})
    assert answer.status_code == 303, answer.text
    return client, csrf(client.get(answer.headers["location"]).text)


@pytest.fixture
def assessment() -> Assessment:
    return Assessment()


@pytest.fixture
def evaluator(tmp_path: Path, assessment: Assessment) -> tuple[TestClient, str]:
    return signed_in(
        tmp_path,
        assessment,
        {"role": "evaluation_institution", "evaluation_institution_id": EVALUATOR},
    )


def as_xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    for row in [header, *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def as_csv(rows: list[list[object]], encoding: str = "utf-8-sig") -> bytes:
    lines = [",".join(str(cell) for cell in row) for row in [HEADER, *rows]]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def upload(
    client: TestClient,
    token: str | None,
    filename: str,
    content: bytes,
    session_id: str = SESSION,
) -> httpx.Response:
    return client.post(
        f"/evaluation/sessions/{session_id}/score-sheet",
        data={"csrf_token": token} if token else {},
        files={"sheet": (filename, content, "application/octet-stream")},
    )


def report(page: str) -> str:
    """The upload report's text, tags out."""
    found = re.search(r'<section class="card upload-result"[^>]*>(.*?)</section>', page, re.S)
    assert found, page
    section = found.group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def key(*content: object) -> str:
    text = "|".join(str(part) for part in ("scores", SESSION, *content))
    return "sheet-" + hashlib.sha256(text.encode()).hexdigest()


def test_each_session_awaiting_scores_has_a_sheet_form_and_a_template_of_those_applicants(
    evaluator: tuple[TestClient, str],
) -> None:
    client, _ = evaluator
    page = client.get("/evaluation").text
    forms = re.findall(r'<form[^>]*class="card form score-sheet"[^>]*>.*?</form>', page, re.S)
    assert len(forms) == 2  # 菏泽 (1, 2, 3) and 鄄城县 (5)
    [first] = [form for form in forms if f'data-session="{SESSION}"' in form]
    assert f'action="/evaluation/sessions/{SESSION}/score-sheet"' in first
    assert 'enctype="multipart/form-data"' in first and 'name="csrf_token"' in first
    assert "2026-12-01 菏泽 · 2-02-10-11 · 初级（3 人待录入）" in first
    assert "选择成绩表（.xlsx 或 .csv）" in first and ">校验并导入成绩</button>" in first
    assert f'href="/evaluation/sessions/{SESSION}/score-template.xlsx"' in first
    # The browser test clicks 录入成绩 and 安排考核 by name: no other button holds them.
    buttons = re.findall(r"<button[^>]*>(.*?)</button>", page, re.S)
    assert [b for b in buttons if "录入成绩" in b] == ["录入成绩"] * 4  # 1, 2, 3 and 5
    assert [b for b in buttons if "安排考核" in b] == ["安排考核"]  # 6 awaits a session

    template = client.get(f"/evaluation/sessions/{SESSION}/score-template.xlsx")
    assert template.status_code == 200
    assert "scores-template-2026-12-01.xlsx" in template.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(template.content)).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows == [
        HEADER,  # no 姓名: the applications the console reads carry no name
        *([application_id(n), trainee_id(n), None, None] for n in (1, 2, 3)),
    ]


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        (
            "成绩.xlsx",
            as_xlsx(
                [
                    [application_id(1), trainee_id(1), 85.5, 90],
                    [None, None, None, None],  # blank rows are left out, the numbering kept
                    [application_id(2).upper(), trainee_id(2), 58, "72.0"],
                ]
            ),
        ),
        (
            "成绩.csv",
            as_csv(
                [
                    [application_id(1), trainee_id(1), "85.50", "90"],
                    ["", "", "", ""],
                    [application_id(2), trainee_id(2), "58", "72"],
                ],
                "gb18030",
            ),
        ),
    ],
)
def test_a_good_sheet_sends_its_rows_one_by_one_with_keys_following_their_content(
    evaluator: tuple[TestClient, str], assessment: Assessment, filename: str, content: bytes
) -> None:
    client, token = evaluator
    done = upload(client, token, filename, content)
    assert (done.status_code, done.headers["location"]) == (303, "/evaluation#scores-title")
    assert assessment.puts() == [
        (
            application_id(1),
            {"theory_score": 85.5, "practical_score": 90},
            key(application_id(1), "85.5", "9E+1"),
        ),
        (
            application_id(2),
            {"theory_score": 58, "practical_score": 72},
            key(application_id(2), "58", "72"),
        ),
    ]
    assert f"「{filename}」已导入 2 名考生的成绩：考核合格 1 人，考核不合格 1 人。" in (
        client.get("/evaluation").text
    )


def test_every_bad_row_is_named_by_row_and_column_and_nothing_is_sent(
    evaluator: tuple[TestClient, str], assessment: Assessment
) -> None:
    client, token = evaluator
    assessment.sent.clear()
    refused = upload(
        client,
        token,
        "成绩.csv",
        as_csv(
            [
                [application_id(1), trainee_id(1), "85", "90"],
                [application_id(2), trainee_id(2), "101", "85.55"],
                [application_id(5), trainee_id(5), "70", "70"],  # another session's
                [application_id(1), trainee_id(1), "85", "90"],
                [application_id(3), trainee_id(1), "", "abc"],
                [application_id(6), trainee_id(6), "-1", "NaN"],
                ["", trainee_id(3), "60", "60"],
            ]
        ),
    )
    assert refused.status_code == 422
    assert not [request for request in assessment.sent if request.method == "PUT"]
    text = report(refused.text)
    assert "「成绩.csv」未能全部导入（2026-12-01 在菏泽的考核）" in text
    assert "校验发现 11 处错误， 整张表未导入任何记录 。" in text
    errors = re.findall(r"<li>(.*?)</li>", refused.text.split('class="row-errors"')[1])
    assert errors == [
        "第 3 行「理论考试成绩」：须在 0 到 100 之间",
        "第 3 行「实操考核成绩」：最多一位小数",
        "第 4 行「申请编号」：不是本场考核的考生（请使用本场下载的模板）",
        "第 5 行「申请编号」：与第 2 行重复：每名考生只填一行",
        f"第 6 行「学员编号」：与申请中的学员编号「{trainee_id(3)}」不一致",
        "第 6 行「理论考试成绩」：必填",
        "第 6 行「实操考核成绩」：「abc」不是数字",
        "第 7 行「申请编号」：不是本场考核的考生（请使用本场下载的模板）",
        "第 7 行「理论考试成绩」：须在 0 到 100 之间",
        "第 7 行「实操考核成绩」：须在 0 到 100 之间",
        "第 8 行「申请编号」：必填",
    ]


def test_an_application_scored_already_is_refused_in_the_sheet_for_a_correction(
    evaluator: tuple[TestClient, str], assessment: Assessment
) -> None:
    client, token = evaluator
    refused = upload(
        client,
        token,
        "成绩.xlsx",
        as_xlsx(
            [
                [application_id(1), trainee_id(1), 85, 90],
                [application_id(4), trainee_id(4), 78, 80],
            ]
        ),
    )
    assert refused.status_code == 422 and assessment.puts() == []
    assert (
        "第 3 行「申请编号」：该考生的成绩已录入（理论 75.0，实操 80.0），不能再次录入；"
        "如需修改，请在「成绩录入与更正」中对该考生提交更正并填写更正原因"
    ) in report(refused.text)


def test_a_refusal_midway_is_named_and_the_sheet_again_records_only_what_is_missing(
    evaluator: tuple[TestClient, str], assessment: Assessment
) -> None:
    client, token = evaluator
    rows = [[application_id(n), trainee_id(n), 60 + n, 70] for n in (1, 2, 3)]
    assessment.refuse = application_id(2)
    refused = upload(client, token, "成绩.xlsx", as_xlsx(rows))
    assert refused.status_code == 422
    text = report(refused.text)
    assert "第 3 行被拒绝：机构已被暂停，不能办理此项业务" in text
    assert "已记录的行：2；未发送的行：4。" in text
    assert "修改第 3 行后重新上传整张表即可：已记录的行不会重复记录。" in text
    assert [put[0] for put in assessment.puts()] == [application_id(1), application_id(2)]
    assert assessment.recordings == [application_id(1)]

    # Uploaded again: row 2 is recorded with these scores (the page shows it): not sent again.
    assessment.sent.clear()
    done = upload(client, token, "成绩.xlsx", as_xlsx(rows))
    assert done.status_code == 303
    assert assessment.puts() == [
        (
            application_id(n),
            {"theory_score": 60 + n, "practical_score": 70},
            key(application_id(n), 60 + n, "7E+1"),
        )
        for n in (2, 3)
    ]
    assert assessment.recordings == [application_id(n) for n in (1, 2, 3)]
    assert (
        "「成绩.xlsx」已导入 2 名考生的成绩：考核合格 2 人，考核不合格 0 人。"
        "另有 1 名考生此前已录入相同成绩，未重复发送。"
    ) in client.get("/evaluation").text

    # The whole sheet once more: everything is recorded, nothing is sent.
    assessment.sent.clear()
    assert upload(client, token, "成绩.xlsx", as_xlsx(rows)).status_code == 303
    assert assessment.puts() == []
    assert "「成绩.xlsx」中的3 名考生此前已录入相同成绩，未重复发送。" in (
        client.get("/evaluation").text
    )


def test_a_row_recorded_that_the_page_still_shows_awaiting_is_answered_by_its_key(
    evaluator: tuple[TestClient, str], assessment: Assessment
) -> None:
    client, token = evaluator
    assessment.view_lags = True  # the listing has not followed the scores recorded yet
    rows = [[application_id(n), trainee_id(n), 80, 80] for n in (1, 2)]
    assessment.refuse = application_id(2)
    assert upload(client, token, "成绩.csv", as_csv(rows)).status_code == 422
    first_key = assessment.puts()[0][2]
    assessment.sent.clear()
    assert upload(client, token, "成绩.csv", as_csv(rows)).status_code == 303
    assert [(put[0], put[2]) for put in assessment.puts()] == [
        (application_id(1), first_key),  # sent again with the same key: answered as before
        (application_id(2), key(application_id(2), "8E+1", "8E+1")),
    ]
    assert assessment.recordings == [application_id(1), application_id(2)]  # each once


def test_a_sheet_post_without_the_csrf_token_or_of_another_shape_is_refused(
    evaluator: tuple[TestClient, str], assessment: Assessment
) -> None:
    client, token = evaluator
    good = as_xlsx([[application_id(1), trainee_id(1), 85, 90]])
    assert upload(client, None, "成绩.xlsx", good).status_code == 403
    assert upload(client, "forged", "成绩.xlsx", good).status_code == 403
    hours = as_xlsx([["t-1", "王明", "2026-03-02", 8, "理论", "线上"]], HOURS_HEADER)
    refused = upload(client, token, "学时.xlsx", hours)
    assert refused.status_code == 422
    assert "第 1 行应为表头，缺少列：申请编号、理论考试成绩、实操考核成绩（请使用下载的模板）" in (
        report(refused.text)
    )
    assert assessment.puts() == []


def test_a_sheet_larger_than_the_upload_limit_is_refused_whole(
    tmp_path: Path, assessment: Assessment
) -> None:
    client = TestClient(
        create_app(
            ConsoleSettings(data_dir=tmp_path, max_upload_bytes=1_000_000),
            httpx.MockTransport(assessment),
        ),
        follow_redirects=False,
    )
    client.get("/sign-in")
    data = {"role": "evaluation_institution", "evaluation_institution_id": EVALUATOR}
    client.post("/sign-in", data={**data, "csrf_token": csrf(client.get("/sign-in").text)})
    token = csrf(client.get("/evaluation").text)
    rows = [[application_id(1), trainee_id(1), 85, 90]] + [["", "", "", ""]] * 250_000
    refused = upload(client, token, "成绩.csv", as_csv(rows))
    assert refused.status_code == 422 and "文件超过 1 MB，请分批上传" in report(refused.text)
    assert assessment.puts() == []


PROGRAMME = "p0000000-0000-4000-8000-000000000001"


def enrollment() -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    """Enrollment for the hours sheet: one programme, two trainees; a session of trainee 2 on
    2026-03-03 refused (the day would pass 24 hours)."""
    sent: list[httpx.Request] = []
    programme = {
        "programme_id": PROGRAMME,
        "title": "大数据工程技术人员（初级）",
        "level": "junior",
        "starts_on": "2026-03-01",
        "ends_on": "2026-06-30",
        "seats_taken": 2,
        "capacity": 30,
        "required_hours": {"theory": 80, "practice": 48},
        "completion_pass_mark": 60,
    }
    roster = [
        {
            "trainee_id": trainee_id(n),
            "name": name,
            "status": "enrolled",
            "enrolled_on": "2026-02-20",
            "hours_by_kind": {},
            "exam_score": None,
            "certificate_number": None,
        }
        for n, name in ((1, "王𠀀明"), (2, "李䶮"))
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        path = request.url.path
        if path == "/institutions":
            institution = {"institution_id": INSTITUTION, "name": "中国石油大学(华东)"}
            return httpx.Response(200, json=[{**institution, "suspended": False}])
        if path == "/evaluation-institutions":
            return httpx.Response(200, json=[])
        if path == f"/programmes/{PROGRAMME}":
            return httpx.Response(200, json=programme)
        if path == f"/programmes/{PROGRAMME}/roster":
            return httpx.Response(200, json=roster)
        if path.endswith("/sessions") and request.method == "POST":
            if trainee_id(2) in path and json.loads(request.content)["date"] == "2026-03-03":
                error = {"code": "daily_hours_exceeded", "message": "…", "field": "hours"}
                return httpx.Response(422, json={"error": error})
            return httpx.Response(201, json={})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "?"}})

    return handler, sent


def test_the_hours_sheet_reports_as_before(tmp_path: Path) -> None:
    handler, sent = enrollment()
    client, _ = signed_in(
        tmp_path, handler, {"role": "training_institution", "institution_id": INSTITUTION}
    )
    token = csrf(client.get(f"/institution/programmes/{PROGRAMME}").text)

    def hours(rows: list[list[object]]) -> httpx.Response:
        return client.post(
            f"/institution/programmes/{PROGRAMME}/sheet",
            data={"csrf_token": token},
            files={
                "sheet": ("第一周.xlsx", as_xlsx(rows, HOURS_HEADER), "application/octet-stream")
            },
        )

    refused = hours([[trainee_id(1), "王𠀀明", "2026-03-02", 8, "理论课", "线上"]])
    assert refused.status_code == 422
    assert report(refused.text) == (
        " 「第一周.xlsx」未能全部导入 校验发现 1 处错误， 整张表未导入任何记录 。请修改后重新上传："
        " 第 2 行「类型」：须为“理论”或“实践” "
    )

    week = [
        [trainee_id(1), "王𠀀明", "2026-03-02", 8, "理论", "线上"],
        [trainee_id(2), "李䶮", "2026-03-03", 17, "实践", "线下"],
        [trainee_id(1), "王𠀀明", "2026-03-04", 8, "实践", "线下"],
    ]
    sent.clear()
    refused = hours(week)
    assert refused.status_code == 422
    text = report(refused.text)
    assert "第 3 行被拒绝：学时：该学员当天累计学时将超过 24 小时" in text
    assert "已记录的行：2；未发送的行：4。" in text
    posts = [r for r in sent if r.method == "POST"]
    assert len(posts) == 2 and all(r.headers["Idempotency-Key"].startswith("sheet-") for r in posts)

    week[1][2] = "2026-03-05"
    done = hours(week)
    assert done.status_code == 303
    assert (
        "「第一周.xlsx」已导入 3 条学时记录。"
        in client.get(f"/institution/programmes/{PROGRAMME}").text
    )
