"""The auditors' workspace (审计): find a person by trainee id, ID number or certificate number,
read their trail across the four services in time order, their record as it stood on a date,
each service's signed checkpoints with the command that verifies a log against them, and a
service's self-check of its log against its checkpoints (its own key: the independent check
stays the command, with the key the auditor pinned).

Read-only, as the auditor role is everywhere: the services refuse it every write (the self-check
is a POST, but it only reads)."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from heze_console.errors import Problem, describe
from heze_console.services import ServiceError
from heze_console.sessions import Identity
from heze_console.settings import SERVICES
from heze_console.web import CsrfChecked, render, services, signed_in
from heze_contracts.enums import Role

router = APIRouter(prefix="/auditor")
Auditor = Annotated[Identity, Depends(signed_in(Role.AUDITOR))]
ID_NUMBER = re.compile(r"^[0-9]{17}[0-9Xx]$")
CHINA = "+08:00"
FINDING_KINDS = {
    "altered": "记录被改动",
    "inserted": "记录被插入",
    "deleted": "记录被删除",
    "truncated": "日志末尾被截断",
    "chain_rewritten": "哈希链被改写",
    "bad_signature": "检查点签名无效",
}
"""The findings of `heze_common.ledger.verify`, in Chinese (an unknown kind shows as sent)."""


async def trainee_of(request: Request, identity: Identity, wanted: str) -> str:
    """The trainee id the auditor typed, or the one an ID number or a certificate number names."""
    try:
        return str(UUID(wanted))
    except ValueError:
        pass
    client = services(request)
    if ID_NUMBER.fullmatch(wanted):
        path = f"/audit/lookup/id-number/{wanted.upper()}"
        return str((await client.get("enrollment", path, identity.token))["trainee_id"])
    path = f"/audit/lookup/certificate/{wanted}"
    return str((await client.get("certification", path, identity.token))["trainee_id"])


async def trail_of(request: Request, identity: Identity, trainee_id: str) -> list[dict[str, Any]]:
    """Every event each service stored about the trainee, in time order."""
    client = services(request)
    events = [
        event
        for service in SERVICES
        for event in await client.get(service, f"/audit/trail/{trainee_id}", identity.token)
    ]
    return sorted(
        events, key=lambda event: (event["timestamp"], event["service"], event["version"])
    )


async def checkpoints(request: Request, identity: Identity) -> list[dict[str, Any]]:
    """Each service's latest signed checkpoint (the log's position and hash it vouches for)."""
    client, found = services(request), []
    for service in SERVICES:
        signed = await client.get(service, "/audit/checkpoints", identity.token)
        latest = signed["checkpoints"][-1] if signed["checkpoints"] else None
        found.append(
            {
                "service": service,
                "count": len(signed["checkpoints"]),
                "latest": latest,
                "public_key": signed["public_key"],
            }
        )
    return found


@router.get("", response_class=HTMLResponse)
async def workspace(
    request: Request,
    identity: Auditor,
    q: Annotated[str, Query(max_length=64)] = "",
    as_of: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    wanted, problems = q.strip(), []
    context: dict[str, Any] = {"q": wanted, "as_of": as_of, "trainee_id": None, "trail": []}
    day: date | None = None
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            problems.append(Problem("as_of", "截至日期：请按 年-月-日 填写，例如 2026-11-27"))
    if wanted and not problems:
        try:
            trainee_id = await trainee_of(request, identity, wanted)
            context["trainee_id"] = trainee_id
            context["trail"] = await trail_of(request, identity, trainee_id)
            if day is not None:
                moment = datetime.combine(day, time(23, 59, 59)).isoformat() + CHINA
                context["state"] = await services(request).get(
                    "enrollment",
                    f"/audit/aggregates/{trainee_id}",
                    identity.token,
                    {"as_of": moment},
                )
        except ServiceError as error:
            problems.extend(describe(error))
    return await workspace_page(request, identity, context, problems)


async def workspace_page(
    request: Request, identity: Identity, context: dict[str, Any], problems: list[Problem]
) -> HTMLResponse:
    context = {"q": "", "as_of": "", "trainee_id": None, "trail": [], **context}
    context["checkpoints"] = await checkpoints(request, identity)
    context["finding_kinds"] = FINDING_KINDS
    return render(
        request, "auditor.html", context, problems=problems, status_code=422 if problems else 200
    )


@router.post("/verification/{service}", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def verification(request: Request, identity: Auditor, service: str) -> HTMLResponse:
    """The service checks its log against its published checkpoints with its own key (the
    console's HTTP timeout applies: a very large log may outlast it, then the command is the
    way)."""
    if service not in SERVICES:
        raise HTTPException(404)
    try:
        result = await services(request).send(
            service, "POST", "/audit/verification", identity.token, {}
        )
    except ServiceError as error:
        return await workspace_page(
            request, identity, {"verified_service": service}, describe(error)
        )
    return await workspace_page(
        request, identity, {"verified_service": service, "verification": result}, []
    )
