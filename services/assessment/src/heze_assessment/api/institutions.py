"""Evaluation institutions and application rules: set by the provincial department."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel
from pydantic import Field as Constraint

from heze_assessment import commands
from heze_assessment.api.common import App
from heze_assessment.domain.conditions import Route, RuleSet
from heze_assessment.domain.evaluation_institution import EvaluationInstitution
from heze_common import clock
from heze_common.auth import Principal, authenticated, require_roles
from heze_common.dispatch import execute, query
from heze_common.pagination import Page, paginated
from heze_common.requests import Body, IsoDate, LongText, ShortText
from heze_common.views import Views
from heze_contracts.enums import Field, Level, Role
from heze_contracts.values import OccupationCode

router = APIRouter(tags=["evaluation institutions and rules"])
Province = Annotated[Principal, Depends(require_roles(Role.PROVINCIAL_DEPARTMENT))]
AnyRole = Annotated[Principal, Depends(authenticated)]


class RegisterEvaluationInstitution(Body):
    name: ShortText
    occupations: dict[OccupationCode, Field]


class Suspend(Body):
    reason: LongText


class EvaluationInstitutionView(BaseModel):
    evaluation_institution_id: UUID
    name: str
    occupations: dict[str, Field]
    suspended: bool

    @classmethod
    def of(cls, institution: EvaluationInstitution) -> EvaluationInstitutionView:
        return cls(
            evaluation_institution_id=institution.id,
            name=institution.name,
            occupations=institution.occupations,
            suspended=institution.suspended,
        )


class Created(BaseModel):
    id: UUID


@router.post(
    "/evaluation-institutions",
    status_code=status.HTTP_201_CREATED,
    summary="Register an evaluation institution",
)
async def register(
    body: RegisterEvaluationInstitution, request: Request, principal: Province
) -> Created:
    command = commands.RegisterEvaluationInstitution(principal=principal, **body.model_dump())
    return Created(id=await execute(request, command))


@router.get(
    "/evaluation-institutions", summary="Evaluation institutions, in registration order (paginated)"
)
async def listing(
    request: Request, response: Response, views: Views, principal: AnyRole, page: Page
) -> list[EvaluationInstitutionView]:
    await views.ensure_cursor(
        page.after,
        "evaluation institution",
        "SELECT 1 FROM evaluation_institutions WHERE evaluation_institution_id = $1",
        page.after,
    )
    rows = await views.fetch(
        "SELECT evaluation_institution_id, name, occupations, suspended"
        " FROM evaluation_institutions WHERE $1::uuid IS NULL OR registered_position >"
        "  (SELECT registered_position FROM evaluation_institutions"
        "  WHERE evaluation_institution_id = $1)"
        " ORDER BY registered_position LIMIT $2",
        page.after,
        page.fetch,
    )
    listed = [EvaluationInstitutionView(**dict(row)) for row in rows]
    return paginated(listed, page, lambda view: view.evaluation_institution_id, request, response)


@router.post("/evaluation-institutions/{institution_id}/suspension", summary="Suspend")
async def suspend(
    institution_id: UUID, body: Suspend, request: Request, principal: Province
) -> EvaluationInstitutionView:
    command = commands.SuspendEvaluationInstitution(
        principal=principal, institution_id=institution_id, reason=body.reason
    )
    return EvaluationInstitutionView.of(await execute(request, command))


@router.delete("/evaluation-institutions/{institution_id}/suspension", summary="Reinstate")
async def reinstate(
    institution_id: UUID, request: Request, principal: Province
) -> EvaluationInstitutionView:
    command = commands.ReinstateEvaluationInstitution(
        principal=principal, institution_id=institution_id
    )
    return EvaluationInstitutionView.of(await execute(request, command))


class SetRules(Body):
    name: ShortText
    routes: dict[Level, list[Route]]
    false_commitment_bar_months: Annotated[int, Constraint(ge=0, le=120)] = 36
    """Months an applicant whose commitment was found false may not apply again (example 36)."""
    effective_from: IsoDate


class RulesView(BaseModel):
    applies: str
    """The occupation code the rules were set for, or `*` for the default."""
    effective_from: date
    rules: RuleSet


@router.put(
    "/rules/{occupation_code}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set an occupation's application rules",
)
async def set_rules(
    occupation_code: OccupationCode, body: SetRules, request: Request, principal: Province
) -> None:
    command = commands.SetRules(
        principal=principal,
        occupation_code=occupation_code,
        rules=RuleSet(
            name=body.name,
            routes=body.routes,
            false_commitment_bar_months=body.false_commitment_bar_months,
        ),
        effective_from=body.effective_from,
    )
    await execute(request, command)


@router.get(
    "/rules/{occupation_code}", summary="The application rules in force for an occupation on a date"
)
async def rules(
    occupation_code: OccupationCode, app: App, principal: AnyRole, on: IsoDate | None = None
) -> RulesView:
    book = await query(app.rulebook)
    applies, since, rule_set = book.rules_for(occupation_code, on or clock.today())
    return RulesView(applies=applies, effective_from=since, rules=rule_set)
