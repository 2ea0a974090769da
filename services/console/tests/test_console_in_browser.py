"""The console in headless Chromium against the real services (PostgreSQL and the broker):
an institution publishes (its refusals shown in Chinese), a trainee registers with the ID
number checked as typed and enrols, the institution logs a session and uploads sheets of
sessions (a bad row rejects the whole sheet; a refusal midway names the rows recorded, and the
corrected sheet completes without doubling), the trainee sees the hours; then the same trainee
goes through the whole pipeline to a paid subsidy, each party clicking in its own workspace
(completion, the application with the commitment, qualification, session, scores and a
correction, the case reported, returned, reported again, confirmed, approved and issued, the
level certificate's PDF, the claim, the payment); and the city bureau's dashboard shows the
services' own counts. Every workspace is photographed into `test-artefacts/console/`, and
axe-core checks the main pages."""

from __future__ import annotations

import base64
import csv
import io
import json
import random
import re
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import jwt
import openpyxl
import pypdf
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from heze_common import clock
from heze_common.auth import TokenIssuer
from heze_common.settings import ServiceSettings
from heze_common.testing import READY_SECONDS
from heze_console.id_numbers import check_character
from heze_console.main import create_app
from heze_console.settings import SERVICES, ConsoleSettings
from heze_contracts.enums import Role
from heze_system.system import CONSOLE, RunningSystem, postgres_databases
from identity_provider import CLIENT_ID, CLIENT_SECRET, Account, Provider, running, serving

ROOT = Path(__file__).resolve().parents[3]
ARTEFACTS = ROOT / "test-artefacts" / "console"
WAIT_MS = 120_000
"""Playwright's waits poll for their condition; this only bounds a failure on a busy machine."""
expect.set_options(timeout=WAIT_MS)

TODAY = clock.today()
STARTS, ENDS = TODAY - timedelta(days=40), TODAY + timedelta(days=150)
DAY = [STARTS + timedelta(days=n) for n in range(1, 8)]
NAME = "王𠀀明"  # a rare character of CJK extension B: it must round-trip exactly
UPC = "中国石油大学(华东)"
EVALUATOR = "山东省数字技术工程师评价中心"
JOURNEY: dict[str, str] = {}
"""The trainee of the first test, whom the pipeline test takes on to a paid subsidy."""


def id_number(sequence: int) -> str:
    first_17 = f"37170219950505{sequence:03d}"
    return first_17 + check_character(first_17)


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports: another run of these tests (or of the whole
    suite) at the same time must not meet this one's services."""
    for _ in range(200):
        first = random.randrange(20_000, 40_000)
        sockets = []
        try:
            for port in range(first, first + count):
                listening = socket.socket()
                sockets.append(listening)
                listening.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for listening in sockets:
                listening.close()
        return first
    raise RuntimeError("no free ports")


@pytest.fixture(scope="module")
def system(
    tmp_path_factory: pytest.TempPathFactory, postgres_admin_dsn: str, kafka_bootstrap_servers: str
) -> Iterator[RunningSystem]:
    prefix = f"console_{uuid.uuid4().hex[:8]}"
    with postgres_databases(postgres_admin_dsn, prefix) as template:
        running = RunningSystem(
            data_dir=tmp_path_factory.mktemp("console"),
            base_port=free_ports(5),
            database_url_template=template,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            environment={
                "KAFKA_TOPIC_PREFIX": f"{prefix}.",
                "KAFKA_SESSION_TIMEOUT_MS": "3000",
                "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            },
            console=True,
        ).start(ready_timeout=READY_SECONDS)
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed (./heze test installs it with apt-get)"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--lang=zh-CN"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, system: RunningSystem) -> Iterator[Page]:
    context = browser.new_context(base_url=system.url(CONSOLE), locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    yield opened
    context.close()


def token(system: RunningSystem, role: Role, **claims: object) -> dict[str, str]:
    issuer = TokenIssuer(ServiceSettings(service_name="test", data_dir=system.data_dir))
    return {"Authorization": f"Bearer {issuer.mint(role, **claims)}"}  # type: ignore[arg-type]


def every(url: str, headers: dict[str, str]) -> list[dict]:
    """Every item of a list endpoint: a JSON list with `Link` pages, or enrollment's offset
    pages until its lists move to tables."""
    items: list[dict] = []
    query: dict[str, int] = {"limit": 500}
    while True:
        response = httpx.get(url, params=query, headers=headers)
        response.raise_for_status()
        body = response.json()
        if isinstance(body, list):
            items.extend(body)
            if "next" not in response.links:
                return items
            url, query = response.links["next"]["url"], {}
        else:
            items.extend(body["items"])
            if body["offset"] + body["limit"] >= body["total"]:
                return items
            query["offset"] = body["offset"] + body["limit"]


def photograph(page: Page, name: str) -> None:
    page.screenshot(path=ARTEFACTS / f"{name}.png", full_page=True)


def assert_accessible(page: Page) -> None:
    """axe-core (WCAG 2.1 A and AA rules) finds nothing serious or critical."""
    results = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}}
    )
    serious = [
        (v["id"], v["impact"], [node["target"] for node in v["nodes"]])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], serious


