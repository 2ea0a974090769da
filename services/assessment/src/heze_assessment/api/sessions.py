"""Assessment sessions: scheduled by an evaluation institution, confirmed applicants assigned,
theory and practical scores recorded once; a correction is its own event with a reason."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel

from heze_assessment.api.applications import ApplicationView
from heze_assessment.api.common import App
from heze_assessment.application import AssessmentApplication
from heze_assessment.domain.session import AssessmentSession
from heze_common.auth import Principal, require_roles
from heze_common.commands import execute
from heze_common.requests import Body, IsoDate, LongText, Mark, ShortText
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


async def own_session(
    request: Request, app: AssessmentApplication, principal: Principal, session_id: UUID
) -> AssessmentSession:
    session = await execute(request, principal, app.session, session_id)
    principal.ensure_acts_for(session.evaluation_institution_id)
    return session


@router.post(
    "/sessions", status_code=status.HTTP_201_CREATED, summary="Schedule an assessment session"
)
async def schedule(body: Schedule, request: Request, app: App, principal: Evaluator) -> SessionView:
    session_id = await execute(
        request,
        principal,
        app.schedule_session,
        principal.organisation_id,
        body.occupation_code,
        body.level,
        body.held_on,
        body.place,
    )
    return SessionView.of(await execute(request, principal, app.session, session_id))


@router.get("/sessions/{session_id}", summary="One session")
async def session(session_id: UUID, request: Request, app: App, principal: Reader) -> SessionView:
    return SessionView.of(await own_session(request, app, principal, session_id))


@router.post("/sessions/{session_id}/assignments", summary="Assign confirmed applicants")
async def assign(
    session_id: UUID, body: Assign, request: Request, app: App, principal: Evaluator
) -> SessionView:
    await own_session(request, app, principal, session_id)
    await execute(request, principal, app.assign, session_id, body.application_ids)
    return SessionView.of(await execute(request, principal, app.session, session_id))


@router.put(
    "/sessions/{session_id}/applications/{application_id}/scores",
    summary="Record theory and practical scores",
)
async def record_scores(
    session_id: UUID,
    application_id: UUID,
    body: Scores,
    request: Request,
    app: App,
    principal: Evaluator,
) -> ApplicationView:
    await own_session(request, app, principal, session_id)
    await execute(
        request,
        principal,
        app.record_scores,
        session_id,
        application_id,
        body.theory_score,
        body.practical_score,
    )
    return ApplicationView.of(await execute(request, principal, app.application, application_id))


@router.post(
    "/sessions/{session_id}/applications/{application_id}/score-corrections",
    summary="Correct recorded scores, with a reason",
)
async def correct_scores(
    session_id: UUID,
    application_id: UUID,
    body: Correction,
    request: Request,
    app: App,
    principal: Evaluator,
) -> ApplicationView:
    await own_session(request, app, principal, session_id)
    await execute(
        request,
        principal,
        app.correct_scores,
        session_id,
        application_id,
        body.theory_score,
        body.practical_score,
        body.reason,
    )
    return ApplicationView.of(await execute(request, principal, app.application, application_id))
