"""The city bureau's dashboard, data page and CE-hours export, the county bureau's and the
employer's workspaces, without the services (their answers mocked): the dashboard's figures as
the services count them (the deadlines per stage as certification reports them), each table
with its effective date,
the export handed on as the CSV certification made, the county's token naming the county as
enrollment derives it, an employer's reimbursement in yuan (a bad amount refused before anything
is sent, a repeat refused in Chinese)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from heze_console.identity import employer_id
from heze_console.main import create_app
from heze_enrollment.domain.counties import county_id  # the service's own derivation
from heze_console.settings import ConsoleSettings

pytestmark = pytest.mark.fast

CSV = "\ufefftrainee_id,name,id_number,year,hours\r\n5d7e0c2a-1111-4a4a-9b9b-0c0c0c0c0c0c,王𠀀明,11010519491231002X,2026,128.0\r\n"
sent: list[httpx.Request] = []


def services(request: httpx.Request) -> httpx.Response:
    sent.append(request)
    path = request.url.path
    if path == "/institutions":
        institution = {
            "institution_id": "1b000000-0000-4000-8000-000000000001",
            "directory_number": 1,
            "name": "中国石油大学(华东)",
            "fields": ["big_data", "blockchain"],
            "contact_name": "张老师",
            "contact_phone": "0530-1234567",
            "suspended": False,
            "in_city_training_directory": True,
        }
        return httpx.Response(200, json=[institution])
    if path == "/evaluation-institutions":
        return httpx.Response(200, json=[])
    if path == "/occupations":
        hours = {"junior": {"theory": "96.0", "practice": "32.0"}}
        occupation = {
            "code": "2-02-10-11",
            "field": "big_data",
            "name": "大数据工程技术人员",
            "effective_from": "2023-04-27",
            "hour_requirements": hours,
        }
        return httpx.Response(200, json=[occupation])
    if request.url.port == 8004 and path == "/standards":  # subsidy
        standard = {
            "standard_id": "5a000000-0000-4000-8000-000000000001",
            "occupation_code": "2-02-10-11",
            "level": "junior",
            "amount_fen": 150000,
            "effective_from": "2023-04-27",
            "effective_to": None,
        }
        return httpx.Response(200, json=[standard])
    if request.url.port == 8004 and path == "/policy":
        policy = {
            "required_certificate": "level_certificate",
            "window": "rolling_365_days",
            "yearly_cap": 3,
            "institutions_may_claim": False,
        }
        return httpx.Response(200, json={"effective_from": "2023-05-01", "policy": policy})
    if path == "/policy":
        terms = {
            "exam_based_title_series": ["卫生系列"],
            "loan_levels": ["junior"],
            "loan_counties": None,
            "loan_requires_employer": False,
        }
        return httpx.Response(200, json={"effective_from": "2023-04-27", "terms": terms})
    if path == "/personal-data/retention":
        periods = [
            {"days": 730, "effective_from": "2023-04-27"},
            {"days": 365, "effective_from": "2027-01-01"},
        ]
        return httpx.Response(200, json={"days_today": 730, "periods": periods})
    if path == "/continuing-education/2026" and request.url.params.get("format") == "csv":
        return httpx.Response(200, content=CSV.encode(), headers={"content-type": "text/csv"})
    return httpx.Response(404, json={"error": {"code": "not_found", "message": path}})


def at_sign_in(
    tmp_path: Path, answers: Callable[[httpx.Request], httpx.Response]
) -> tuple[TestClient, str]:
    """The console over mocked services, its sign-in page open: the client and the CSRF token."""
    client = TestClient(
        create_app(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(answers)),
        follow_redirects=False,
    )
    client.get("/sign-in")
    return client, csrf_of(client.get("/sign-in").text)


def city(tmp_path: Path) -> TestClient:
    client, token = at_sign_in(tmp_path, services)
    answer = client.post("/sign-in", data={"role": "city_bureau", "csrf_token": token})
    assert answer.headers["location"] == "/city"
    return client


PROGRAMME_ID = "b0000000-0000-4000-8000-000000000001"
TRAINEES = [f"5d7e0c2a-1111-4a4a-9b9b-0c0c0c0c0c{n:02d}" for n in range(3)]
DEADLINES = [
    {
        "stage": "report_to_province",
        "met": 7,
        "overdue": 2,
        "open_within": 3,
        "open_overdue": 1,
        "withdrawn": 1,
    },
    {
        "stage": "province_confirmation",
        "met": 5,
        "overdue": 0,
        "open_within": 2,
        "open_overdue": 0,
        "withdrawn": 0,
    },
    {
        "stage": "issuance",
        "met": 4,
        "overdue": 1,
        "open_within": 0,
        "open_overdue": 0,
        "withdrawn": 0,
    },
]


def dashboard_services(request: httpx.Request) -> httpx.Response:
    """What the city's dashboard reads: three registrants, two in a programme, one certified,
    one claim; and certification's deadline report."""
    sent.append(request)
    path = request.url.path
    if path == "/registrations":
        return httpx.Response(200, json=[{"trainee_id": t, "county": "曹县"} for t in TRAINEES])
    if path == "/programmes":
        return httpx.Response(200, json=[{"programme_id": PROGRAMME_ID}])
    if path == f"/programmes/{PROGRAMME_ID}/roster":
        lines = [
            {"trainee_id": TRAINEES[0], "status": "completed"},
            {"trainee_id": TRAINEES[1], "status": "enrolled"},
        ]
        return httpx.Response(200, json=lines)
    if path == "/talent-pool":
        member = {
            "trainee_id": TRAINEES[0],
            "county": "曹县",
            "certificates": {"HZSZ2026-2021011-J-000001": ["big_data", "junior"]},
        }
        return httpx.Response(200, json=[member])
    if path == "/claims":
        claim = {"trainee_id": TRAINEES[0], "status": "claimed", "amount_fen": None}
        return httpx.Response(200, json=[claim])
    if path == "/reports/deadlines":
        return httpx.Response(200, json=DEADLINES)
    return services(request)


