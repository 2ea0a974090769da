"""The pipeline's workspaces without the services (their answers mocked): the evaluation
institution's queue with an overdue case marked, a refusal of scores shown in Chinese naming the
field, every session listed (an empty one too) and given a confirmed applicant, the province's
return and a payment refused without their reason or reference before
anything is sent, the national office's reasons sent one a line, an application sending the
commitment text shown (and a repeat finding the first), and the sign-in of the new roles."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
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
CONFIRMED = {
    **APPLICATION,
    "application_id": "a0000000-0000-4000-8000-000000000002",
    "trainee_id": "5d7e0c2a-2222-4a4a-9b9b-0c0c0c0c0c0c",
    "status": "confirmed",
    "session_id": None,
    "assessed_on": None,
}
"""Confirmed, not yet assigned: the sessions of its occupation and level may take it."""
SESSION = {
    "session_id": APPLICATION["session_id"],
    "evaluation_institution_id": EVALUATOR,
    "occupation_code": "2-02-10-11",
    "level": "junior",
    "held_on": "2026-12-01",
    "place": "菏泽",
}
EMPTY_SESSION = {
    **SESSION,
    "session_id": "5e550000-0000-4000-8000-000000000002",
    "held_on": "2026-12-08",
    "place": "菏泽学院 实训楼",
}
"""Scheduled, its assignment then refused: no applicant, listed all the same."""
OTHER_LEVEL_SESSION = {
    **SESSION,
    "session_id": "5e550000-0000-4000-8000-000000000003",
    "level": "intermediate",
    "held_on": "2026-12-15",
    "place": "鄄城县",
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
REPORTED = {
    **CASE,
    "case_id": "c0000000-0000-4000-8000-000000000002",
    "holder_name": "李四",
    "status": "awaiting_confirmation",
    "stage": "province_confirmation",
    "due_on": "2020-02-14",
}
"""In the province's queue."""
CONFIRMED_CASE = {
    **CASE,
    "case_id": "c0000000-0000-4000-8000-000000000003",
    "holder_name": "张三",
    "status": "awaiting_approval",
    "stage": "national_review",
    "due_on": None,
}
"""In the national office's queue."""
CASES = [CASE, REPORTED, CONFIRMED_CASE]
"""In opening order."""
sent: list[httpx.Request] = []


def listed_cases(request: httpx.Request) -> httpx.Response:
    """`GET /cases` as the service answers it: by status, in opening order or newest first, one
    page of `limit` with a link to the next when more follow."""
    params = request.url.params
    cases = [case for case in CASES if params.get("status") in (None, case["status"])]
    if params.get("order") == "newest":
        cases.reverse()
    if "after" in params:
        ids = [case["case_id"] for case in cases]
        cases = cases[ids.index(params["after"]) + 1 :]
    limit = int(params.get("limit", "100"))
    page, headers = cases[:limit], {}
    if len(cases) > limit:
        following = request.url.copy_merge_params({"after": page[-1]["case_id"]})
        headers["Link"] = f'<{following}>; rel="next"'
    return httpx.Response(200, json=page, headers=headers)


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
        return httpx.Response(200, json=[APPLICATION, CONFIRMED])
    if path == "/sessions" and request.method == "GET":
        listed = [
            {**OTHER_LEVEL_SESSION, "applicant_count": 0},
            {**SESSION, "applicant_count": 1},
            {**EMPTY_SESSION, "applicant_count": 0},
        ]
        return httpx.Response(200, json=listed)
    if path == f"/sessions/{EMPTY_SESSION['session_id']}/assignments":
        assigned = json.loads(request.content)["application_ids"]
        return httpx.Response(200, json={**EMPTY_SESSION, "application_ids": assigned})
    if path == f"/sessions/{OTHER_LEVEL_SESSION['session_id']}/assignments":
        error = {"code": "wrong_session", "message": "…", "field": "application_ids"}
        return httpx.Response(409, json={"error": error})
    if path == "/cases":
        return listed_cases(request)
    if path.endswith("/scores"):
        error = {"code": "invalid_score", "message": "…", "field": "theory_score"}
        return httpx.Response(422, json={"error": error})
    if path in ("/occupations", "/claims", "/programmes"):
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