def sign_in(
    page: Page,
    role: str,
    *,
    institution: str | None = None,
    evaluator: str | None = None,
    trainee: str = "",
    verified_id_number: str = "",
    county: str | None = None,
    employer: str = "",
) -> None:
    page.goto("/sign-in")
    page.get_by_role("radio", name=role, exact=True).check()
    if institution:
        page.get_by_label("培训机构（以培训机构身份登录时选择）").select_option(label=institution)
    if evaluator:
        page.get_by_label("评价机构（以评价机构身份登录时选择）").select_option(label=evaluator)
    if county:
        page.get_by_label("县区（以县区人社局身份登录时选择）").select_option(label=county)
    page.get_by_label("单位名称（以用人单位身份登录时填写）").fill(employer)
    page.get_by_label("学员编号（已报名的学员填写；新学员留空）").fill(trainee)
    page.get_by_label("身份证号码（新学员填写，模拟实名认证）").fill(verified_id_number)
    page.get_by_role("button", name="登录", exact=True).click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("link", name="登录", exact=True)).to_be_visible()


def upload(page: Page, filename: str, content: bytes) -> None:
    page.get_by_label("选择文件（.xlsx 或 .csv）").set_input_files(
        {"name": filename, "mimeType": "application/octet-stream", "buffer": content}
    )
    page.get_by_role("button", name="校验并导入").click()


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in [["学员编号", "姓名", "日期", "学时", "类型", "方式"], *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[object]]) -> bytes:
    text = io.StringIO()
    csv.writer(text).writerows([["学员编号", "姓名", "日期", "学时", "类型", "方式"], *rows])
    return text.getvalue().encode("utf-8-sig")


def roster_hours(page: Page, trainee_id: str) -> str:
    return page.locator(f'[data-trainee="{trainee_id}"]').inner_text()


