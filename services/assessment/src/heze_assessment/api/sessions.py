"""Assessment sessions: scheduled by an evaluation institution, confirmed applicants assigned,
theory and practical scores recorded once; a correction is its own event with a reason."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel

from heze_assessment import commands
from heze_assessment.api.applications import ApplicationView
from heze_assessment.api.common import App
from heze_assessment.domain.session import AssessmentSession
from heze_common.auth import Principal, require_roles
from heze_common.dispatch import execute, query
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


@router.post(
    "/sessions", status_code=status.HTTP_201_CREATED, summary="Schedule an assessment session"
)
async def schedule(body: Schedule, request: Request, principal: Evaluator) -> SessionView:
    command = commands.ScheduleSession(principal=principal, **body.model_dump())
    return SessionView.of(await execute(request, command))


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
