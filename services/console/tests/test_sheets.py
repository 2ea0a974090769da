"""The sessions sheet: read from .xlsx or .csv (UTF-8 or GB18030), every row checked, and
nothing to send unless every row passes."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from heze_console import sheets
from heze_contracts.enums import HourKind, HourMode

HEADER = ["学员编号", "姓名", "日期", "学时", "类型", "方式"]
PROGRAMME = sheets.Programme("p-1", date(2026, 3, 1), date(2026, 6, 30))
ROSTER = {
    "t-1": sheets.RosterEntry("t-1", "王𠀀明", "enrolled"),
    "t-2": sheets.RosterEntry("t-2", "李䶮", "enrolled"),
    "t-3": sheets.RosterEntry("t-3", "张三", "withdrawn"),
    "t-4": sheets.RosterEntry("t-4", "赵四", "completed"),
}


def as_csv(rows: list[list[object]], encoding: str = "utf-8-sig") -> bytes:
    lines = [",".join(str(cell) for cell in row) for row in [HEADER, *rows]]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def as_xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in [HEADER, *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def check(filename: str, content: bytes) -> tuple[list[sheets.SessionRow], list[str]]:
    sessions, errors = sheets.validate(sheets.read_rows(filename, content), PROGRAMME, ROSTER)
    return sessions, [str(error) for error in errors]


def test_a_good_csv_becomes_sessions_numbered_as_the_spreadsheet_shows_them() -> None:
    sessions, errors = check(
        "week.csv",
        as_csv(
            [
                ["t-1", "王𠀀明", "2026-03-02", "8", "理论", "线上"],
                ["t-2", "李䶮", "2026/3/3", "7.5", "实践", "线下"],
            ]
        ),
    )
    assert errors == []
    assert [(s.row, s.trainee_id, s.name, s.day, s.hours, s.kind, s.mode) for s in sessions] == [
        (2, "t-1", "王𠀀明", date(2026, 3, 2), Decimal("8"), HourKind.THEORY, HourMode.ONLINE),
        (3, "t-2", "李䶮", date(2026, 3, 3), Decimal("7.5"), HourKind.PRACTICE, HourMode.OFFLINE),
    ]
    assert sessions[1].body() == {
        "date": "2026-03-03",
        "hours": 7.5,
        "kind": "practice",
        "mode": "offline",
    }


def test_an_excel_sheet_with_date_cells_and_numbers_reads_alike() -> None:
    sessions, errors = check(
        "week.xlsx", as_xlsx([["t-1", "王𠀀明", datetime(2026, 3, 2), 8, "理论", "线上"]])
    )
    assert errors == []
    assert (sessions[0].day, sessions[0].hours) == (date(2026, 3, 2), Decimal("8"))


def test_a_csv_saved_by_excel_on_chinese_windows_is_read_as_gb18030() -> None:
    sessions, errors = check(
        "week.csv", as_csv([["t-2", "李䶮", "2026-03-02", "8", "理论", "线下"]], "gb18030")
    )
    assert errors == [] and sessions[0].name == "李䶮"


def test_every_failing_row_is_reported_by_row_and_column_and_nothing_is_to_be_sent() -> None:
    sessions, errors = check(
        "week.csv",
        as_csv(
            [
                ["t-1", "王𠀀明", "2026-03-02", "8", "理论", "线上"],
                ["t-9", "王五", "2026-03-02", "8", "理论", "线上"],
                ["t-1", "王明", "2026-02-30", "8", "理论课", "面授"],
                ["t-3", "张三", "2026-03-02", "0", "实践", "线下"],
                ["t-4", "赵四", "2026-07-01", "2.25", "实践", "线下"],
                ["", "", "", "", "", ""],
                ["t-2", "李䶮", "", "abc", "", ""],
            ]
        ),
    )
    assert sessions == []
    assert errors == [
        "第 3 行「学员编号」：不在本培训班的花名册中",
        "第 4 行「姓名」：与花名册中的姓名「王𠀀明」不一致",
        "第 4 行「日期」：「2026-02-30」不是有效日期，请写作 2026-03-02",
        "第 4 行「类型」：须为“理论”或“实践”",
        "第 4 行「方式」：须为“线上”或“线下”",
        "第 5 行「学员编号」：该学员已退出培训",
        "第 5 行「学时」：须大于 0 且不超过 24",
        "第 6 行「学员编号」：该学员已结业",
        "第 6 行「日期」：不在培训班起止日期（2026-03-01 至 2026-06-30）内",
        "第 6 行「学时」：最多一位小数",
        "第 8 行「日期」：必填",
        "第 8 行「学时」：「abc」不是数字",
        "第 8 行「类型」：须为“理论”或“实践”",
        "第 8 行「方式」：须为“线上”或“线下”",
    ]


def test_a_day_passing_24_hours_within_the_sheet_is_refused_on_the_row_that_passes_it() -> None:
    _, errors = check(
        "day.csv",
        as_csv(
            [
                ["t-1", "王𠀀明", "2026-03-02", "16", "理论", "线上"],
                ["t-1", "王𠀀明", "2026-03-02", "8.5", "实践", "线下"],
            ]
        ),
    )
    assert errors == ["第 3 行「学时」：该学员 2026-03-02 在表中的学时累计超过 24 小时"]


def test_idempotency_keys_follow_the_content_so_a_re_upload_repeats_the_same_keys() -> None:
    rows = [
        ["t-1", "王𠀀明", "2026-03-02", "4", "理论", "线上"],
        ["t-1", "王𠀀明", "2026-03-02", "4", "理论", "线上"],  # morning and afternoon: two sessions
        ["t-2", "李䶮", "2026-03-02", "8", "实践", "线下"],
    ]
    first, _ = check("a.csv", as_csv(rows))
    again, _ = check(
        "b.xlsx", as_xlsx([[*row[:3], float(row[3]), *row[4:]] for row in reversed(rows)])
    )
    keys = [s.idempotency_key for s in first]
    assert len(set(keys)) == 3 and all(len(key) <= 200 and key.isascii() for key in keys)
    assert sorted(keys) == sorted(s.idempotency_key for s in again)
    other, _ = sheets.validate(
        sheets.read_rows("c.csv", as_csv(rows)),
        sheets.Programme("p-2", PROGRAMME.starts_on, PROGRAMME.ends_on),
        ROSTER,
    )
    assert not set(keys) & {s.idempotency_key for s in other}


@pytest.mark.parametrize(
    ("filename", "content", "reason"),
    [
        ("week.txt", b"x", "只接受 .xlsx 或 .csv 文件"),
        ("week.csv", b"", "文件是空的"),
        (
            "week.csv",
            "学员编号,姓名,日期\r\n".encode(),
            "第 1 行应为表头，缺少列：学时、类型、方式（请使用下载的模板）",
        ),
        ("week.csv", as_csv([]), "表中没有数据行"),
        ("week.xlsx", b"not a zip", "无法读取该 .xlsx 文件，请用 Excel 或 WPS 另存后再试"),
        ("week.csv", b"\xff\xfe\x00\xd8", "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV"),
    ],
)
def test_a_file_that_is_no_sessions_sheet_is_refused_whole(
    filename: str, content: bytes, reason: str
) -> None:
    with pytest.raises(
        sheets.UnreadableSheet, match=reason.replace("(", r"\(").replace(")", r"\)")
    ):
        sheets.read_rows(filename, content)


def test_too_many_rows_are_refused_before_any_is_checked() -> None:
    rows = [["t-1", "王𠀀明", "2026-03-02", "0.1", "理论", "线上"]] * (sheets.MAX_ROWS + 1)
    with pytest.raises(sheets.UnreadableSheet, match="一次最多导入 2000 行"):
        sheets.read_rows("big.csv", as_csv(rows))


def test_the_template_lists_the_trainees_still_in_training() -> None:
    rows = sheets.read_rows("template.xlsx", sheets.template(ROSTER.values()))
    assert [(number, cells["学员编号"], cells["姓名"]) for number, cells in rows] == [
        (2, "t-1", "王𠀀明"),
        (3, "t-2", "李䶮"),
    ]
