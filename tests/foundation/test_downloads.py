"""Streamed reports (heze_common.downloads): the JSON and the CSV written chunk by chunk say
exactly what the rows say, Chinese text byte-exact, however many rows, none included."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from heze_common.downloads import CHUNK_ROWS, csv_stream, json_stream


class Line(BaseModel):
    name: str
    hours: Decimal
    on: date
    note: str | None


def lines(count: int) -> list[Line]:
    return [
        Line(name=f'欧阳𠮷"{n},', hours=Decimal("1.5") * n, on=date(2026, 1, 1), note=None)
        for n in range(count)
    ]


async def rows(count: int) -> AsyncIterator[Line]:
    for line in lines(count):
        yield line


async def body(response: StreamingResponse) -> tuple[bytes, int]:
    chunks = [chunk async for chunk in response.body_iterator]
    return b"".join(chunks), len(chunks)  # type: ignore[arg-type]


async def test_a_json_list_of_any_length_is_the_rows_in_order() -> None:
    many = 2 * CHUNK_ROWS + 7
    content, chunks = await body(json_stream(rows(many)))
    assert chunks == 3
    assert json.loads(content) == [line.model_dump(mode="json") for line in lines(many)]
    assert (await body(json_stream(rows(0))))[0] == b"[]"


async def test_a_wrapped_json_list_carries_what_the_rows_told_it() -> None:
    seen = {"month": "2026-11", "count": 0}

    async def counted() -> AsyncIterator[Line]:
        async for line in rows(3):
            seen["count"] += 1
            yield line

    content, _ = await body(json_stream(counted(), wrapped=lambda: seen, key="lines"))
    document = json.loads(content)
    assert (document["month"], document["count"], len(document["lines"])) == ("2026-11", 1, 3)
    empty, _ = await body(json_stream(rows(0), wrapped=lambda: {"count": 0}, key="lines"))
    assert json.loads(empty) == {"count": 0, "lines": []}


async def test_a_csv_download_is_a_header_the_rows_and_the_last_row() -> None:
    many = CHUNK_ROWS + 1
    response = csv_stream(
        list(Line.model_fields), rows(many), "report.csv", last_row=lambda: ["total", many]
    )
    assert response.headers["content-disposition"] == 'attachment; filename="report.csv"'
    content, _ = await body(response)
    assert content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert table[0] == list(Line.model_fields)
    assert table[1] == ['欧阳𠮷"0,', "0.0", "2026-01-01", ""]
    assert len(table) == many + 2 and table[-1] == ["total", str(many)]
