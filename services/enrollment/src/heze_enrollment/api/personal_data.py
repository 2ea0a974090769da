"""Erasure of a person's data, the list of erasures, and the retention rule (the city bureau)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from heze_common import clock
from heze_common.auth import Principal, require_roles
from heze_common.dispatch import execute, query
from heze_common.pagination import Page, paginated
from heze_common.requests import Body, IsoDate, LongText
from heze_common.views import Views
from heze_contracts.enums import ErasureGrounds, Role
from heze_enrollment import commands
from heze_enrollment.api.common import AnyRole, App, CityBureau
from heze_enrollment.domain.retention import LONGEST_DAYS, RetentionRule

router = APIRouter(tags=["personal data"])
Overseer = Annotated[Principal, Depends(require_roles(Role.CITY_BUREAU, Role.AUDITOR))]


class ErasureRequest(Body):
    reason: LongText
    """Why; kept for ever in the trail, so it may not name the person."""


class Erasure(BaseModel):
    trainee_id: UUID
    grounds: ErasureGrounds
    reason: str
    erased_on: date


@router.post(
    "/trainees/{trainee_id}/erasure",
    summary="Erase a person's data in every service (the city bureau)",
)
async def erase(
    trainee_id: UUID, body: ErasureRequest, request: Request, app: App, principal: CityBureau
) -> Erasure:
    command = commands.EraseTrainee(principal=principal, trainee_id=trainee_id, reason=body.reason)
    trainee = await execute(request, command)
    await query(app.forget, trainee_id)  # a crash before this: the retention sweep finishes it
    erased = trainee.erasure
    return Erasure(
        trainee_id=trainee_id,
        grounds=erased.grounds,
        reason=erased.reason,
        erased_on=erased.erased_on,
    )


@router.get("/erasures", summary="The erasures, in the order recorded (paginated)")
async def erasures(
    request: Request, response: Response, views: Views, principal: Overseer, page: Page
) -> list[Erasure]:
    await views.ensure_cursor(
        page.after, "erasure", "SELECT 1 FROM erasures WHERE trainee_id = $1", page.after
    )
    rows = await views.fetch(
        "SELECT trainee_id, grounds, reason, erased_on FROM erasures"
        " WHERE ($1::uuid IS NULL OR erased_position >"
        "  (SELECT erased_position FROM erasures WHERE trainee_id = $1))"
        " ORDER BY erased_position LIMIT $2",
        page.after,
        page.fetch,
    )
    listed = [Erasure(**dict(row)) for row in rows]
    return paginated(listed, page, lambda line: line.trainee_id, request, response)


class RetentionPeriod(BaseModel):
    days: int
    effective_from: date


class RetentionView(BaseModel):
    days_today: int
    """The period in force today: registrants without training are erased this many days after
    their registration or last withdrawal."""
    periods: list[RetentionPeriod]

    @classmethod
    def of(cls, rule: RetentionRule, today: date) -> RetentionView:
        return cls(
            days_today=rule.days_on(today),
            periods=[
                RetentionPeriod(days=p.days, effective_from=p.effective_from) for p in rule.periods
            ],
        )


class SetRetention(Body):
    days: Annotated[int, Field(ge=1, le=LONGEST_DAYS)]
    effective_from: IsoDate


@router.get(
    "/personal-data/retention", summary="The retention rule of registrants without training"
)
async def retention(app: App, principal: AnyRole) -> RetentionView:
    return RetentionView.of(await query(app.retention_rule), clock.today())


@router.put(
    "/personal-data/retention",
    summary="Set the retention period from a date (today or later; the city bureau)",
)
async def set_retention(
    body: SetRetention, request: Request, principal: CityBureau
) -> RetentionView:
    command = commands.SetRetentionPeriod(
        principal=principal, days=body.days, effective_from=body.effective_from
    )
    return RetentionView.of(await execute(request, command), clock.today())
