"""Programmes (enrolment notices): institutions publish and close their own; the city bureau
marks the subsidised-training plan; rosters show each trainee's progress."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, StrictBool, StrictInt

from heze_common.auth import Principal, require_roles
from heze_common.dispatch import execute, query
from heze_common.errors import NotFound
from heze_common.pagination import Page, paginated
from heze_common.requests import Body, IsoDate, Mark, ShortText
from heze_common.views import Views
from heze_contracts.enums import Field, HourKind, Level, Role
from heze_contracts.values import OccupationCode
from heze_enrollment import commands
from heze_enrollment.api.common import AnyRole, App, CityBureau, RequiredHours
from heze_enrollment.domain.programme import Programme
from heze_enrollment.domain.trainee import EnrolmentStatus
from heze_enrollment.views import HOURS_COLUMN

router = APIRouter(tags=["programmes"])
Institution = Annotated[Principal, Depends(require_roles(Role.TRAINING_INSTITUTION))]
RosterReader = Annotated[
    Principal, Depends(require_roles(Role.TRAINING_INSTITUTION, Role.CITY_BUREAU, Role.AUDITOR))
]


class PublishProgramme(Body):
    occupation_code: OccupationCode
    level: Level
    title: ShortText
    capacity: StrictInt
    starts_on: IsoDate
    ends_on: IsoDate
    required_hours: dict[HourKind, RequiredHours] | None = None
    """Omit to use the city's requirement for the occupation and level."""
    completion_pass_mark: Mark = Decimal(60)
    subsidised_plan: StrictBool = False
    in_city_training_directory: StrictBool = False


class CityPlan(Body):
    subsidised_plan: StrictBool
    in_city_training_directory: StrictBool


class ProgrammeView(BaseModel):
    programme_id: UUID
    institution_id: UUID
    occupation_code: str
    field: Field
    level: Level
    title: str
    capacity: int
    seats_taken: int
    starts_on: date
    ends_on: date
    required_hours: dict[HourKind, Decimal]
    completion_pass_mark: Decimal
    subsidised_plan: bool
    in_city_training_directory: bool
    enrolment_open: bool

    @classmethod
    def of(cls, programme: Programme) -> ProgrammeView:
        return cls(
            programme_id=programme.id,
            institution_id=programme.institution_id,
            occupation_code=programme.occupation_code,
            field=programme.field,
            level=programme.level,
            title=programme.title,
            capacity=programme.capacity,
            seats_taken=len(programme.seats),
            starts_on=programme.starts_on,
            ends_on=programme.ends_on,
            required_hours=programme.required_hours,
            completion_pass_mark=programme.completion_pass_mark,
            subsidised_plan=programme.subsidised_plan,
            in_city_training_directory=programme.in_city_training_directory,
            enrolment_open=not programme.closed and not programme.is_full,
        )


class Created(BaseModel):
    id: UUID


@router.post(
    "/programmes", status_code=status.HTTP_201_CREATED, summary="Publish an enrolment notice"
)
async def publish(body: PublishProgramme, request: Request, principal: Institution) -> Created:
    command = commands.PublishProgramme(principal=principal, **body.model_dump())
    programme_id = await execute(request, command)
    return Created(id=programme_id)


@router.get(
    "/programmes",
    summary="Programmes, optionally of one institution, in publication order (paginated)",
)
async def programmes(
    request: Request,
    response: Response,
    views: Views,
    principal: AnyRole,
    page: Page,
    institution_id: UUID | None = None,
) -> list[ProgrammeView]:
    await views.ensure_cursor(
        page.after,
        "programme",
        "SELECT 1 FROM programmes WHERE programme_id = $1"
        " AND ($2::uuid IS NULL OR institution_id = $2)",
        page.after,
        institution_id,
    )
    rows = await views.fetch(
        "SELECT programme_id, institution_id, occupation_code, field, level, title, capacity,"
        " seats_taken, starts_on, ends_on, required_hours, completion_pass_mark,"
        " subsidised_plan, in_city_training_directory,"
        " NOT closed AND seats_taken < capacity AS enrolment_open"
        " FROM programmes WHERE ($1::uuid IS NULL OR institution_id = $1)"
        " AND ($2::uuid IS NULL OR published_position >"
        "  (SELECT published_position FROM programmes WHERE programme_id = $2))"
        " ORDER BY published_position LIMIT $3",
        institution_id,
        page.after,
        page.fetch,
    )
    listed = [ProgrammeView(**dict(row)) for row in rows]
    return paginated(listed, page, lambda view: view.programme_id, request, response)


