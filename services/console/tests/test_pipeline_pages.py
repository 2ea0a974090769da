"""The pipeline's workspaces without the services (their answers mocked): the evaluation
institution's queue with an overdue case marked, a refusal of scores shown in Chinese naming the
field, the province's return refused without a reason before anything is sent, and the
sign-in of the new roles."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from heze_console.main import create_app
from heze_console.settings import ConsoleSettings

EVALUATOR = "0b8f7c0e-4b7e-5a55-9d0e-2f1b8c3d4e55"
TRAINEE = "5d7e0c2a-1111-4a4a-9b9b-0c0c0c0c0c0c"
APPLICATION = {
    "application_id": "a0000000-0000-4000-8000-000000000001",
    "trainee_id": TRAINEE,
    "evaluation_institution_id": EVALUATOR,
    "occupation_code": "2-02-10-11",
    "field": "big_data",
    "level": "junior",
    "status": "assigned",
    "route": "junior.bachelor",
    "declaration": {"education": "bachelor", "major_relevant": True, "years_in_occupation": 0},
    "commitment_text": "…",
    "commitment_signed_at": "2026-12-01T08:00:00Z",
    "session_id": "5e550000-0000-4000-8000-000000000001",
    "assessed_on": "2026-12-01",
    "theory_score": None,
    "practical_score": None,
    "voided": False,
    "reason": None,
}
CASE = {
    "case_id": "c0000000-0000-4000-8000-000000000001",
    "trainee_id": TRAINEE,
    "application_id": APPLICATION["application_id"],
    "evaluation_institution_id": EVALUATOR,
    "occupation_code": "2-02-10-11",
    "field": "big_data",
    "level": "junior",
    "holder_name": "王𠀀明",
    "assessment_ended_on": "2020-01-02",
    "status": "awaiting_report",
    "stage": "report_to_province",
    "due_on": "2020-02-01",
    "due_is_provisional": False,
    "returns": [],
    "certificate_number": None,
    "issued_on": None,
}
sent: list[httpx.Request] = []


def services(request: httpx.Request) -> httpx.Response:
    sent.append(request)
    path = request.url.path
    if path == "/institutions":
        return httpx.Response(200, json=[])
    if path == "/evaluation-institutions":
        return httpx.Response(
            200,
            json=[
                {
                    "evaluation_institution_id": EVALUATOR,
                    "name": "山东省数字技术工程师评价中心",
                    "occupations": {"2-02-10-11": "big_data"},
                    "suspended": False,
                }
            ],
        )
    if path == "/applications":
        return httpx.Response(200, json=[APPLICATION])
    if path.startswith("/sessions/") and request.method == "GET":
        session = {
            "session_id": APPLICATION["session_id"],
            "evaluation_institution_id": EVALUATOR,
            "occupation_code": "2-02-10-11",
            "level": "junior",
            "held_on": "2026-12-01",
            "place": "菏泽",
            "application_ids": [APPLICATION["application_id"]],
        }
        return httpx.Response(200, json=session)
    if path == "/cases":
        return httpx.Response(200, json=[CASE])
    if path.endswith("/scores"):
        error = {"code": "invalid_score", "message": "…", "field": "theory_score"}
        return httpx.Response(422, json={"error": error})
    if path == "/occupations":
        return httpx.Response(200, json=[])
    return httpx.Response(404, json={"error": {"code": "not_found", "message": "?"}})


def signed_in(tmp_path: Path, data: dict[str, str]) -> tuple[TestClient, str]:
    client = TestClient(
        create_app(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(services)),
        follow_redirects=False,
    )
    client.get("/sign-in")
    page = client.get("/sign-in").text
    assert "仅限开发环境" in page and "评价机构" in page and "国家审核部门" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post("/sign-in", data={**data, "csrf_token": token})
    assert answer.status_code == 303, answer.text
    return client, answer.headers["location"]


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_an_evaluation_institution_is_picked_from_assessments_list(tmp_path: Path) -> None:
    client = TestClient(
        create_app(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(services)),
        follow_redirects=False,
    )
    client.get("/sign-in")
    page = client.get("/sign-in").text
    assert "山东省数字技术工程师评价中心" in page
    data = {"role": "evaluation_institution", "csrf_token": csrf(page)}
    refused = client.post("/sign-in", data=data)
    assert refused.status_code == 422 and "评价机构：请选择" in refused.text


def test_the_evaluation_queue_marks_an_overdue_case_and_a_refusal_names_the_field(
    tmp_path: Path,
) -> None:
    client, workspace = signed_in(
        tmp_path, {"role": "evaluation_institution", "evaluation_institution_id": EVALUATOR}
    )
    assert workspace == "/evaluation"
    page = client.get("/evaluation")
    assert page.status_code == 200
    assert "山东省数字技术工程师评价中心" in page.text and "当前身份：评价机构" in page.text
    assert 'class="card case overdue' in page.text and "已逾期" in page.text
    assert "2020-02-01 前（已逾期" in page.text
    refused = client.post(
        f"/evaluation/sessions/{APPLICATION['session_id']}/applications/"
        f"{APPLICATION['application_id']}/scores",
        data={"theory_score": "101", "practical_score": "70", "csrf_token": csrf(page.text)},
    )
    assert refused.status_code == 422
    assert "理论考试成绩：成绩须在 0 到 100 之间，最多一位小数" in refused.text
    assert "{" not in refused.text.split("<main")[1].split("</main>")[0].replace("{{", "")


def test_a_return_without_a_reason_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    client, workspace = signed_in(tmp_path, {"role": "provincial_department"})
    assert workspace == "/province"
    page = client.get("/province").text
    sent.clear()
    refused = client.post(
        f"/province/cases/{CASE['case_id']}/return",
        data={"reasons": " \n ", "csrf_token": csrf(page)},
    )
    assert refused.status_code == 422 and "退回原因：请至少填写一条" in refused.text
    assert not [r for r in sent if r.method == "POST"]


def test_the_national_office_signs_in_to_its_queue(tmp_path: Path) -> None:
    client, workspace = signed_in(tmp_path, {"role": "national_office"})
    assert workspace == "/national"
    page = client.get("/national")
    assert page.status_code == 200 and "待审核（0 件）" in page.text