def test_every_session_is_listed_and_takes_confirmed_applicants_of_its_level(
    tmp_path: Path,
) -> None:
    client, _ = signed_in(
        tmp_path, {"role": "evaluation_institution", "evaluation_institution_id": EVALUATOR}
    )
    sent.clear()
    page = client.get("/evaluation").text
    # The list only: no session is read one by one.
    assert [r.url.path for r in sent if r.url.path.startswith("/sessions")] == ["/sessions"]
    table = page.split('id="sessions-table"')[1].split("</table>")[0]
    rows = re.findall(r'<tr data-session="([^"]+)">(.*?)</tr>', table, re.S)
    # By date, the one without applicants too.
    assert [session_id for session_id, _ in rows] == [
        SESSION["session_id"],
        EMPTY_SESSION["session_id"],
        OTHER_LEVEL_SESSION["session_id"],
    ]
    (_, assigned), (_, empty), (_, other_level) = rows
    assert "2026-12-08" in empty and "菏泽学院 实训楼" in empty and "（尚无考生）" in empty
    assert "2-02-10-11 · 初级" in empty and ">0" in empty and ">1<" in assigned
    for row in (assigned, empty):  # the confirmed applicant may join either junior session
        assert f'value="{CONFIRMED["application_id"]}"' in row and "加入此场考核" in row
    assert "加入此场考核" not in other_level and "无待安排的考生" in other_level

    sent.clear()
    nobody = client.post(
        f"/evaluation/sessions/{EMPTY_SESSION['session_id']}/assignments",
        data={"csrf_token": csrf(page)},
    )
    assert nobody.status_code == 422 and "考生：请至少选择一名资格审核通过的申请人" in nobody.text
    assert not [r for r in sent if r.method == "POST"]

    done = client.post(
        f"/evaluation/sessions/{EMPTY_SESSION['session_id']}/assignments",
        data={"application_ids": CONFIRMED["application_id"], "csrf_token": csrf(page)},
    )
    assert (done.status_code, done.headers["location"]) == (303, "/evaluation#scores-title")
    [assignment] = [r for r in sent if r.method == "POST"]
    assert json.loads(assignment.content) == {"application_ids": [CONFIRMED["application_id"]]}
    assert "已将考生 1 人加入 2026-12-08 在菏泽学院 实训楼的考核，该场共 1 人。" in (
        client.get("/evaluation").text
    )

    refused = client.post(
        f"/evaluation/sessions/{OTHER_LEVEL_SESSION['session_id']}/assignments",
        data={"application_ids": CONFIRMED["application_id"], "csrf_token": csrf(page)},
    )
    assert refused.status_code == 422
    assert "考核场次的职业或等级与申请不符" in refused.text

    forged = client.post(
        f"/evaluation/sessions/{EMPTY_SESSION['session_id']}/assignments",
        data={"application_ids": CONFIRMED["application_id"], "csrf_token": "forged"},
    )
    assert forged.status_code == 403


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


def cases_asked(requests: list[httpx.Request]) -> list[dict[str, str]]:
    """The queries of `GET /cases` sent (those of one page in any order)."""
    asked = [dict(r.url.params) for r in requests if r.url.path == "/cases"]
    return sorted(asked, key=lambda query: sorted(query.items()))


def queue_and_others(page: str) -> tuple[str, str]:
    queue = page.split('id="queue-title"')[1].split('id="others-title"')[0]
    others = page.split('id="others-title"')[1].split("</table>")[0]
    return queue, others


def test_the_province_reads_its_queue_by_status_and_one_page_of_the_latest_cases(
    tmp_path: Path,
) -> None:
    client, _ = signed_in(tmp_path, {"role": "provincial_department"})
    sent.clear()
    page = client.get("/province").text
    # Its queue by status (every page of it), the others from one page of the latest.
    assert cases_asked(sent) == [
        {"order": "newest", "limit": "100"},
        {"status": "awaiting_confirmation", "limit": "500"},
    ]
    queue, others = queue_and_others(page)
    assert "待确认（1 件）" in page and f'data-case="{REPORTED["case_id"]}"' in queue
    assert CASE["case_id"] not in queue and CONFIRMED_CASE["case_id"] not in queue
    assert "2020-02-14 前（已逾期" in queue and "省级确认" in queue
    assert "其他证书办理事项（2 件）" in others and "更早的未列出" not in page
    rows = re.findall(r'<tr data-case="([^"]+)"', others)
    assert rows == [CONFIRMED_CASE["case_id"], CASE["case_id"]]  # the newest first


def test_the_other_cases_are_the_latest_hundred_when_more_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = [
        {**CASE, "case_id": f"c0000000-0000-4000-8000-{index:012d}"} for index in range(10, 130)
    ]
    monkeypatch.setitem(globals(), "CASES", [REPORTED, CONFIRMED_CASE, *many])
    client, _ = signed_in(tmp_path, {"role": "provincial_department"})
    sent.clear()
    page = client.get("/province").text
    assert len(cases_asked(sent)) == 2  # one page of the latest, not the whole history
    queue, others = queue_and_others(page)
    assert "待确认（1 件）" in page and REPORTED["case_id"] in queue
    assert "其他证书办理事项（最近 100 件中的 100 件）" in others and "更早的未列出" in others
    rows = re.findall(r'<tr data-case="([^"]+)"', others)
    assert rows == [case["case_id"] for case in many[::-1][:100]]


def test_the_national_office_signs_in_to_its_queue(tmp_path: Path) -> None:
    client, workspace = signed_in(tmp_path, {"role": "national_office"})
    assert workspace == "/national"
    sent.clear()
    page = client.get("/national")
    assert page.status_code == 200 and "待审核（1 件）" in page.text
    assert cases_asked(sent) == [
        {"order": "newest", "limit": "100"},
        {"status": "awaiting_approval", "limit": "500"},
    ]
    queue, others = queue_and_others(page.text)
    assert f'data-case="{CONFIRMED_CASE["case_id"]}"' in queue and "无办理时限" in queue
    assert CONFIRMED_CASE["case_id"] not in others
    assert re.findall(r'<tr data-case="([^"]+)"', others) == [REPORTED["case_id"], CASE["case_id"]]


