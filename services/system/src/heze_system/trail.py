"""The cross-service trail of one trainee: every event each service stored about them, merged
in causal order (time, then cause before effect), as rows, JSON or a self-contained HTML page."""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

import httpx

SERVICE_ORDER = {"enrollment": 0, "assessment": 1, "certification": 2, "subsidy": 3}


def collect(urls: dict[str, str], token: str, trainee_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for service, url in urls.items():
        response = httpx.get(
            f"{url}/audit/trail/{trainee_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        response.raise_for_status()
        events.extend(response.json())
    return causal_order(events)


def find_trainee(
    urls: dict[str, str], token: str, certificate: str | None, id_number: str | None
) -> str:
    """The trainee id behind a certificate number or an ID number."""
    if certificate:
        path = f"{urls['certification']}/audit/lookup/certificate/{certificate}"
    elif id_number:
        path = f"{urls['enrollment']}/audit/lookup/id-number/{id_number}"
    else:
        raise ValueError("give a trainee id, a certificate number or an ID number")
    response = httpx.get(path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    response.raise_for_status()
    return response.json()["trainee_id"]


def causal_order(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By time of occurrence: a consumer's effect is created after the event that caused it (its
    causation id), so time orders causes first; ties follow the pipeline's order of services."""
    return sorted(
        events,
        key=lambda e: (
            datetime.fromisoformat(e["timestamp"]),
            SERVICE_ORDER[e["service"]],
            e["version"],
        ),
    )


def to_json(events: list[dict[str, Any]]) -> str:
    return json.dumps(events, ensure_ascii=False, indent=2)


def to_html(trainee_id: str, events: list[dict[str, Any]]) -> str:
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(value))}</td>"
            for value in (
                event["timestamp"],
                event["service"],
                event["topic"],
                event["actor"] or "",
                json.dumps(event["data"], ensure_ascii=False),
            )
        )
        + "</tr>"
        for event in events
    )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Trail of trainee {html.escape(trainee_id)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;font-size:13px}}th{{background:#eee}}</style></head>
<body><h1>Trail of trainee <code>{html.escape(trainee_id)}</code></h1>
<p>{len(events)} events across the four services, in causal order.</p>
<table><thead><tr><th>time (UTC)</th><th>service</th><th>event</th><th>actor</th><th>facts</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""
