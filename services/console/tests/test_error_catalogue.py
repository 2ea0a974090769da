"""Every refusal code the services can return has a Chinese message, every field they name a
Chinese label, and a refusal reads as a sentence naming the field."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from heze_console.errors import FIELDS, MESSAGES, RULES, describe, field_label
from heze_console.services import ServiceError

SERVICES = Path(__file__).resolve().parents[2]
REFUSALS = {
    "Refusal",
    "InvalidInput",
    "NotFound",
    "Unauthorized",
    "Forbidden",
    "Unavailable",
    "RateLimited",
}
DECISIONS = {"waits_or_refused", "refused"}
"""The subsidy decision's helpers: their codes are a refused claim's `reason_code`."""


def raised_in_the_services() -> tuple[set[str], set[str]]:
    """The codes (first argument) and fields (`field=`) of every refusal in the services' code,
    and the codes the shared error handlers write as `"code": "…"`."""
    codes, fields = set(), set()
    for path in SERVICES.glob("*/src/**/*.py"):
        if path.is_relative_to(SERVICES / "console"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                first = node.args[0] if node.args else None
                if name in REFUSALS | DECISIONS and isinstance(first, ast.Constant):
                    codes.add(first.value)
                    for keyword in node.keywords:
                        if keyword.arg == "field" and isinstance(keyword.value, ast.Constant):
                            fields.add(keyword.value.value)
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "code"
                        and isinstance(value, ast.Constant)
                    ):
                        codes.add(value.value)
    return codes, fields


def test_every_code_and_field_the_services_raise_is_in_the_catalogue() -> None:
    codes, fields = raised_in_the_services()
    assert len(codes) > 80 and {"outside_scope", "already_subsidised", "body_too_large"} <= codes
    assert sorted(codes - set(MESSAGES)) == []
    assert sorted(fields - set(FIELDS)) == []


def test_the_catalogue_is_chinese_throughout() -> None:
    for text in [*MESSAGES.values(), *FIELDS.values(), *RULES.values()]:
        assert any("\u4e00" <= character <= "\u9fff" for character in text), text


def test_a_refusal_names_its_field_in_chinese() -> None:
    error = ServiceError("enrollment", 409, "outside_scope", "not in scope", "occupation_code")
    (problem,) = describe(error)
    assert (problem.field, problem.text) == (
        "occupation_code",
        "职业：该职业不在本机构的培训范围（目录清单）内",
    )
    hours = ServiceError("enrollment", 422, "below_required_hours", "", "required_hours.theory")
    assert describe(hours)[0].text == "理论学时：低于市人社局要求的学时"
    assert field_label("required_hours.anything") == "要求学时"


def test_an_invalid_request_lists_each_field_with_its_rule() -> None:
    error = ServiceError(
        "enrollment",
        422,
        "invalid_request",
        "name: ...",
        "name",
        {
            "problems": [
                {"field": "name", "rule": "person_name"},
                {"field": "starts_on", "rule": "date_format"},
            ]
        },
    )
    assert [p.text for p in describe(error)] == [
        "姓名：只能包含汉字（含生僻字）或拉丁字母，各部分之间可用 · - ' . 或空格",
        "开始日期：日期须写作 年-月-日（如 2026-03-01）",
    ]


def test_already_registered_gives_the_person_their_trainee_id() -> None:
    error = ServiceError(
        "enrollment", 409, "already_registered", "", "id_number", {"trainee_id": "abc"}
    )
    assert describe(error)[0].text == "身份证号码：您已完成报名登记，学员编号 abc"


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (409, "未受理（当前状态不允许，代码 brand_new）"),
        (422, "未受理（填写有误，代码 brand_new）"),
        (500, "未受理（服务错误，代码 brand_new）"),
    ],
)
def test_an_unknown_code_still_reads_in_chinese_with_the_code(status: int, text: str) -> None:
    assert describe(ServiceError("subsidy", status, "brand_new"))[0].text == text


def test_unmet_conditions_are_said_per_route_in_chinese() -> None:
    error = ServiceError(
        "assessment",
        409,
        "conditions_not_met",
        "",
        "declaration",
        {
            "unmet": {
                "junior.title": ["title technician or higher"],
                "junior.bachelor": ["education bachelor or higher", "a relevant major"],
                "junior.college_1y": ["a relevant major", "1 year(s) in the occupation"],
                "province.custom": ["the junior level certificate", "something new"],
            }
        },
    )
    assert describe(error)[0].text == (
        "申报信息：不符合申报条件（具有技术员及以上职称：缺技术员及以上职称；"
        "相关专业本科及以上学历（含应届毕业生）：缺本科及以上学历、相关专业；"
        "相关专业大专及以上学历，从事本职业 1 年以上：缺相关专业、从事本职业 1 年以上；"
        "province.custom：缺初级证书、something new）"
    )


def test_a_bar_says_until_when() -> None:
    error = ServiceError(
        "assessment", 409, "barred_from_applying", "", None, {"until": "2029-12-01"}
    )
    assert describe(error)[0].text.endswith("（限制期至 2029-12-01）")
