"""An employer's workspace (用人单位): the tuition it reimbursed to its employees, with the
total, and a reimbursement recorded (once per trainee and programme: the subsidy service keeps
the rule)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from heze_console import pipeline
from heze_console.errors import Problem
from heze_console.sessions import Identity
from heze_console.web import CsrfChecked, attempt, redirect, render, services, signed_in
from heze_contracts.enums import Role

router = APIRouter(prefix="/employer")
Employer = Annotated[Identity, Depends(signed_in(Role.EMPLOYER))]


async def workspace_page(
    request: Request,
    identity: Identity,
    problems: list[Problem] | None = None,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    path = f"/reimbursements/{identity.organisation_id}"
    report = await services(request).get("subsidy", path, identity.token)
    context = {"report": report, "form": form or {}}
    return render(request, "employer.html", context, problems=problems, status_code=status_code)


@router.get("", response_class=HTMLResponse)
async def workspace(request: Request, identity: Employer) -> HTMLResponse:
    return await workspace_page(request, identity)


def fen_of(yuan: str) -> int | None:
    """The amount in fen of a yuan amount typed with at most two decimals, or None."""
    try:
        amount = Decimal(yuan.strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


@router.post("/reimbursements", dependencies=[CsrfChecked])
async def record(
    request: Request,
    identity: Employer,
    trainee_id: Annotated[str, Form()] = "",
    programme_id: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
) -> Response:
    form = {"trainee_id": trainee_id, "programme_id": programme_id, "amount": amount}
    amount_fen = fen_of(amount)
    if amount_fen is None:
        problem = Problem("amount", "报销金额（元）：须为大于 0 的金额，最多两位小数")
        return await workspace_page(request, identity, [problem], 422, form)
    body = {
        "trainee_id": trainee_id.strip(),
        "programme_id": programme_id.strip(),
        "amount_fen": amount_fen,
    }
    call = services(request).send("subsidy", "POST", "/reimbursements", identity.token, body)
    return await attempt(
        call,
        lambda _: redirect(request, "/employer", f"已登记学费报销 {pipeline.yuan(amount_fen)}。"),
        lambda problems: workspace_page(request, identity, problems, 422, form),
    )
