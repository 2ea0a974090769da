"""The city bureau's data page and the CE-hours export without the services (their answers
mocked): each table with its effective date, the retention period in force, and the export
handed on as the CSV certification made."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

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


def city(tmp_path: Path) -> TestClient:
    client = TestClient(
        create_app(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(services)),
        follow_redirects=False,
    )
    client.get("/sign-in")
    page = client.get("/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post("/sign-in", data={"role": "city_bureau", "csrf_token": token})
    assert answer.headers["location"] == "/city"
    return client


def test_the_data_page_shows_each_table_with_its_effective_date(tmp_path: Path) -> None:
    page = city(tmp_path).get("/city/data")
    assert page.status_code == 200, page.text
    text = page.text
    assert "中国石油大学(华东)" in text and "大数据、区块链" in text
    assert "大数据工程技术人员" in text and "96.0 / 32.0" in text and "2023-04-27" in text
    assert "卫生系列" in text and "全市" in text
    assert re.search(r'id="retention-days">730<', text) and "2027-01-01 起：365 天" in text
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

    client = TestClient(
        create_app(ConsoleSettings(data_dir=tmp_path), httpx.MockTransport(county_services)),
        follow_redirects=False,
    )
    client.get("/sign-in")
    page = client.get("/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
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
