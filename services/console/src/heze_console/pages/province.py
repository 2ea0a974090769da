"""The provincial department's workspace: the queue of certificate cases reported by the
evaluation institutions (read by their status, every one of them), each with its due date (10
Chinese working days; overdue and provisional ones marked), confirmed and reported to the national
office, or returned with reasons; the other cases among the latest opened (one page, not the whole
history); and the register of evaluation institutions (without one, nobody can apply for
assessment)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from heze_common import clock
from heze_console import pipeline
from heze_console.errors import Problem
from heze_console.sessions import Identity
from heze_console.web import CsrfChecked, attempt, redirect, render, services, signed_in
from heze_contracts.enums import Role

router = APIRouter(prefix="/province")
Province = Annotated[Identity, Depends(signed_in(Role.PROVINCIAL_DEPARTMENT))]


QUEUE_STATUS = "awaiting_confirmation"
"""The status of the cases the province confirms or returns: its queue."""
RECENT_CASES = 100
"""How many of the latest cases the other cases' section reads: one page, however long the
history (every case of the province would be thousands of pages)."""


def with_deadlines(cases: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    return [{**case, "deadline": pipeline.deadline(case, today)} for case in cases]


async def queue_of(request: Request, identity: Identity, status: str) -> list[dict[str, Any]]:
    """Every case in `status` (the service lists them by status, page after page), most urgent
    first, each with its deadline."""
    today = clock.today()
    cases = await services(request).all_items(
        "certification", "/cases", identity.token, {"status": status}
    )
    return with_deadlines(pipeline.by_urgency(cases, today), today)


async def recent_others(request: Request, identity: Identity, status: str) -> dict[str, Any]:
    """The context of the other cases' section: of the latest `RECENT_CASES` cases opened (one
    page, newest first), those not in `status` (the queue lists those), each with its deadline;
    and whether older ones exist, not read."""
    response = await services(request).request(
        "certification",
        "GET",
        "/cases",
        identity.token,
        params={"order": "newest", "limit": RECENT_CASES},
    )
    latest = [case for case in response.json() if case["status"] != status]
    return {
        "others": with_deadlines(latest, clock.today()),
        "others_read": RECENT_CASES,
        "others_more": "next" in response.links,
    }


async def workspace_page(
    request: Request,
    identity: Identity,
    problems: list[Problem] | None = None,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    client, token = services(request), identity.token
    queue, others, evaluators, occupations = await asyncio.gather(
        queue_of(request, identity, QUEUE_STATUS),
        recent_others(request, identity, QUEUE_STATUS),
        client.all_items("assessment", "/evaluation-institutions", token),
        client.get("enrollment", "/occupations", token),
    )
    context = {
        "queue": queue,
        **others,
        "evaluators": evaluators,
        "occupations": occupations,
        "form": form or {},
    }
    return render(request, "province.html", context, problems=problems, status_code=status_code)


@router.get("", response_class=HTMLResponse)
async def workspace(request: Request, identity: Province) -> HTMLResponse:
    return await workspace_page(request, identity)


@router.post("/cases/{case_id}/confirmation", dependencies=[CsrfChecked])
async def confirm(request: Request, identity: Province, case_id: str) -> Response:
    call = services(request).send(
        "certification", "POST", f"/cases/{case_id}/confirmation", identity.token
    )
    return await attempt(
        call,
        lambda _: redirect(request, "/province", "已确认，并报国家审核。"),
        lambda problems: workspace_page(request, identity, problems, 422),
    )


@router.post("/cases/{case_id}/return", dependencies=[CsrfChecked])
async def return_case(
    request: Request, identity: Province, case_id: str, reasons: Annotated[str, Form()] = ""
) -> Response:
    listed = pipeline.reasons(reasons)
    if not listed:
        problem = Problem("reasons", "退回原因：请至少填写一条")
        return await workspace_page(request, identity, [problem], 422)
    call = services(request).send(
        "certification", "POST", f"/cases/{case_id}/return", identity.token, {"reasons": listed}
    )
    return await attempt(
        call,
        lambda _: redirect(request, "/province", "已退回评价机构更正，退回原因已告知。"),
        lambda problems: workspace_page(request, identity, problems, 422),
    )


@router.post("/evaluation-institutions", dependencies=[CsrfChecked])
async def register(request: Request, identity: Province) -> Response:
    form = await request.form()
    name = str(form.get("name") or "").strip()
    chosen = [str(code) for code in form.getlist("occupations")]
    entered = {"name": name, "occupations": chosen}
    occupations = {
        o["code"]: o["field"]
        for o in await services(request).get("enrollment", "/occupations", identity.token)
    }
    if not chosen:
        problem = Problem("occupations", "可评价职业：请至少选择一个")
        return await workspace_page(request, identity, [problem], 422, entered)
    body = {"name": name, "occupations": {code: occupations.get(code) for code in chosen}}
    call = services(request).send(
        "assessment", "POST", "/evaluation-institutions", identity.token, body
    )
    return await attempt(
        call,
        lambda _: redirect(request, "/province#evaluators-title", f"已登记评价机构「{name}」。"),
        lambda problems: workspace_page(request, identity, problems, 422, entered),
    )
