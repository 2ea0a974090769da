"""Applications: a trainee applies and signs the commitment; the evaluation institution reviews
qualification; a result found to rest on a false declaration is voided."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, StrictBool

from heze_assessment import commands
from heze_assessment.api.common import App
from heze_assessment.domain.application import Application, Status
from heze_assessment.domain.conditions import Declaration
from heze_common.auth import Principal, require_roles
from heze_common.dispatch import execute, query
from heze_common.pagination import Page, paginated
from heze_common.requests import Body, LongText
from heze_common.views import Views
from heze_contracts.enums import Field, Level, Role
from heze_contracts.values import OccupationCode

router = APIRouter(tags=["applications"])
Trainee = Annotated[Principal, Depends(require_roles(Role.TRAINEE))]
Evaluator = Annotated[Principal, Depends(require_roles(Role.EVALUATION_INSTITUTION))]
Voider = Annotated[
    Principal, Depends(require_roles(Role.EVALUATION_INSTITUTION, Role.PROVINCIAL_DEPARTMENT))
]
Reader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.TRAINEE, Role.EVALUATION_INSTITUTION, Role.PROVINCIAL_DEPARTMENT, Role.AUDITOR
        )
    ),
]
ListReader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.EVALUATION_INSTITUTION, Role.PROVINCIAL_DEPARTMENT, Role.AUDITOR, Role.TRAINEE
        )
    ),
]


class Apply(Body):
    evaluation_institution_id: UUID
    occupation_code: OccupationCode
    level: Level
    declaration: Declaration
    commitment_text: LongText
    """The exact text of the commitment (告知承诺书) the applicant signs."""
    commitment_signed: StrictBool
    """Must be true: an application is a signed commitment that the declared facts are true."""


class QualificationDecision(Body):
    confirm: StrictBool
    reason: LongText | None = None
    """Required when rejecting."""


class Void(Body):
    reason: LongText
    false_commitment: StrictBool = False
    """The voiding finds the applicant's commitment false: they may not apply again for the
    occupation for the months the rules in force set."""


class ApplicationView(BaseModel):
    application_id: UUID
    trainee_id: UUID
    evaluation_institution_id: UUID
    occupation_code: str
    field: Field
    level: Level
    status: Status
    route: str
    declaration: Declaration
    commitment_text: str
    commitment_signed_at: datetime
    session_id: UUID | None
    assessed_on: date | None
    theory_score: Decimal | None
    practical_score: Decimal | None
    voided: bool
    reason: str | None

    @classmethod
    def of(cls, application: Application) -> ApplicationView:
        theory, practical = application.scores or (None, None)
        return cls(
            application_id=application.id,
            trainee_id=application.trainee_id,
            evaluation_institution_id=application.evaluation_institution_id,
            occupation_code=application.occupation_code,
            field=application.field,
            level=application.level,
            status=application.status,
            route=application.route,
            declaration=application.declaration,
            commitment_text=application.commitment_text,
            commitment_signed_at=application.commitment_signed_at,
            session_id=application.session_id,
            assessed_on=application.assessed_on,
            theory_score=theory,
            practical_score=practical,
            voided=application.voided,
            reason=application.reason,
        )


@router.post(
    "/applications", status_code=status.HTTP_201_CREATED, summary="Apply for level assessment"
)
async def apply(body: Apply, request: Request, principal: Trainee) -> ApplicationView:
    command = commands.Apply(
        principal=principal,
        evaluation_institution_id=body.evaluation_institution_id,
        occupation_code=body.occupation_code,
        level=body.level,
        declaration=body.declaration,
        commitment_text=body.commitment_text,
        commitment_signed=body.commitment_signed,
    )
    return ApplicationView.of(await execute(request, command))


@router.get("/applications/{application_id}", summary="One application")
async def application(application_id: UUID, app: App, principal: Reader) -> ApplicationView:
    return ApplicationView.of(await query(app.own_application, principal, application_id))


APPLICATION_COLUMNS = (
    "application_id, trainee_id, evaluation_institution_id, occupation_code, field, level,"
    " status, route, declaration, commitment_text, commitment_signed_at, session_id,"
    " assessed_on, theory_score, practical_score, voided, reason"
)


@router.get(
    "/applications",
    summary="Applications of an evaluation institution or a trainee (a trainee's own), in filing"
    " order (paginated)",
)
async def applications(
    request: Request,
    response: Response,
    views: Views,
    principal: ListReader,
    page: Page,
    evaluation_institution_id: UUID | None = None,
    trainee_id: UUID | None = None,
    status_filter: Annotated[Status | None, Query(alias="status")] = None,
) -> list[ApplicationView]:
    if principal.role is Role.TRAINEE:
        # Without it no filter is left: the listing would show every trainee's applications.
        trainee_id = principal.own_trainee_id()
    evaluation_institution_id = principal.listing_scope(evaluation_institution_id)

    await views.ensure_cursor(
        page.after,
        "application",
        "SELECT 1 FROM applications WHERE application_id = $1",
        page.after,
    )
    rows = await views.fetch(
        f"SELECT {APPLICATION_COLUMNS} FROM applications"
        " WHERE ($1::uuid IS NULL OR evaluation_institution_id = $1)"
        " AND ($2::uuid IS NULL OR trainee_id = $2)"
        " AND ($3::text IS NULL OR status = $3)"
        " AND ($4::uuid IS NULL OR filed_position >"
        "  (SELECT filed_position FROM applications WHERE application_id = $4))"
        " ORDER BY filed_position LIMIT $5",
        evaluation_institution_id,
        trainee_id,
        status_filter.value if status_filter else None,
        page.after,
        page.fetch,
    )
    listed = [ApplicationView(**dict(row)) for row in rows]
    return paginated(listed, page, lambda view: view.application_id, request, response)


@router.post(
    "/applications/{application_id}/qualification", summary="Confirm or reject qualification"
)
async def qualification(
    application_id: UUID,
    body: QualificationDecision,
    request: Request,
    principal: Evaluator,
) -> ApplicationView:
    command = (
        commands.ConfirmQualification(principal=principal, application_id=application_id)
        if body.confirm
        else commands.RejectQualification(
            principal=principal, application_id=application_id, reason=body.reason
        )
    )
    return ApplicationView.of(await execute(request, command))


@router.post(
    "/applications/{application_id}/voiding", summary="Void the result (false declaration found)"
)
async def void(
    application_id: UUID, body: Void, request: Request, principal: Voider
) -> ApplicationView:
    command = commands.VoidResult(
        principal=principal,
        application_id=application_id,
        reason=body.reason,
        false_commitment=body.false_commitment,
    )
    return ApplicationView.of(await execute(request, command))