@router.get("/programmes/{programme_id}", summary="One programme")
async def programme(programme_id: UUID, app: App, principal: AnyRole) -> ProgrammeView:
    return ProgrammeView.of(await query(app.programme, programme_id))


@router.post("/programmes/{programme_id}/closure", summary="Close enrolment")
async def close(programme_id: UUID, request: Request, principal: Institution) -> ProgrammeView:
    command = commands.CloseEnrolment(principal=principal, programme_id=programme_id)
    return ProgrammeView.of(await execute(request, command))


@router.put(
    "/programmes/{programme_id}/city-plan", summary="Mark the city's subsidised plan and directory"
)
async def city_plan(
    programme_id: UUID, body: CityPlan, request: Request, principal: CityBureau
) -> ProgrammeView:
    command = commands.ChangeCityPlan(
        principal=principal, programme_id=programme_id, **body.model_dump()
    )
    return ProgrammeView.of(await execute(request, command))


class RosterLine(BaseModel):
    trainee_id: UUID
    name: str
    status: EnrolmentStatus
    enrolled_on: date
    hours_by_kind: dict[HourKind, Decimal]
    exam_score: Decimal | None
    certificate_number: str | None

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> RosterLine:
        return cls(
            trainee_id=row["trainee_id"],
            name=row["name"],
            status=row["status"],
            enrolled_on=row["enrolled_on"],
            hours_by_kind={kind: row[column] for kind, column in HOURS_COLUMN.items()},
            exam_score=row["exam_score"],
            certificate_number=row["certificate_number"],
        )


ROSTER_COLUMNS = ", ".join(
    (
        "r.trainee_id",
        "t.name",  # kept once, with the registration
        "r.status",
        "r.enrolled_on",
        *(f"r.{column}" for column in HOURS_COLUMN.values()),
        "r.exam_score",
        "r.certificate_number",
    )
)


@router.get(
    "/programmes/{programme_id}/roster",
    summary="A programme's roster with each trainee's progress, in enrolment order (paginated)",
)
async def roster(
    programme_id: UUID,
    request: Request,
    response: Response,
    views: Views,
    principal: RosterReader,
    page: Page,
) -> list[RosterLine]:
    owner = await views.fetchrow(
        "SELECT institution_id FROM programmes WHERE programme_id = $1", programme_id
    )
    if owner is None:
        raise NotFound("unknown_programme", f"no programme with id {programme_id}")
    principal.ensure_acts_for(owner["institution_id"])
    await views.ensure_cursor(
        page.after,
        "trainee",
        "SELECT 1 FROM roster WHERE programme_id = $1 AND trainee_id = $2",
        programme_id,
        page.after,
    )
    rows = await views.fetch(
        f"SELECT {ROSTER_COLUMNS} FROM roster r JOIN registrations t USING (trainee_id)"
        " WHERE r.programme_id = $1"
        " AND ($2::uuid IS NULL OR r.enrolled_position >"
        "  (SELECT enrolled_position FROM roster WHERE programme_id = $1 AND trainee_id = $2))"
        " ORDER BY r.enrolled_position LIMIT $3",
        programme_id,
        page.after,
        page.fetch,
    )
    listed = [RosterLine.of_row(row) for row in rows]
    return paginated(listed, page, lambda line: line.trainee_id, request, response)
