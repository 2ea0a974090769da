"""The auditors' workspace without the services (their answers mocked): a person found by ID
number, their trail across the four services in time order with Chinese text as written, their
record as of a date, each service's checkpoints and its self-check (clean, or its findings in
Chinese, a refusal described, a post without the CSRF token refused); and a bad date or an unknown
number refused in Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from heze_console.main import create_app
from heze_console.settings import ConsoleSettings

pytestmark = pytest.mark.fast

TRAINEE = "5d7e0c2a-1111-4a4a-9b9b-0c0c0c0c0c0c"
ID_NUMBER = "11010519491231002X"
SERVICE_OF_PORT = {8001: "enrollment", 8002: "assessment", 8003: "certification", 8004: "subsidy"}
sent: list[httpx.Request] = []
CLEAN = {
    "service": "certification",
    "verified": True,
    "checkpoints": 3,
    "head": 41,
    "findings": [],
    "findings_total": 0,
}
TAMPERED = {
    "service": "enrollment",
    "verified": False,
    "checkpoints": 2,
    "head": 41,
    "findings": [
        {
            "position": 7,
            "kind": "altered",
            "detail": "the stored event differs from its chained hash",
        },
        {"position": 40, "kind": "truncated", "detail": "positions 39-40 are gone"},
    ],
    "findings_total": 2,
}


def event(service: str, at: str, topic: str, **data: object) -> dict[str, object]:
    return {
        "service": service,
        "aggregate_id": TRAINEE,
        "version": 1,
        "topic": topic,
        "timestamp": at,
        "actor": "trainee:x",
        "correlation_id": "00000000-0000-4000-8000-000000000009",
        "causation_id": None,
        "data": data,
    }


TRAILS = {
    "enrollment": [
        event(
            "enrollment", "2026-03-01T08:00:00Z", "enrollment.Trainee.Registered.v1", name="王𠀀明"
        )
    ],
    "assessment": [event("assessment", "2026-09-01T08:00:00Z", "assessment.Application.Filed.v1")],
    "certification": [
        event("certification", "2026-06-01T08:00:00Z", "certification.TalentRecord.Opened.v1")
    ],
    "subsidy": [],
}


def services(request: httpx.Request) -> httpx.Response:
    sent.append(request)
    path, service = request.url.path, SERVICE_OF_PORT.get(request.url.port or 0, "")
    if path == "/institutions" or path == "/evaluation-institutions":
        return httpx.Response(200, json=[])
    if path == f"/audit/lookup/id-number/{ID_NUMBER}":
        return httpx.Response(200, json={"trainee_id": TRAINEE})
    if path.startswith("/audit/lookup/certificate/"):
        error = {"code": "unknown_certificate", "message": "no such certificate"}
        return httpx.Response(404, json={"error": error})
    if path == f"/audit/trail/{TRAINEE}":
        return httpx.Response(200, json=TRAILS[service])
    if path == f"/audit/aggregates/{TRAINEE}":
        state = {"name": "王𠀀明", "county": "牡丹区"}
        return httpx.Response(
            200,
            json={
                "aggregate_id": TRAINEE,
                "type": "enrollment.Trainee",
                "version": 1,
                "as_of": request.url.params["as_of"],
                "state": state,
            },
        )
    if path == "/audit/checkpoints":
        checkpoint = {
            "service": service,
            "position": 41,
            "chain_hash": "h",
            "signed_at": "2026-11-27T02:00:00Z",
            "signature": "s",
        }
        return httpx.Response(
            200, json={"public_key": f"key-of-{service}", "checkpoints": [checkpoint]}
        )
    if path == "/audit/verification" and request.method == "POST":
        if service == "subsidy":
            error = {"code": "role_not_allowed", "message": "not allowed"}
            return httpx.Response(403, json={"error": error})
        return httpx.Response(200, json=CLEAN if service == "certification" else TAMPERED)
    return httpx.Response(404, json={"error": {"code": "not_found", "message": path}})


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def auditor(tmp_path: Path) -> TestClient:
    client = TestClient(
        create_app(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(services)),
        follow_redirects=False,
    )
    client.get("/sign-in")
    page = client.get("/sign-in").text
    assert "审计人员" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post("/sign-in", data={"role": "auditor", "csrf_token": token})
    assert answer.headers["location"] == "/auditor"
    return client


def test_a_person_found_by_id_number_has_one_trail_in_time_order_and_a_past_state(
    tmp_path: Path,
) -> None:
    client = auditor(tmp_path)
    sent.clear()
    page = client.get("/auditor", params={"q": ID_NUMBER.lower(), "as_of": "2026-03-31"})
    assert page.status_code == 200, page.text
    topics = re.findall(r'<tr data-topic="([^"]+)"', page.text)
    assert topics == [
        "enrollment.Trainee.Registered.v1",
        "certification.TalentRecord.Opened.v1",
        "assessment.Application.Filed.v1",
    ]
    assert "王𠀀明" in page.text and "\\u" not in page.text  # Chinese as written, not escaped
    assert "报名培训" in page.text and "证书颁发" in page.text
    (past,) = [r for r in sent if r.url.path == f"/audit/aggregates/{TRAINEE}"]
    assert past.url.params["as_of"] == "2026-03-31T23:59:59+08:00"  # the end of that day in China
    assert "截至 2026-03-31 的报名登记状态" in page.text and "牡丹区" in page.text
    assert page.text.count("key-of-") == 4 and "./heze audit verify" in page.text
    assert not [r for r in sent if r.method != "GET"]  # an auditor only reads


def test_a_bad_date_or_an_unknown_number_is_refused_in_chinese(tmp_path: Path) -> None:
    client = auditor(tmp_path)
    bad_date = client.get("/auditor", params={"q": TRAINEE, "as_of": "2026-13-01"})
    assert bad_date.status_code == 422 and "截至日期：请按 年-月-日 填写" in bad_date.text
    unknown = client.get("/auditor", params={"q": "HZSZ2026-0000000-J-999999"})
    assert unknown.status_code == 422 and "未能办理" in unknown.text
    assert '"error"' not in unknown.text  # no raw JSON on a page


def test_only_a_signed_in_auditor_reaches_the_workspace(tmp_path: Path) -> None:
    client = TestClient(
        create_app(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(services)),
        follow_redirects=False,
    )
    sent.clear()
    answer = client.get("/auditor", params={"q": ID_NUMBER})
    assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in")
    assert not [r for r in sent if r.url.path.startswith("/audit/")]  # nothing was asked


def test_a_service_self_check_that_passes_says_so_with_its_checkpoints_and_head(
    tmp_path: Path,
) -> None:
    client = auditor(tmp_path)
    page = client.get("/auditor").text
    assert page.count("校验事件日志（服务自检）") == 4
    assert 'action="/auditor/verification/certification"' in page
    sent.clear()
    answer = client.post("/auditor/verification/certification", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 200, answer.text
    (asked,) = [r for r in sent if r.method == "POST"]
    assert (asked.url.port, asked.url.path) == (8003, "/audit/verification")
    assert asked.headers["authorization"].startswith("Bearer ")
    assert "校验通过：事件日志与 3 个签名检查点一致（至第 41 条）" in answer.text
    assert 'data-verified="yes"' in answer.text and "findings-table" not in answer.text
    assert "./heze audit verify certification" in answer.text and "事先固定的公钥" in answer.text


def test_a_self_check_with_findings_lists_them_in_chinese(tmp_path: Path) -> None:
    client = auditor(tmp_path)
    page = client.get("/auditor").text
    answer = client.post("/auditor/verification/enrollment", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 200, answer.text
    assert 'data-verified="no"' in answer.text and "校验通过" not in answer.text
    assert "校验未通过：发现 2 处问题" in answer.text
    rows = re.findall(
        r'<tr data-position="(\d+)" data-kind="([a-z_]+)"><td>\d+</td><td>([^<]+)<', answer.text
    )
    assert rows == [("7", "altered", "记录被改动"), ("40", "truncated", "日志末尾被截断")]
    assert "positions 39-40 are gone" in answer.text


def test_a_refused_self_check_is_described_and_a_post_without_csrf_is_refused(
    tmp_path: Path,
) -> None:
    client = auditor(tmp_path)
    page = client.get("/auditor").text
    refused = client.post("/auditor/verification/subsidy", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 422 and "未能办理" in refused.text
    assert "当前身份无权进行此操作" in refused.text
    assert '"error"' not in refused.text
    sent.clear()
    for data in ({}, {"csrf_token": "forged"}):
        forged = client.post("/auditor/verification/enrollment", data=data)
        assert forged.status_code == 403 and "页面已过期或来源不明" in forged.text
    assert not [r for r in sent if r.method == "POST"]  # nothing reached the service
    unknown = client.post("/auditor/verification/nowhere", data={"csrf_token": csrf_of(page)})
    assert unknown.status_code == 404
