"""A sheet of training sessions (.xlsx or .csv) read, and every row checked before any is sent.

One row per session: 学员编号, 姓名, 日期, 学时, 类型 (理论/实践), 方式 (线上/线下). Rows are numbered
as the spreadsheet shows them (the header is row 1). Each row's `Idempotency-Key` is derived from
its content, so uploading the same sheet again after a send failed midway records only what is
missing: the rows already recorded answer as before and are not logged twice."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import openpyxl

from heze_contracts.enums import HourKind, HourMode

COLUMNS = ("学员编号", "姓名", "日期", "学时", "类型", "方式")
MAX_ROWS = 2000
MAX_HOURS_PER_DAY = Decimal(24)
KINDS = {**{k.label: k for k in HourKind}, **{k.value: k for k in HourKind}}
MODES = {**{m.label: m for m in HourMode}, **{m.value: m for m in HourMode}}


Refuse = Callable[[str, str], None]
"""Records a problem of the row being checked: its column and what is wrong."""


class UnreadableSheet(Exception):
    """The file as a whole cannot be read as a sessions sheet (the reason is in Chinese)."""


@dataclass(frozen=True)
class RosterEntry:
    trainee_id: str
    name: str
    status: str


@dataclass(frozen=True)
class Programme:
    programme_id: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class SessionRow:
    row: int
    trainee_id: str
    name: str
    day: date
    hours: Decimal
    kind: HourKind
    mode: HourMode
    idempotency_key: str

    def body(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "hours": float(self.hours),
            "kind": self.kind.value,
            "mode": self.mode.value,
        }


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    text: str

    def __str__(self) -> str:
        return f"第 {self.row} 行「{self.column}」：{self.text}"


def read_rows(filename: str, content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The sheet's data rows with their row numbers, blank rows left out."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        table = _xlsx_rows(content)
    elif name.endswith(".csv"):
        table = _csv_rows(content)
    else:
        raise UnreadableSheet("只接受 .xlsx 或 .csv 文件")
    numbered = [(number, cells) for number, cells in table if any(_text(c) for c in cells)]
    if not numbered:
        raise UnreadableSheet("文件是空的")
    (header_row, header), data = numbered[0], numbered[1:]
    names = [_text(cell) for cell in header]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise UnreadableSheet(
            f"第 {header_row} 行应为表头，缺少列：{'、'.join(missing)}（请使用下载的模板）"
        )
    if not data:
        raise UnreadableSheet("表中没有数据行")
    if len(data) > MAX_ROWS:
        raise UnreadableSheet(f"一次最多导入 {MAX_ROWS} 行，请分批上传")
    position = {column: names.index(column) for column in COLUMNS}
    return [
        (number, {c: cells[i] if i < len(cells) else None for c, i in position.items()})
        for number, cells in data
    ]


def _xlsx_rows(content: bytes) -> Iterable[tuple[int, list[Any]]]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UnreadableSheet("无法读取该 .xlsx 文件，请用 Excel 或 WPS 另存后再试") from None
    sheet = workbook.worksheets[0]
    rows = [
        (number, list(cells)) for number, cells in enumerate(sheet.iter_rows(values_only=True), 1)
    ]
    workbook.close()
    return rows


def _csv_rows(content: bytes) -> Iterable[tuple[int, list[Any]]]:
    # Excel on Chinese Windows saves CSV in GB18030 (GBK); elsewhere UTF-8, often with a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableSheet("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")
    return enumerate(csv.reader(io.StringIO(text, newline="")), 1)


def _text(cell: Any) -> str:
    return "" if cell is None else str(cell).strip()


def validate(
    rows: list[tuple[int, dict[str, Any]]],
    programme: Programme,
    roster: Mapping[str, RosterEntry],
) -> tuple[list[SessionRow], list[RowError]]:
    """Every row checked; the sessions to send only when no row failed."""
    sessions: list[SessionRow] = []
    errors: list[RowError] = []
    hours_per_day: Counter[tuple[str, date]] = Counter()
    occurrences: Counter[tuple[Any, ...]] = Counter()
    for number, cells in rows:
        problems: list[RowError] = []

        def refuse(column: str, text: str, row: int = number) -> None:
            problems.append(RowError(row, column, text))

        trainee_id, name = _text(cells["学员编号"]), _text(cells["姓名"])
        entry = roster.get(trainee_id)
        if not trainee_id:
            refuse("学员编号", "必填")
        elif entry is None:
            refuse("学员编号", "不在本培训班的花名册中")
        elif entry.status != "enrolled":
            refuse(
                "学员编号", "该学员已结业" if entry.status == "completed" else "该学员已退出培训"
            )
        if entry is not None and name != entry.name:
            refuse("姓名", f"与花名册中的姓名「{entry.name}」不一致")
        day = _date(cells["日期"], refuse)
        if day is not None and not programme.starts_on <= day <= programme.ends_on:
            refuse(
                "日期",
                f"不在培训班起止日期（{programme.starts_on} 至 {programme.ends_on}）内",
            )
        hours = _hours(cells["学时"], refuse)
        kind = KINDS.get(_text(cells["类型"]))
        if kind is None:
            refuse("类型", "须为“理论”或“实践”")
        mode = MODES.get(_text(cells["方式"]))
        if mode is None:
            refuse("方式", "须为“线上”或“线下”")
        if day is not None and hours is not None and trainee_id:
            hours_per_day[trainee_id, day] += hours
            if hours_per_day[trainee_id, day] > MAX_HOURS_PER_DAY:
                refuse("学时", f"该学员 {day} 在表中的学时累计超过 24 小时")
        if problems:
            errors.extend(problems)
            continue
        assert day is not None and hours is not None and kind is not None and mode is not None
        content = (programme.programme_id, trainee_id, day, hours.normalize(), kind, mode)
        occurrences[content] += 1  # two equal sessions on one day are two sessions
        sessions.append(
            SessionRow(
                number,
                trainee_id,
                name,
                day,
                hours,
                kind,
                mode,
                idempotency_key=_key(content, occurrences[content]),
            )
        )
    return ([] if errors else sessions), errors


def _date(cell: Any, refuse: Refuse) -> date | None:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell).replace("/", "-").replace(".", "-")
    if not text:
        refuse("日期", "必填")
        return None
    try:
        year, month, day = (int(part) for part in text.split("-"))
        return date(year, month, day)
    except ValueError:
        refuse("日期", f"「{text}」不是有效日期，请写作 2026-03-02")
        return None


def _hours(cell: Any, refuse: Refuse) -> Decimal | None:
    text = _text(cell)
    if not text:
        refuse("学时", "必填")
        return None
    try:
        hours = Decimal(text)
    except InvalidOperation:
        refuse("学时", f"「{text}」不是数字")
        return None
    if not hours.is_finite() or not Decimal(0) < hours <= MAX_HOURS_PER_DAY:
        refuse("学时", "须大于 0 且不超过 24")
        return None
    if hours != hours.quantize(Decimal("0.1")):
        refuse("学时", "最多一位小数")
        return None
    return hours


def _key(content: tuple[Any, ...], occurrence: int) -> str:
    text = "|".join(str(part) for part in (*content, occurrence))
    return "sheet-" + hashlib.sha256(text.encode()).hexdigest()


def template(roster: Iterable[RosterEntry]) -> bytes:
    """An .xlsx template: the header and one line per trainee still in training."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "培训学时"
    sheet.append(list(COLUMNS))
    for entry in roster:
        if entry.status == "enrolled":
            sheet.append([entry.trainee_id, entry.name, None, None, "理论", "线下"])
    sheet.column_dimensions["A"].width = 40
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
