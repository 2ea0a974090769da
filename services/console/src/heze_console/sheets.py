"""A sheet of training sessions (.xlsx or .csv) read, and every row checked before any is sent;
and what every uploaded sheet shares (the score sheet of `score_sheet` too): reading the file,
the problems of a row, the rows sent one by one, and what became of the upload.

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
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar

import openpyxl

from heze_console.errors import as_text, describe
from heze_console.services import ServiceError
from heze_contracts.enums import HourKind, HourMode

COLUMNS = ("学员编号", "姓名", "日期", "学时", "类型", "方式")
MAX_ROWS = 2000
MAX_HOURS_PER_DAY = Decimal(24)
KINDS = {**{k.label: k for k in HourKind}, **{k.value: k for k in HourKind}}
MODES = {**{m.label: m for m in HourMode}, **{m.value: m for m in HourMode}}


Refuse = Callable[[str, str], None]
"""Records a problem of the row being checked: its column and what is wrong."""


class UnreadableSheet(Exception):
    """The file as a whole cannot be read as the sheet expected (the reason is in Chinese)."""


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


@dataclass
class Upload:
    """What became of an uploaded sheet, for the page to say (templates/sheet_report.html)."""

    filename: str
    about: str = ""
    """What the sheet was for, when the page holds more than one (the assessment session)."""
    errors: list[RowError] = field(default_factory=list)
    unreadable: str | None = None
    recorded: list[int] = field(default_factory=list)
    refused_row: int | None = None
    refusal: str | None = None
    unsent: list[int] = field(default_factory=list)


class Numbered(Protocol):
    @property
    def row(self) -> int: ...


Row = TypeVar("Row", bound=Numbered)


async def send_each(
    rows: Sequence[Row], send: Callable[[Row], Awaitable[object]], upload: Upload
) -> bool:
    """The rows sent one by one, in order; true when every one was recorded. At the first
    refusal the upload names the rows recorded, the row refused (the refusal in Chinese) and the
    rows not sent."""
    for index, row in enumerate(rows):
        try:
            await send(row)
        except ServiceError as error:
            upload.refused_row, upload.refusal = row.row, as_text(describe(error))
            upload.unsent = [later.row for later in rows[index + 1 :]]
            upload.recorded.sort()
            return False
        upload.recorded.append(row.row)
    return True


def read_upload(
    filename: str, content: bytes, limit: int, columns: Sequence[str] = COLUMNS
) -> list[tuple[int, dict[str, Any]]]:
    """`read_rows` of an uploaded file read up to one byte past `limit` (larger: refused)."""
    if len(content) > limit:
        raise UnreadableSheet(f"文件超过 {limit // 1_000_000} MB，请分批上传")
    return read_rows(filename, content, columns)


def read_rows(
    filename: str, content: bytes, columns: Sequence[str] = COLUMNS
) -> list[tuple[int, dict[str, Any]]]:
    """The sheet's data rows with their row numbers, blank rows left out, each a mapping of
    `columns` (the sessions sheet's unless told) to its cells; other columns are ignored."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        table = _xlsx_rows(content)
    elif name.endswith(".csv"):
        table = _csv_rows(content)
    else:
        raise UnreadableSheet("只接受 .xlsx 或 .csv 文件")
    numbered = [(number, cells) for number, cells in table if any(cell_text(c) for c in cells)]
    if not numbered:
        raise UnreadableSheet("文件是空的")
    (header_row, header), data = numbered[0], numbered[1:]
    names = [cell_text(cell) for cell in header]
    missing = [column for column in columns if column not in names]
    if missing:
        raise UnreadableSheet(
            f"第 {header_row} 行应为表头，缺少列：{'、'.join(missing)}（请使用下载的模板）"
        )
    if not data:
        raise UnreadableSheet("表中没有数据行")
    if len(data) > MAX_ROWS:
        raise UnreadableSheet(f"一次最多导入 {MAX_ROWS} 行，请分批上传")
    position = {column: names.index(column) for column in columns}
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


def cell_text(cell: Any) -> str:
    return "" if cell is None else str(cell).strip()


def one_decimal(
    cell: Any, column: str, refuse: Refuse, within: Callable[[Decimal], bool], bounds: str
) -> Decimal | None:
    """A number with at most one decimal place, `within` its bounds (`bounds` says them when
    not); None, with the problem recorded, when the cell is empty or holds no such number."""
    text = cell_text(cell)
    if not text:
        refuse(column, "必填")
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        refuse(column, f"「{text}」不是数字")
        return None
    if not number.is_finite() or not within(number):
        refuse(column, bounds)
        return None
    if number != number.quantize(Decimal("0.1")):
        refuse(column, "最多一位小数")
        return None
    return number


def row_key(*content: Any) -> str:
    """An `Idempotency-Key` following a row's content: the same row uploaded again sends the
    same key, and the service answers it as the first time instead of recording it twice."""
    text = "|".join(str(part) for part in content)
    return "sheet-" + hashlib.sha256(text.encode()).hexdigest()


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

        trainee_id, name = cell_text(cells["学员编号"]), cell_text(cells["姓名"])
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
        kind = KINDS.get(cell_text(cells["类型"]))
        if kind is None:
            refuse("类型", "须为“理论”或“实践”")
        mode = MODES.get(cell_text(cells["方式"]))
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
                idempotency_key=row_key(*content, occurrences[content]),
            )
        )
    return ([] if errors else sessions), errors


def _date(cell: Any, refuse: Refuse) -> date | None:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = cell_text(cell).replace("/", "-").replace(".", "-")
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
    def within(hours: Decimal) -> bool:
        return Decimal(0) < hours <= MAX_HOURS_PER_DAY

    return one_decimal(cell, "学时", refuse, within, "须大于 0 且不超过 24")


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
