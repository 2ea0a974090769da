"""Reports as downloads streamed from the views: CSV (UTF-8 with a BOM, so spreadsheet programs
read Chinese text) or JSON, written as the rows arrive, so a report of any size (a year of the
city's continuing-education credits) is served in bounded memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

from fastapi.encoders import jsonable_encoder
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

CSV_ALTERNATIVE = {
    200: {
        "description": "The JSON document, or with `format=csv` the same as a CSV download",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
"""`responses=` of a route that also answers CSV: the OpenAPI document then says so."""

CHUNK_ROWS = 500
"""Rows written per chunk of the response."""


async def _chunks(lines: AsyncIterable[str]) -> AsyncIterator[bytes]:
    held: list[str] = []
    async for line in lines:
        held.append(line)
        if len(held) >= CHUNK_ROWS:
            yield "".join(held).encode()
            held = []
    if held:
        yield "".join(held).encode()


def csv_stream(
    columns: Sequence[str],
    rows: AsyncIterable[M],
    filename: str,
    *,
    last_row: Callable[[], Sequence[object]] | None = None,
) -> StreamingResponse:
    """A CSV download: a header of `columns`, a line per row, then `last_row()` (say, a total)
    once the rows are done."""

    def line(values: Sequence[object]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer).writerow(["" if value is None else str(value) for value in values])
        return buffer.getvalue()

    async def lines() -> AsyncIterator[str]:
        yield "\ufeff" + line(columns)
        async for row in rows:
            yield line(list(row.model_dump().values()))
        if last_row is not None:
            yield line(last_row())

    return StreamingResponse(
        _chunks(lines()),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def json_stream(
    rows: AsyncIterable[M], *, wrapped: Callable[[], dict[str, Any]] | None = None, key: str = ""
) -> StreamingResponse:
    """A JSON list of the rows; with `wrapped`, an object whose `key` holds that list, its other
    members being `wrapped()` (known once the first row or none has arrived)."""

    async def lines() -> AsyncIterator[str]:
        first = True
        async for row in rows:
            opening = _opening(wrapped, key) if first else ","
            yield opening + json.dumps(jsonable_encoder(row), ensure_ascii=False)
            first = False
        yield (_opening(wrapped, key) if first else "") + ("]}" if wrapped else "]")

    return StreamingResponse(_chunks(lines()), media_type="application/json")


def _opening(wrapped: Callable[[], dict[str, Any]] | None, key: str) -> str:
    if wrapped is None:
        return "["
    members = json.dumps(jsonable_encoder(wrapped()), ensure_ascii=False)[1:-1]
    return "{" + (members + "," if members else "") + json.dumps(key) + ":["
