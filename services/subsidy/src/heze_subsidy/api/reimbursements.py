"""Employer tuition reimbursement: recorded by the employer, once per trainee and programme."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, StrictInt
from pydantic import Field as Constraint

from heze_common.auth import Principal, require_roles
from heze_common.dispatch import execute
from heze_common.requests import Body
from heze_common.views import Views
from heze_contracts.enums import Role
from heze_subsidy import commands
from heze_subsidy.domain.reimbursement import Reimbursement

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

    @classmethod
    def of(cls, reimbursement: Reimbursement) -> ReimbursementLine:
        return cls(
            reimbursement_id=reimbursement.id,
            trainee_id=reimbursement.trainee_id,
            programme_id=reimbursement.programme_id,
            amount_fen=reimbursement.amount_fen,
            reimbursed_on=reimbursement.reimbursed_on,
        )


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
    body: RecordReimbursement, request: Request, principal: Employer
) -> ReimbursementLine:
    command = commands.RecordReimbursement(principal=principal, **body.model_dump())
    return ReimbursementLine.of(await execute(request, command))


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