def test_publish_register_enrol_and_log_hours_by_sheet(page: Page, system: RunningSystem) -> None:
    page.goto("/notices")
    expect(page.get_by_text("暂无正在招生的培训班")).to_be_visible()

    # The institution publishes: out of its scope, then below the city's hours, then rightly.
    sign_in(page, "培训机构", institution=UPC)
    expect(page).to_have_url(f"{system.url(CONSOLE)}/institution")
    title = "大数据工程技术人员（初级）2026年冬季班"

    def publish(occupation: str, theory: str = "") -> None:
        page.get_by_label("职业").select_option(occupation)
        page.get_by_label("等级").select_option(label="初级")
        page.get_by_label("培训班名称").fill(title)
        page.get_by_label("招生人数").fill("30")
        page.get_by_label("开始日期").fill(STARTS.isoformat())
        page.get_by_label("结束日期").fill(ENDS.isoformat())
        page.get_by_label("理论学时").fill(theory)
        page.get_by_label("实践学时").fill("48" if theory else "")
        page.get_by_role("button", name="发布").click()

    publish("2-02-07-13")  # intelligent manufacturing: not in this university's scope
    expect(page.get_by_role("alert")).to_contain_text(
        "职业：该职业不在本机构的培训范围（目录清单）内"
    )
    publish("2-02-10-11", theory="10")
    expect(page.get_by_role("alert")).to_contain_text("理论学时：低于市人社局要求的学时")
    assert page.get_by_label("理论学时").input_value() == "10"  # what was typed stays
    publish("2-02-10-11")
    expect(page.get_by_role("status")).to_contain_text(f"培训班「{title}」已发布")
    programme_url = page.url
    page.goto("/institution")
    photograph(page, "institution-workspace")
    assert_accessible(page)
    sign_out(page)

    # The city bureau puts the programme in the subsidised-training plan (before enrolment: the
    # subsidy service learns the plan from each enrolment).
    sign_in(page, "市人社局")
    page.goto("/city/programmes")
    card = page.locator("li[data-programme]", has_text=title)
    card.get_by_label("列入市级补贴性培训计划").check()
    card.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text(f"已保存「{title}」的计划和目录标记")
    expect(card.get_by_label("列入市级补贴性培训计划")).to_be_checked()
    photograph(page, "city-programmes")
    assert_accessible(page)
    sign_out(page)

    # The notice is public.
    page.goto("/notices")
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_text(UPC).first).to_be_visible()
    photograph(page, "public-notices")
    assert_accessible(page)

    # A new trainee signs in (the sign-in verifies their ID number, as real-name authentication
    # would) and registers; the ID number is checked while it is typed.
    number = id_number(11)
    sign_in(page, "学员", verified_id_number=number)
    hint = page.locator("#field-id_number-hint")
    field = page.get_by_label("身份证号码")
    field.press_sequentially(number[:10])
    expect(hint).to_have_text("已输入 10 位，还差 8 位")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    field.fill("")
    field.press_sequentially(wrong)
    expect(hint).to_have_text("校验码不正确，请核对号码")
    field.fill("")
    field.press_sequentially(number)
    expect(hint).to_contain_text("号码有效：1995年05月05日出生，男")
    page.get_by_label("姓名").fill(NAME)
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_label("学历").select_option(label="本科")
    page.get_by_label("所学专业").fill("数据科学与大数据技术")
    page.get_by_label("所在县区").select_option("曹县")
    page.get_by_label("人员类别").select_option(label="数字技术从业人员")
    photograph(page, "trainee-registration")
    assert_accessible(page)
    page.get_by_role("button", name="提交登记").click()
    expect(page.get_by_role("status")).to_contain_text("报名登记成功")
    expect(page.get_by_role("heading", name=NAME, exact=True)).to_be_visible()
    trainee_id = page.locator("dd code").first.inner_text()
    uuid.UUID(trainee_id)

    page.get_by_role("button", name="报名").click()
    expect(page.get_by_role("status")).to_contain_text("报名成功")
    expect(page.get_by_text("理论 0.0 / 80.0 学时")).to_be_visible()
    sign_out(page)

    # The institution logs one session, then uploads sheets.
    sign_in(page, "培训机构", institution=UPC)
    page.goto(programme_url)
    expect(page.locator(f'[data-trainee="{trainee_id}"]')).to_contain_text(NAME)
    page.get_by_role("combobox", name="学员", exact=True).select_option(trainee_id)
    page.get_by_label("日期").fill(DAY[0].isoformat())
    page.get_by_role("spinbutton", name="学时", exact=True).fill("8")
    page.get_by_label("学时类型").select_option(label="理论")
    page.get_by_label("培训方式").select_option(label="线下")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"已记录 {DAY[0]} 8 学时")
    assert "理论 8.0 / 80.0 学时" in roster_hours(page, trainee_id)

    # Two bad rows: the whole sheet is refused, each failure named by row and column.
    upload(
        page,
        "第一周.csv",
        csv_bytes(
            [
                [trainee_id, NAME, DAY[1].isoformat(), "8", "理论", "线上"],
                [trainee_id, NAME, DAY[2].isoformat(), "8", "理论课", "线上"],
                [trainee_id, NAME, DAY[3].isoformat(), "30", "实践", "线下"],
            ]
        ),
    )
    result = page.locator(".upload-result")
    expect(result).to_contain_text("整张表未导入任何记录")
    expect(result).to_contain_text("第 3 行「类型」：须为“理论”或“实践”")
    expect(result).to_contain_text("第 4 行「学时」：须大于 0 且不超过 24")
    assert "理论 8.0 / 80.0 学时" in roster_hours(page, trainee_id)
    photograph(page, "institution-sheet-rejected")
    assert_accessible(page)

    # Every row passes here, but the service refuses row 3 (the day would pass 24 hours with the
    # session logged above): the page names what was recorded and what was not sent.
    week = [
        [trainee_id, NAME, DAY[1], 8, "理论", "线上"],
        [trainee_id, NAME, DAY[0], 17, "实践", "线下"],
        [trainee_id, NAME, DAY[3], 8, "实践", "线下"],
    ]
    upload(page, "第一周.xlsx", xlsx(week))
    expect(result).to_contain_text("第 3 行被拒绝：学时：该学员当天累计学时将超过 24 小时")
    expect(result).to_contain_text("已记录的行：2；未发送的行：4")
    text = roster_hours(page, trainee_id)
    assert "理论 16.0 / 80.0 学时" in text and "实践 0.0 / 48.0 学时" in text

    # The corrected sheet, uploaded whole: row 2 is not logged a second time.
    week[1][3] = 16
    upload(page, "第一周（修正）.xlsx", xlsx(week))
    expect(page.get_by_role("status")).to_contain_text("已导入 3 条学时记录")
    text = roster_hours(page, trainee_id)
    assert "理论 16.0 / 80.0 学时" in text and "实践 24.0 / 48.0 学时" in text
    photograph(page, "institution-roster")
    assert_accessible(page)
    sign_out(page)

    # The trainee signs in again with the trainee id and sees the hours against the requirement.
    sign_in(page, "学员", trainee=trainee_id)
    expect(page.get_by_text("理论 16.0 / 80.0 学时")).to_be_visible()
    expect(page.get_by_text("实践 24.0 / 48.0 学时")).to_be_visible()
    expect(page.get_by_role("heading", name=NAME, exact=True)).to_be_visible()
    photograph(page, "trainee-workspace")
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    photograph(page, "trainee-workspace-phone")
    JOURNEY.update(trainee_id=trainee_id, programme_url=programme_url, title=title)