TRAINEE_RECORD = {
    "trainee_id": TRAINEE,
    "name": "王𠀀明",
    "id_number": "371702199505050115",
    "sex": "male",
    "birth_date": "1995-05-05",
    "phone": "13912345678",
    "education": "bachelor",
    "major": "数据科学与大数据技术",
    "employer": None,
    "county": "曹县",
    "participant_category": "digital_worker",
    "registered_on": "2026-12-01",
    "enrolments": [
        {
            "programme_id": "b0000000-0000-4000-8000-000000000001",
            "institution_id": "6f1c3b52-33a8-5d53-b3b9-4d2a7b8f3a11",
            "occupation_code": "2-02-10-11",
            "field": "big_data",
            "level": "junior",
            "status": "completed",
            "enrolled_on": "2026-11-01",
            "required_hours": {"theory": "80", "practice": "48"},
            "hours_by_kind": {"theory": "80", "practice": "48"},
            "hours_by_mode": {},
            "exam_score": "86.5",
            "training_certificate_number": "HZPX2026-2021011-000001",
            "completed_on": "2026-12-01",
        }
    ],
}


def trainee_services(request: httpx.Request) -> httpx.Response:
    sent.append(request)
    path = request.url.path
    if path == f"/trainees/{TRAINEE}":
        return httpx.Response(200, json=TRAINEE_RECORD)
    if path == "/programmes/b0000000-0000-4000-8000-000000000001":
        programme = {"programme_id": path.rsplit("/", 1)[1], "title": "大数据初级班"}
        return httpx.Response(200, json=programme)
    if path == "/applications" and request.method == "POST":
        details = {"application_id": APPLICATION["application_id"]}
        error = {"code": "already_applied", "message": "…", "details": details}
        return httpx.Response(409, json={"error": error})
    if path in ("/programmes", "/claims", "/cases"):
        return httpx.Response(200, json=[])
    if path == "/applications":  # the trainee's own (the service narrows it to the token's)
        return httpx.Response(200, json=[{**APPLICATION, "status": "awaiting_review"}])
    if path.endswith("/eligibility"):
        return httpx.Response(200, json={"certificates": []})
    return services(request)


def test_an_application_sends_the_commitment_shown_and_a_repeat_finds_the_first(
    tmp_path: Path,
) -> None:
    from heze_console.pipeline import COMMITMENT_TEXT

    client = TestClient(
        create_app(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(trainee_services)),
        follow_redirects=False,
    )
    client.get("/sign-in")
    token = csrf(client.get("/sign-in").text)
    data = {"role": "trainee", "trainee_id": TRAINEE, "csrf_token": token}
    assert client.post("/sign-in", data=data).headers["location"] == "/trainee"
    programme_id = TRAINEE_RECORD["enrolments"][0]["programme_id"]  # type: ignore[index]
    form = client.get(f"/trainee/applications/new?programme_id={programme_id}").text
    assert COMMITMENT_TEXT.split("\n")[1][:20] in form
    sent.clear()
    refused = client.post(
        "/trainee/applications",
        data={
            "programme_id": programme_id,
            "evaluation_institution_id": EVALUATOR,
            "education": "bachelor",
            "major_relevant": "yes",
            "years_in_occupation": "0",
            "commitment_signed": "yes",
            "csrf_token": csrf(form),
        },
    )
    assert refused.status_code == 422 and "已提交同一职业同一等级的评价申请" in refused.text
    [application] = [r for r in sent if r.url.path == "/applications"]
    body = json.loads(application.content)
    assert body["commitment_text"] == COMMITMENT_TEXT and body["commitment_signed"] is True
    assert (body["occupation_code"], body["level"]) == ("2-02-10-11", "junior")
    assert body["declaration"]["major_relevant"] is True
    page = client.get("/trainee").text  # the application it already had is listed
    assert f'data-application="{APPLICATION["application_id"]}"' in page and "待资格审核" in page


def test_the_national_office_sends_back_the_reasons_one_a_line(tmp_path: Path) -> None:
    client, _ = signed_in(tmp_path, {"role": "national_office"})
    page = client.get("/national").text
    sent.clear()
    client.post(
        f"/national/cases/{CASE['case_id']}/rejection",
        data={"reasons": "姓名有误\r\n\r\n 成绩单缺页 ", "csrf_token": csrf(page)},
    )
    [rejection] = [r for r in sent if r.method == "POST"]
    assert json.loads(rejection.content) == {"reasons": ["姓名有误", "成绩单缺页"]}


def test_a_payment_needs_its_reference_before_anything_is_sent(tmp_path: Path) -> None:
    client, workspace = signed_in(tmp_path, {"role": "city_bureau"})
    assert workspace == "/city"
    sent.clear()
    refused = client.post(
        "/city/claims/c1/payment",
        data={"payment_reference": " ", "csrf_token": csrf(client.get("/verify").text)},
    )
    assert refused.status_code == 422 and "支付凭证号：必填" in refused.text
    assert not [r for r in sent if r.method == "POST"]
