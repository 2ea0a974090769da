"""Subsidy standards and policy: set by the city bureau, each from a date."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, StrictInt
from pydantic import Field as Constraint

from heze_common import clock
from heze_common.auth import Principal, authenticated, require_roles
from heze_common.dispatch import execute, query
from heze_common.requests import Body, IsoDate
from heze_contracts.enums import Level, Role
from heze_contracts.values import OccupationCode
from heze_subsidy import commands
from heze_subsidy.api.common import App
from heze_subsidy.domain.rules import Standard, SubsidyPolicy

router = APIRouter(tags=["standards and policy"])
City = Annotated[Principal, Depends(require_roles(Role.CITY_BUREAU))]
AnyRole = Annotated[Principal, Depends(authenticated)]


class SetStandard(Body):
    occupation_code: OccupationCode
    level: Level
    amount_fen: Annotated[StrictInt, Constraint(gt=0)]
    effective_from: IsoDate
    effective_to: IsoDate | None = None


class SetPolicy(Body):
    policy: SubsidyPolicy
    effective_from: IsoDate


class PolicyView(BaseModel):
    effective_from: date
    policy: SubsidyPolicy


@router.post(
    "/standards",
    status_code=status.HTTP_201_CREATED,
    summary="Set a subsidy standard for a date range",
)
async def set_standard(body: SetStandard, request: Request, principal: City) -> Standard:
    return await execute(request, commands.SetStandard(principal=principal, **body.model_dump()))


@router.get("/standards", summary="Subsidy standards, in the order they were set")
async def standards(app: App, principal: AnyRole) -> list[Standard]:
    return (await query(app.rules)).standards


@router.put("/policy", summary="Set the subsidy policy from a date")
async def set_policy(body: SetPolicy, request: Request, principal: City) -> PolicyView:
    command = commands.SetPolicy(
        principal=principal, policy=body.policy, effective_from=body.effective_from
    )
    await execute(request, command)
    return PolicyView(effective_from=body.effective_from, policy=body.policy)


@router.get("/policy", summary="The subsidy policy in force on a date")
async def policy(app: App, principal: AnyRole, on: IsoDate | None = None) -> PolicyView:
    since, terms = (await query(app.rules)).policy_on(on or clock.today())
    return PolicyView(effective_from=since, policy=terms)