def test_the_dashboard_shows_the_deadlines_per_stage_as_certification_counts_them(
    tmp_path: Path,
) -> None:
    client, token = at_sign_in(tmp_path, dashboard_services)
    answer = client.post("/sign-in", data={"role": "city_bureau", "csrf_token": token})
    assert answer.headers["location"] == "/city"
    sent.clear()
    page = client.get("/city")
    assert page.status_code == 200, page.text
    text = page.text
    funnel = dict(re.findall(r'<tr data-stage="(\w+)"><th scope="row">[^<]+</th><td>(\d+)<', text))
    assert funnel == {
        "registered": "3",
        "enrolled": "2",
        "completed": "1",
        "certified": "1",
        "claimed": "1",
        "approved": "0",
        "paid": "0",
    }

    assert "办理时限：按时完成与逾期" in text
    table = text[text.index('<table id="deadlines-table">') :]
    table = table[: table.index("</table>")]
    shown = {
        stage: dict(re.findall(r'<td data-count="(\w+)">(\d+)</td>', row))
        for stage, row in re.findall(r'<tr data-stage="(\w+)">(.*?)</tr>', table)
    }
    assert shown == {
        line["stage"]: {key: str(value) for key, value in line.items() if key != "stage"}
        for line in DEADLINES
    }
    # The stages named in Chinese, in the chart and in the table; the chart labelled.
    for label in ("上报省人社厅", "省级确认", "证书颁发"):
        assert text.count(f">{label}<") == 2, label
    assert "国家审核<" not in text  # no deadline, no line
    assert 'role="img" aria-labelledby="deadlines-title"' in text
    assert "按时 7／逾期 3" in text  # met; ended late or breached, and open past the due date
    (asked,) = [r for r in sent if r.url.path == "/reports/deadlines"]
    claims = jwt.decode(asked.headers["authorization"][7:], options={"verify_signature": False})
    assert claims["role"] == "city_bureau"


def test_a_dashboard_without_deadlines_says_so_and_keeps_the_table(tmp_path: Path) -> None:
    def nothing_due(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/reports/deadlines":
            zero = dict.fromkeys(("met", "overdue", "open_within", "open_overdue", "withdrawn"), 0)
            return httpx.Response(200, json=[{**line, **zero} for line in DEADLINES])
        return dashboard_services(request)

    client, token = at_sign_in(tmp_path, nothing_due)
    client.post("/sign-in", data={"role": "city_bureau", "csrf_token": token})
    text = client.get("/city").text
    assert "暂无带办理时限的证书环节。" in text and 'aria-labelledby="deadlines-title"' not in text
    assert text.count('<td data-count="met">0</td>') == 3


def test_the_data_page_shows_each_table_with_its_effective_date(tmp_path: Path) -> None:
    page = city(tmp_path).get("/city/data")
    assert page.status_code == 200, page.text
    text = page.text
    assert "中国石油大学(华东)" in text and "大数据、区块链" in text
    assert "大数据工程技术人员" in text and "96.0 / 32.0" in text and "2023-04-27" in text
    assert "卫生系列" in text and "全市" in text
    assert re.search(r'id="retention-days">730<', text) and "2027-01-01 起：365 天" in text
    standard = re.search(r'<tr data-standard="[^"]+">(.*?)</tr>', text)
    assert standard, text
    assert re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", standard.group(1)) == [
        "大数据工程技术人员（<code>2-02-10-11</code>）",
        "初级",
        "1,500.00 元",
        "2023-04-27",
        "长期",
        "执行中",
    ]
    assert "补贴政策（2023-05-01 起生效）" in text and "一年（365 天滚动计算）" in text
    assert 'href="/city/continuing-education/2026.csv"' in text


