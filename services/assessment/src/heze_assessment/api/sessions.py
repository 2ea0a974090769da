"""Assessment sessions: scheduled by an evaluation institution, confirmed applicants assigned,
theory and practical scores recorded once; a correction is its own event with a reason. The
sessions are listed from the `sessions` view, each with the number of applicants assigned."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel

from heze_assessment import commands
from heze_assessment.api.applications import ApplicationView
from heze_assessment.api.common import App
from heze_assessment.domain.session import AssessmentSession
from heze_common.auth import Principal, require_roles
from heze_common.dispatch import execute, query
from heze_common.pagination import Page, paginated
from heze_common.requests import Body, IsoDate, LongText, Mark, ShortText
from heze_common.views import Views
from heze_contracts.enums import Level, Role
from heze_contracts.values import OccupationCode

router = APIRouter(tags=["sessions"])
Evaluator = Annotated[Principal, Depends(require_roles(Role.EVALUATION_INSTITUTION))]
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.EVALUATION_INSTITUTION, Role.PROVINCIAL_DEPARTMENT, Role.AUDITOR)),
]


class Schedule(Body):
    occupation_code: OccupationCode
    level: Level
    held_on: IsoDate
    place: ShortText


class Assign(Body):
    application_ids: list[UUID]


class Scores(Body):
    theory_score: Mark
    practical_score: Mark


class Correction(Scores):
    reason: LongText


class SessionView(BaseModel):
    session_id: UUID
    evaluation_institution_id: UUID
    occupation_code: str
    level: Level
    held_on: date
    place: str
    application_ids: list[UUID]

    @classmethod
    def of(cls, session: AssessmentSession) -> SessionView:
        return cls(
            session_id=session.id,
            evaluation_institution_id=session.evaluation_institution_id,
            occupation_code=session.occupation_code,
            level=session.level,
            held_on=session.held_on,
            place=session.place,
            application_ids=session.application_ids,
        )


class SessionListed(BaseModel):
    """A session in the list: as `SessionView`, with the number of applicants assigned in place
    of their ids."""

    session_id: UUID
    evaluation_institution_id: UUID
    occupation_code: str
    level: Level
    held_on: date
    place: str
    applicant_count: int


@router.post(
    "/sessions", status_code=status.HTTP_201_CREATED, summary="Schedule an assessment session"
)
async def schedule(body: Schedule, request: Request, principal: Evaluator) -> SessionView:
    command = commands.ScheduleSession(principal=principal, **body.model_dump())
    return SessionView.of(await execute(request, command))


@router.get(
    "/sessions",
    summary="Sessions of an evaluation institution (its own), in scheduling order (paginated)",
)
async def sessions(
    request: Request,
    response: Response,
    views: Views,
    principal: Reader,
    page: Page,
    evaluation_institution_id: UUID | None = None,
    occupation_code: OccupationCode | None = None,
    level: Level | None = None,
) -> list[SessionListed]:
    evaluation_institution_id = principal.listing_scope(evaluation_institution_id)

    await views.ensure_cursor(
        page.after, "session", "SELECT 1 FROM sessions WHERE session_id = $1", page.after
    )
    rows = await views.fetch(
        "SELECT session_id, evaluation_institution_id, occupation_code, level, held_on, place,"
        " applicants AS applicant_count FROM sessions"
        " WHERE ($1::uuid IS NULL OR evaluation_institution_id = $1)"
        " AND ($2::text IS NULL OR occupation_code = $2)"
        " AND ($3::text IS NULL OR level = $3)"
        " AND ($4::uuid IS NULL OR scheduled_position >"
        "  (SELECT scheduled_position FROM sessions WHERE session_id = $4))"
        " ORDER BY scheduled_position LIMIT $5",
        evaluation_institution_id,
        occupation_code,
        level.value if level else None,
        page.after,
        page.fetch,
    )
    listed = [SessionListed(**dict(row)) for row in rows]
    return paginated(listed, page, lambda view: view.session_id, request, response)


@router.get("/sessions/{session_id}", summary="One session")
async def session(session_id: UUID, app: App, principal: Reader) -> SessionView:
    return SessionView.of(await query(app.own_session, principal, session_id))


@router.post("/sessions/{session_id}/assignments", summary="Assign confirmed applicants")
async def assign(
    session_id: UUID, body: Assign, request: Request, principal: Evaluator
) -> SessionView:
    command = commands.AssignApplicants(
        principal=principal, session_id=session_id, application_ids=body.application_ids
    )
    return SessionView.of(await execute(request, command))


@router.put(
    "/sessions/{session_id}/applications/{application_id}/scores",
    summary="Record theory and practical scores",
)
async def record_scores(
    session_id: UUID,
    application_id: UUID,
    body: Scores,
    request: Request,
    principal: Evaluator,
) -> ApplicationView:
    command = commands.RecordScores(
        principal=principal,
        session_id=session_id,
        application_id=application_id,
        **body.model_dump(),
    )
    return ApplicationView.of(await execute(request, command))


@router.post(
    "/sessions/{session_id}/applications/{application_id}/score-corrections",
    summary="Correct recorded scores, with a reason",
)
async def correct_scores(
    session_id: UUID,
    application_id: UUID,
    body: Correction,
    request: Request,
    principal: Evaluator,
) -> ApplicationView:
    command = commands.CorrectScores(
        principal=principal,
        session_id=session_id,
        application_id=application_id,
        **body.model_dump(),
    )
    return ApplicationView.of(await execute(request, command))
