"""Reports as CSV downloads (UTF-8 with a BOM, so spreadsheet programs read Chinese text)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from fastapi import Response
from pydantic import BaseModel

CSV_ALTERNATIVE = {
    200: {
        "description": "The JSON document, or with `format=csv` the same as a CSV download",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
"""`responses=` of a route that also answers CSV: the OpenAPI document then says so."""


def csv_download(
    columns: Sequence[str],
    rows: Iterable[BaseModel],
    filename: str,
    *,
    last_row: Sequence[object] = (),
) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            ["" if value is None else str(value) for value in row.model_dump().values()]
        )
    if last_row:
        writer.writerow(last_row)
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