def test_the_ce_export_is_the_csv_certification_made(tmp_path: Path) -> None:
    client = city(tmp_path)
    sent.clear()
    answer = client.get("/city/continuing-education/2026.csv")
    assert answer.status_code == 200
    assert answer.content == CSV.encode()  # byte for byte, the BOM and the name included
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="continuing-education-2026.csv"' in answer.headers["content-disposition"]
    (asked,) = [r for r in sent if r.url.path.startswith("/continuing-education")]
    assert asked.headers["authorization"].startswith("Bearer ")
    assert client.get("/city/continuing-education/1999.csv").status_code == 422


def test_a_county_bureau_signs_in_for_its_county_and_reads_its_registrations(
    tmp_path: Path,
) -> None:
    def county_services(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/registrations":
            line = {
                "trainee_id": "5d7e0c2a-1111-4a4a-9b9b-0c0c0c0c0c0c",
                "name": "王𠀀明",
                "county": "曹县",
                "registered_on": "2026-03-01",
                "participant_category": "graduating_student",
                "education": "bachelor",
                "major": "数据科学与大数据技术",
                "employer": None,
            }
            return httpx.Response(200, json=[line])
        return services(request)

    client, token = at_sign_in(tmp_path, county_services)
    refused = client.post("/sign-in", data={"role": "county_bureau", "csrf_token": token})
    assert refused.status_code == 422 and "县区：请选择" in refused.text
    answer = client.post(
        "/sign-in", data={"role": "county_bureau", "county": "曹县", "csrf_token": token}
    )
    assert answer.headers["location"] == "/county"
    sent.clear()
    workspace = client.get("/county")
    assert "曹县人社局工作台" in workspace.text and "王𠀀明" in workspace.text
    assert "应届毕业生" in workspace.text and "本科" in workspace.text  # labels, not wire values
    (asked,) = [r for r in sent if r.url.path == "/registrations"]
    claims = jwt.decode(asked.headers["authorization"][7:], options={"verify_signature": False})
    assert (claims["role"], claims["org"]) == ("county_bureau", str(county_id("曹县")))


def test_an_employer_records_a_reimbursement_in_yuan_and_a_repeat_is_refused_in_chinese(
    tmp_path: Path,
) -> None:
    recorded: list[dict[str, object]] = []

    def employer_services(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/reimbursements" and request.method == "POST":
            body = json.loads(request.content)
            if recorded:
                error = {"code": "already_reimbursed", "message": "reimbursed on 2026-12-01"}
                return httpx.Response(409, json={"error": error})
            recorded.append(
                {
                    **body,
                    "reimbursement_id": "d0000000-0000-4000-8000-000000000001",
                    "reimbursed_on": "2026-12-01",
                }
            )
            return httpx.Response(201, json=recorded[-1])
        if request.url.path.startswith("/reimbursements/"):
            total = sum(int(r["amount_fen"]) for r in recorded)  # type: ignore[call-overload]
            report = {
                "employer_id": request.url.path.rsplit("/", 1)[1],
                "total_fen": total,
                "reimbursements": recorded,
            }
            return httpx.Response(200, json=report)
        return services(request)

    client, token = at_sign_in(tmp_path, employer_services)
    nameless = client.post("/sign-in", data={"role": "employer", "csrf_token": token})
    assert nameless.status_code == 422 and "单位名称：请填写" in nameless.text
    answer = client.post(
        "/sign-in",
        data={"role": "employer", "employer_name": "菏泽数智科技有限公司", "csrf_token": token},
    )
    assert answer.headers["location"] == "/employer"
    workspace = client.get("/employer").text
    assert "菏泽数智科技有限公司" in workspace and "尚未登记学费报销" in workspace
    form = {
        "trainee_id": "5d7e0c2a-1111-4a4a-9b9b-0c0c0c0c0c0c",
        "programme_id": "b0000000-0000-4000-8000-000000000001",
        "csrf_token": csrf_of(workspace),
    }
    sent.clear()
    for bad in ("0", "-5", "12.345", "十元", "nan"):
        refused = client.post("/employer/reimbursements", data={**form, "amount": bad})
        assert refused.status_code == 422 and "报销金额（元）：须为大于 0 的金额" in refused.text
    assert not [r for r in sent if r.method == "POST"]  # nothing sent for a bad amount
    done = client.post("/employer/reimbursements", data={**form, "amount": "1,500.50"})
    assert done.status_code == 303
    (posted,) = [r for r in sent if r.method == "POST"]
    assert json.loads(posted.content)["amount_fen"] == 150050
    listed = client.get("/employer").text
    assert "1,500.50 元" in listed and "已登记学费报销 1,500.50 元" in listed
    again = client.post("/employer/reimbursements", data={**form, "amount": "100"})
    assert again.status_code == 422 and "该学员此培训班的学费已报销过" in again.text
    claims = jwt.decode(posted.headers["authorization"][7:], options={"verify_signature": False})
    assert claims["org"] == str(employer_id("菏泽数智科技有限公司"))


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