def shown_after_reloads(page: Page, path: str, target: Callable[[], Locator]) -> Locator:
    """Opens `path` again until `target` shows: what another service learns through the broker
    arrives when it arrives. Each look waits a little for the element itself (the condition),
    and the whole is bounded only by WAIT_MS."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        page.goto(path)
        found = target()
        try:
            found.first.wait_for(state="visible", timeout=2_000)
            return found
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise


def downloaded(page: Page, link: Locator) -> bytes:
    with page.expect_download() as download:
        link.click()
    return Path(download.value.path()).read_bytes()


def test_the_pipeline_after_training_to_a_paid_subsidy(page: Page, system: RunningSystem) -> None:
    """The trainee of the first test, by clicking through each party's workspace: the rest of
    the hours by sheet, the completion exam and completion, the training certificate; the
    province registers an evaluation institution; the trainee applies with the commitment
    signed; qualification, a session, scores and a correction; the case reported, confirmed by
    the province, approved nationally, issued; the level certificate's PDF; the subsidy claimed,
    approved and paid."""
    assert JOURNEY, "runs after test_publish_register_enrol_and_log_hours_by_sheet"
    trainee_id, programme_url, title = (
        JOURNEY["trainee_id"],
        JOURNEY["programme_url"],
        JOURNEY["title"],
    )

    # The institution: the rest of the hours (80 theory + 48 practice), the exam, completion.
    sign_in(page, "培训机构", institution=UPC)
    page.goto(programme_url)
    rest = [
        [trainee_id, NAME, DAY[2], 24, "理论", "线下"],
        [trainee_id, NAME, DAY[4], 24, "理论", "线上"],
        [trainee_id, NAME, DAY[5], 16, "理论", "线下"],
        [trainee_id, NAME, DAY[5], 8, "实践", "线下"],
        [trainee_id, NAME, DAY[6], 16, "实践", "线下"],
    ]
    upload(page, "第二周.xlsx", xlsx(rest))
    expect(page.get_by_role("status")).to_contain_text("已导入 5 条学时记录")
    text = roster_hours(page, trainee_id)
    assert "理论 80.0 / 80.0 学时" in text and "实践 48.0 / 48.0 学时" in text
    line = page.locator(f'[data-trainee="{trainee_id}"]')
    line.get_by_role("button", name=f"准予{NAME}结业并颁发培训合格证书").click()
    expect(page.get_by_role("alert")).to_contain_text("尚未录入结业考核成绩")  # exam first
    line.get_by_label(f"{NAME}的结业考核成绩").fill("86.5")
    line.get_by_role("button", name="录入成绩").click()
    expect(page.get_by_role("status")).to_contain_text("已录入结业考核成绩 86.5 分")
    line.get_by_role("button", name=f"准予{NAME}结业并颁发培训合格证书").click()
    expect(page.get_by_role("status")).to_contain_text("已准予结业，培训合格证书编号 HZPX")
    expect(line).to_contain_text("已结业")
    photograph(page, "institution-completion")
    sign_out(page)

    # The province registers the evaluation institution that will assess big data.
    sign_in(page, "省人社厅")
    expect(page).to_have_url(f"{system.url(CONSOLE)}/province")
    page.get_by_label("机构名称").fill(EVALUATOR)
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("可评价职业：请至少选择一个")
    page.get_by_label(re.compile("2-02-10-11")).check()
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"已登记评价机构「{EVALUATOR}」")
    sign_out(page)

    # The trainee downloads the training certificate and applies, signing the commitment.
    sign_in(page, "学员", trainee=trainee_id)
    credential = downloaded(page, page.get_by_role("link", name=re.compile("下载培训合格证书")))
    assert credential.startswith(b"eyJ") and credential.count(b".") == 2  # a compact JWS
    page.get_by_role("link", name=re.compile("对应的等级评价")).click()
    expect(page.get_by_role("heading", name="告知承诺书")).to_be_visible()
    expect(page.locator("#commitment-text")).to_contain_text("本人承诺")
    page.get_by_label("评价机构").select_option(label=EVALUATOR)
    photograph(page, "trainee-assessment-application")
    assert_accessible(page)
    page.get_by_role("button", name="签署承诺并提交申请").click()  # not signed yet
    expect(page.get_by_role("alert")).to_contain_text("告知承诺书：须阅读并签署告知承诺书")
    page.get_by_label(re.compile("本人已阅读以上告知承诺书")).check()
    page.get_by_role("button", name="签署承诺并提交申请").click()  # no relevant major declared
    expect(page.get_by_role("alert")).to_contain_text("申报信息：不符合申报条件")
    expect(page.get_by_role("alert")).to_contain_text(
        "相关专业本科及以上学历（含应届毕业生）：缺相关专业"
    )
    expect(page.get_by_label(re.compile("本人已阅读以上告知承诺书"))).to_be_checked()
    page.get_by_label("所学专业与本职业相关").check()
    page.get_by_role("button", name="签署承诺并提交申请").click()
    expect(page.get_by_role("status")).to_contain_text("评价申请已提交，告知承诺书已签署")
    expect(page.locator("#applications-table")).to_contain_text("2-02-10-11 · 初级")
    sign_out(page)

    # The evaluation institution: qualification, a session, scores, a correction, the report.
    sign_in(page, "评价机构", evaluator=EVALUATOR)
    expect(page).to_have_url(f"{system.url(CONSOLE)}/evaluation")
    review = shown_after_reloads(
        page,
        "/evaluation",
        lambda: page.locator(
            f'li[data-application][data-trainee="{trainee_id}"]',
            has=page.get_by_role("button", name="资格审核通过"),
        ),
    )
    photograph(page, "evaluation-qualification")
    assert_accessible(page)
    review.get_by_role("button", name="资格审核通过").click()
    expect(page.get_by_role("status")).to_contain_text("资格审核通过")
    page.get_by_label("考核地点").fill("菏泽市数字经济产业园 3 号楼")
    page.get_by_role("button", name="安排考核").click()
    expect(page.get_by_role("status")).to_contain_text("考生 1 人")
    page.get_by_label("理论考试成绩（满分 100）").fill("58")
    page.get_by_label("实操考核成绩（满分 100）").fill("78")
    page.get_by_role("button", name="录入成绩").click()
    expect(page.get_by_role("status")).to_contain_text("成绩已录入：考核不合格")
    page.get_by_text("更正成绩", exact=True).click()
    page.get_by_label("更正后的理论考试成绩").fill("62")
    page.get_by_label("更正后的实操考核成绩").fill("78")
    page.get_by_label("更正原因").fill("复核试卷：第 12 题漏计 4 分")
    page.get_by_role("button", name="提交更正").click()
    expect(page.get_by_role("status")).to_contain_text("成绩已更正，更正原因已记录")
    expect(page.locator(f'li[data-application][data-trainee="{trainee_id}"]')).to_contain_text(
        "考核合格"
    )
    case = shown_after_reloads(
        page, "/evaluation", lambda: page.locator(f'li[data-case][data-trainee="{trainee_id}"]')
    )
    expect(case).to_contain_text("待评价机构上报省人社厅")
    expect(case).to_contain_text("剩余 30 天")
    photograph(page, "evaluation-workspace")
    assert_accessible(page)
    case.get_by_role("button", name="上报省人社厅").click()
    expect(page.get_by_role("status")).to_contain_text("证书数据已上报省人社厅")
    sign_out(page)

    # The province: a return needs a reason; then it confirms.
    sign_in(page, "省人社厅")
    case = page.locator(f'li[data-case][data-trainee="{trainee_id}"]')
    expect(case).to_contain_text(NAME)
    expect(case).to_contain_text("省级确认")
    photograph(page, "province-workspace")
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    photograph(page, "province-workspace-phone")
    page.set_viewport_size({"width": 1280, "height": 720})
    case.get_by_role("button", name="退回更正").click()
    expect(page.get_by_role("alert")).to_contain_text("退回原因：请至少填写一条")
    case.get_by_label("退回原因（每行一条）").fill("证书照片不清晰\n\n考核记录缺少考评员签字")
    case.get_by_role("button", name="退回更正").click()
    expect(page.get_by_role("status")).to_contain_text("已退回评价机构更正")
    sign_out(page)

    # The evaluation institution sees the reasons and reports again.
    sign_in(page, "评价机构", evaluator=EVALUATOR)
    case = page.locator(f'li[data-case][data-trainee="{trainee_id}"]')
    expect(case).to_contain_text("证书照片不清晰；考核记录缺少考评员签字")
    expect(case).to_contain_text("待评价机构上报省人社厅")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    photograph(page, "evaluation-workspace-phone")
    page.set_viewport_size({"width": 1280, "height": 720})
    case.get_by_role("button", name="上报省人社厅").click()
    expect(page.get_by_role("status")).to_contain_text("证书数据已上报省人社厅")
    sign_out(page)

    sign_in(page, "省人社厅")
    case = page.locator(f'li[data-case][data-trainee="{trainee_id}"]')
    case.get_by_role("button", name="确认并报国家审核").click()
    expect(page.get_by_role("status")).to_contain_text("已确认，并报国家审核")
    sign_out(page)

    # The national office approves.
    sign_in(page, "国家审核部门")
    expect(page).to_have_url(f"{system.url(CONSOLE)}/national")
    case = page.locator(f'li[data-case][data-trainee="{trainee_id}"]')
    expect(case).to_contain_text("待国家审核")
    expect(case).to_contain_text("无办理时限")
    photograph(page, "national-workspace")
    assert_accessible(page)
    case.get_by_role("button", name="审核通过").click()
    expect(page.get_by_role("status")).to_contain_text("审核通过，评价机构可颁发证书")
    sign_out(page)

    # The evaluation institution issues the certificate.
    sign_in(page, "评价机构", evaluator=EVALUATOR)
    case = page.locator(f'li[data-case][data-trainee="{trainee_id}"]')
    case.get_by_role("button", name="颁发证书").click()
    expect(page.get_by_role("status")).to_contain_text("证书已颁发，编号 HZSZ")
    number = re.search(r"HZSZ\S+?(?=。)", page.get_by_role("status").inner_text())
    assert number, page.get_by_role("status").inner_text()
    sign_out(page)

    # The trainee: the level certificate's PDF, then the subsidy claim.
    sign_in(page, "学员", trainee=trainee_id)
    expect(page.locator("#applications-table")).to_contain_text("考核合格")
    pdf = downloaded(page, page.get_by_role("link", name="下载电子证书（PDF）"))
    attached = pypdf.PdfReader(io.BytesIO(pdf)).attachments["credential.jwt"][0]
    claims = json.loads(base64.urlsafe_b64decode(attached.split(b".")[1] + b"=="))
    assert number.group(0) in json.dumps(claims, ensure_ascii=False)
    assert NAME in json.dumps(claims, ensure_ascii=False)  # the holder, as issued
    page.get_by_role("button", name=f"申领「{title}」的培训补贴").click()
    expect(page.get_by_role("status")).to_contain_text("补贴申领已提交")
    shown_after_reloads(
        page,
        "/trainee",
        lambda: page.locator("#claims-table .claim-status", has_text="已批准，待发放"),
    )
    photograph(page, "trainee-after-training")
    assert_accessible(page)
    sign_out(page)

    # The city bureau records the payment.
    sign_in(page, "市人社局")
    page.goto("/city/subsidies")
    claim = page.locator(f'li[data-claim][data-trainee="{trainee_id}"]')
    expect(claim).to_contain_text("1,500.00 元")
    photograph(page, "city-subsidies")
    assert_accessible(page)
    claim.get_by_label("支付凭证号").fill("HZCZ-2026-000123")
    claim.get_by_role("button", name="登记发放").click()
    expect(page.get_by_role("status")).to_contain_text("已登记发放，凭证号 HZCZ-2026-000123")
    expect(claim).to_contain_text("已发放")
    # The year's CE hours for the continuing-education platform: the trainee's completion.
    page.goto("/city/data")
    photograph(page, "city-data")
    assert_accessible(page)
    year = (datetime.now(UTC) + timedelta(hours=8)).year  # the services' dates are China's
    exported = downloaded(page, page.get_by_role("link", name=f"{year} 年度学时（CSV）"))
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    (mine,) = [row for row in rows if row["trainee_id"] == trainee_id]
    assert (mine["name"], mine["hours"]) == (NAME, "128.0")
    sign_out(page)

    sign_in(page, "学员", trainee=trainee_id)
    expect(page.locator("#claims-table")).to_contain_text("已发放")
    expect(page.locator("#claims-table")).to_contain_text("HZCZ-2026-000123")
    JOURNEY["certificate_number"] = number.group(0)
    sign_out(page)

    # An auditor finds the trainee by the certificate's number: one trail, the four services.
    sign_in(page, "审计人员")
    page.get_by_label("学员编号、身份证号码或证书编号").fill(number.group(0))
    page.get_by_role("button", name="查询").click()
    trail = page.locator("#trail-table")
    for topic in (
        "enrollment.Trainee.Registered.v1",
        "assessment.Application.Scored.v1",
        "certification.CertificateCase.Issued.v1",
        "subsidy.Claim.Paid.v1",
    ):
        expect(trail.locator(f'tr[data-topic="{topic}"]').first).to_be_visible()
    expect(page.locator("#checkpoints-table tbody tr")).to_have_count(4)
    photograph(page, "auditor")
    assert_accessible(page)


def test_the_county_bureau_lists_its_registrants_and_an_employer_reimburses_tuition(
    page: Page, system: RunningSystem
) -> None:
    """The trainee of the first test (registered in 曹县) on their county's list, and their
    tuition reimbursed by an employer, once."""
    assert JOURNEY, "runs after test_publish_register_enrol_and_log_hours_by_sheet"
    trainee_id = JOURNEY["trainee_id"]
    programme_id = urlsplit(JOURNEY["programme_url"]).path.rstrip("/").rsplit("/", 1)[1]

    sign_in(page, "县区人社局", county="曹县")
    expect(page.locator(f'#registrations-table tr[data-trainee="{trainee_id}"]')).to_contain_text(
        NAME
    )
    photograph(page, "county")
    assert_accessible(page)
    sign_out(page)

    sign_in(page, "用人单位", employer="菏泽数智科技有限公司")
    expect(page.get_by_role("heading", level=1)).to_contain_text("菏泽数智科技有限公司")
    for attempt in range(2):
        page.get_by_label("学员编号").fill(trainee_id)
        page.get_by_label("培训班编号").fill(programme_id)
        page.get_by_label("报销金额（元）").fill("1200")
        page.get_by_role("button", name="登记报销").click()
        if attempt == 0:
            expect(page.get_by_role("status")).to_contain_text("已登记学费报销 1,200.00 元")
        else:
            expect(page.get_by_role("alert")).to_contain_text("该学员此培训班的学费已报销过")
    expect(page.locator("#reimbursements-table tbody tr")).to_have_count(1)
    photograph(page, "employer")
    assert_accessible(page)


def test_the_dashboard_shows_the_services_own_counts(page: Page, system: RunningSystem) -> None:
    enrollment = system.url("enrollment")
    institution = token(system, Role.TRAINING_INSTITUTION, organisation_id=_upc(system))
    programmes = every(f"{enrollment}/programmes", institution)
    for sequence in (13, 15):  # two more people, registered by the institution; one enrols
        registered = httpx.post(
            f"{enrollment}/trainees",
            headers=institution,
            json={
                "name": f"李明{sequence}",
                "id_number": id_number(sequence),
                "phone": f"139000000{sequence}",
                "education": "master",
                "major": "计算机科学与技术",
                "county": "单县",
                "participant_category": "digital_worker",
                "person_consents": True,
            },
        )
        assert registered.status_code == 201, registered.text
    httpx.post(
        f"{enrollment}/trainees/{registered.json()['trainee_id']}/enrolments",
        headers=institution,
        json={"programme_id": programmes[0]["programme_id"]},
    ).raise_for_status()

    city = token(system, Role.CITY_BUREAU)
    registrations = every(f"{enrollment}/registrations", city)
    rosters = [
        line
        for p in every(f"{enrollment}/programmes", city)
        for line in every(f"{enrollment}/programmes/{p['programme_id']}/roster", city)
    ]
    pool = every(f"{system.url('certification')}/talent-pool", city)
    claims = every(f"{system.url('subsidy')}/claims", city)
    expected = {
        "registered": len(registrations),
        "enrolled": len({line["trainee_id"] for line in rosters}),
        "completed": sum(line["status"] == "completed" for line in rosters),
        "certified": len(pool),
        "claimed": len({c["trainee_id"] for c in claims}),
        "approved": sum(c["status"] in ("approved", "paid") for c in claims),
        "paid": sum(c["status"] == "paid" for c in claims),
    }
    assert (expected["registered"], expected["enrolled"]) == (3, 2)
    if JOURNEY.get("certificate_number"):  # the pipeline test took its trainee to the end
        assert (expected["approved"], expected["paid"]) == (1, 1)

    sign_in(page, "市人社局")
    expect(page.get_by_role("heading", name="数字技术工程师培育数据看板")).to_be_visible()
    shown = {
        stage: int(page.locator(f'#funnel-table tr[data-stage="{stage}"] td').inner_text())
        for stage in expected
    }
    assert shown == expected
    deadlines = every(f"{system.url('certification')}/reports/deadlines", city)
    counts = ("met", "overdue", "open_within", "open_overdue", "withdrawn")
    shown_deadlines = {
        line["stage"]: {
            count: int(
                page.locator(
                    f'#deadlines-table tr[data-stage="{line["stage"]}"] td[data-count="{count}"]'
                ).inner_text()
            )
            for count in counts
        }
        for line in deadlines
    }
    assert shown_deadlines == {
        line["stage"]: {count: line[count] for count in counts} for line in deadlines
    }
    if JOURNEY.get("certificate_number"):  # the pipeline test's case went through every stage
        assert all(line["met"] + line["overdue"] >= 1 for line in deadlines)
    photograph(page, "city-dashboard")
    assert_accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: wide tables scroll in place
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    photograph(page, "city-dashboard-phone")


def _upc(system: RunningSystem) -> uuid.UUID:
    listed = httpx.get(
        f"{system.url('enrollment')}/institutions", headers=token(system, Role.CITY_BUREAU)
    ).json()
    return uuid.UUID(next(i["institution_id"] for i in listed if i["name"] == UPC))


def test_verification_by_link_and_form_and_keyboard_sign_in(
    page: Page, system: RunningSystem
) -> None:
    # The QR code's link form: the answer at once, the name kept exactly as sent.
    page.goto(f"/verify?number=HZSZ2026-2021011-J-000009&name={NAME}")
    expect(page.get_by_role("heading", name="查验结果：未查到该证书")).to_be_visible()
    assert page.get_by_label("持证人姓名").input_value() == NAME
    photograph(page, "public-verification")
    assert_accessible(page)
    page.goto("/verify?number=HZSZ2026-2021011-J-000009&name=")  # a link cut short
    expect(page.get_by_role("alert")).to_contain_text("持证人姓名：必填")

    # Signing in with the keyboard alone.
    page.goto("/sign-in")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "跳到正文"
    assert_accessible(page)
    page.get_by_role("radio", name="学员", exact=True).focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # 学员 → 培训机构 → 市人社局
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "登录":
            break
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{system.url(CONSOLE)}/city")


def test_signing_in_at_an_identity_provider_as_production_does(
    browser: Browser, system: RunningSystem, tmp_path: Path
) -> None:
    """A console with `OIDC_ISSUER` set, beside the system's: people sign in on the provider's
    page, the real services accept the provider's tokens (here signed with the data folder's
    secret, as the embedded services verify them), and signing out ends both sessions."""
    secret = ServiceSettings(service_name="test", data_dir=system.data_dir).resolved_jwt_secret()

    def sign_services_token(claims: dict[str, object]) -> str:
        return jwt.encode({"iss": "heze-programme", "aud": "heze-services", **claims}, secret)

    provider_port = free_ports(2)
    console_url = f"http://127.0.0.1:{provider_port + 1}"
    accounts = {
        "机构经办人": Account(
            "机构经办人",
            {"sub": "upc-staff", "role": "training_institution", "org": str(_upc(system))},
        ),
        "市人社局经办人": Account("市人社局经办人", {"sub": "city-staff", "role": "city_bureau"}),
    }
    provider = Provider(
        f"http://127.0.0.1:{provider_port}",
        accounts,
        sign_services_token,
        f"{console_url}/sign-in/callback",
    )
    settings = ConsoleSettings(
        data_dir=tmp_path,
        jwt_secret=secret,
        oidc_issuer=provider.url,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        public_url=console_url,
        **{f"{name}_url": system.url(name) for name in SERVICES},
    )
    context = browser.new_context(base_url=console_url, locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    with running(provider, provider_port), serving(create_app(settings), provider_port + 1):
        page.goto("/notices")  # read with the console client's own token
        expect(page.get_by_role("heading", name=re.compile(r"正在招生的培训班"))).to_be_visible()
        expect(page.get_by_text(UPC).first).to_be_visible()
        page.get_by_role("link", name="登录", exact=True).click()
        expect(page.get_by_role("heading", name="统一身份认证（测试）")).to_be_visible()
        page.get_by_role("button", name="机构经办人").click()
        expect(page.get_by_text(f"当前身份：培训机构 · {UPC}")).to_be_visible()
        assert urlsplit(page.url).path == "/institution"
        assert "仅限开发环境" not in page.content()
        expect(page.get_by_role("heading", name="本机构的培训班")).to_be_visible()
        photograph(page, "openid-institution")
        page.get_by_role("button", name="退出登录").click()  # at the provider too, then home
        expect(page.get_by_role("link", name="登录", exact=True)).to_be_visible()
        assert provider.signed_out and not provider.sessions

        page.get_by_role("link", name="登录", exact=True).click()
        page.get_by_role("button", name="市人社局经办人").click()
        expect(page.get_by_role("heading", name="数字技术工程师培育数据看板")).to_be_visible()
        registered = len(
            every(f"{system.url('enrollment')}/registrations", token(system, Role.CITY_BUREAU))
        )
        shown = page.locator('#funnel-table tr[data-stage="registered"] td').inner_text()
        assert int(shown) == registered
    context.close()
