"""The national office's workspace (专业技术人员知识工程指导协调小组办公室): the queue of cases the
provinces confirmed (read by their status, every one of them), approved or sent back with
reasons; the other cases among the latest opened (one page, not the whole history) with their
stage and due date (overdue and provisional ones marked)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from heze_console import pipeline
from heze_console.errors import Problem
from heze_console.pages.province import queue_of, recent_others
from heze_console.sessions import Identity
from heze_console.web import CsrfChecked, attempt, redirect, render, services, signed_in
from heze_contracts.enums import Role

router = APIRouter(prefix="/national")
National = Annotated[Identity, Depends(signed_in(Role.NATIONAL_OFFICE))]
QUEUE_STATUS = "awaiting_approval"
"""The status of the cases the national office approves or sends back: its queue."""


async def workspace_page(
    request: Request,
    identity: Identity,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    queue, others = await asyncio.gather(
        queue_of(request, identity, QUEUE_STATUS), recent_others(request, identity, QUEUE_STATUS)
    )
    context = {"queue": queue, **others}
    return render(request, "national.html", context, problems=problems, status_code=status_code)


@router.get("", response_class=HTMLResponse)
async def workspace(request: Request, identity: National) -> HTMLResponse:
    return await workspace_page(request, identity)


@router.post("/cases/{case_id}/approval", dependencies=[CsrfChecked])
async def approve(request: Request, identity: National, case_id: str) -> Response:
    call = services(request).send(
        "certification", "POST", f"/cases/{case_id}/approval", identity.token
    )
    return await attempt(
        call,
        lambda _: redirect(request, "/national", "审核通过，评价机构可颁发证书。"),
        lambda problems: workspace_page(request, identity, problems, 422),
    )


@router.post("/cases/{case_id}/rejection", dependencies=[CsrfChecked])
async def reject(
    request: Request, identity: National, case_id: str, reasons: Annotated[str, Form()] = ""
) -> Response:
    listed = pipeline.reasons(reasons)
    if not listed:
        problem = Problem("reasons", "退回原因：请至少填写一条")
        return await workspace_page(request, identity, [problem], 422)
    call = services(request).send(
        "certification", "POST", f"/cases/{case_id}/rejection", identity.token, {"reasons": listed}
    )
    return await attempt(
        call,
        lambda _: redirect(request, "/national", "审核未通过，已退回并告知原因。"),
        lambda problems: workspace_page(request, identity, problems, 422),
    )
