"""Employer tuition reimbursement: recorded by the employer, once per trainee and programme."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, StrictInt
from pydantic import Field as Constraint

from heze_common.auth import Principal, require_roles
from heze_common.commands import execute
from heze_common.requests import Body
from heze_common.views import Views
from heze_contracts.enums import Role
from heze_subsidy.api.common import App

router = APIRouter(tags=["employer reimbursement"])
Employer = Annotated[Principal, Depends(require_roles(Role.EMPLOYER))]
Reader = Annotated[Principal, Depends(require_roles(Role.EMPLOYER, Role.CITY_BUREAU, Role.AUDITOR))]


class RecordReimbursement(Body):
    trainee_id: UUID
    programme_id: UUID
    amount_fen: Annotated[StrictInt, Constraint(gt=0)]


class ReimbursementLine(BaseModel):
    reimbursement_id: UUID
    trainee_id: UUID
    programme_id: UUID
    amount_fen: int
    reimbursed_on: date


class EmployerReport(BaseModel):
    employer_id: UUID
    total_fen: int
    reimbursements: list[ReimbursementLine]


@router.post(
    "/reimbursements",
    status_code=status.HTTP_201_CREATED,
    summary="Record tuition reimbursed to an employee",
)
async def record(
    body: RecordReimbursement, request: Request, app: App, views: Views, principal: Employer
) -> ReimbursementLine:
    reimbursement_id = await execute(
        request,
        principal,
        app.record_reimbursement,
        principal.organisation_id,
        body.trainee_id,
        body.programme_id,
        body.amount_fen,
    )
    report = await employer_report(principal.organisation_id, views, principal)
    return next(line for line in report.reimbursements if line.reimbursement_id == reimbursement_id)


@router.get("/reimbursements/{employer_id}", summary="An employer's reimbursements")
async def employer_report(employer_id: UUID, views: Views, principal: Reader) -> EmployerReport:
    if principal.role is Role.EMPLOYER:
        principal.ensure_acts_for(employer_id)
    rows = await views.fetch(
        "SELECT reimbursement_id, trainee_id, programme_id, amount_fen, reimbursed_on"
        " FROM reimbursements WHERE employer_id = $1 ORDER BY recorded_position",
        employer_id,
    )
    lines = [ReimbursementLine(**dict(row)) for row in rows]
    return EmployerReport(
        employer_id=employer_id,
        total_fen=sum(line.amount_fen for line in lines),
        reimbursements=lines,
    )
