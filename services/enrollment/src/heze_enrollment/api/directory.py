"""The institutions directory and the occupation table: set by the city bureau, read by all."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, StrictBool, StrictInt

from heze_common import clock
from heze_common.dispatch import execute, query
from heze_common.pagination import Page, paginated
from heze_common.requests import Body, IsoDate, LongText, PersonName, ShortText
from heze_common.views import Views
from heze_contracts.enums import Field, HourKind, Level
from heze_contracts.values import Fields, OccupationCode, Phone
from heze_enrollment import commands
from heze_enrollment.api.common import AnyRole, App, CityBureau, RequiredHours
from heze_enrollment.domain.institution import Institution

router = APIRouter(tags=["directory"])


class AccreditInstitution(Body):
    directory_number: StrictInt | None = None
    name: ShortText
    fields: Fields
    contact_name: PersonName
    contact_phone: Phone


class ChangeScope(Body):
    fields: Fields


class Suspend(Body):
    reason: LongText


class CityDirectoryListing(Body):
    listed: StrictBool


class InstitutionView(BaseModel):
    institution_id: UUID
    directory_number: int | None
    name: str
    fields: list[Field]
    contact_name: str
    contact_phone: str
    suspended: bool
    in_city_training_directory: bool

    @classmethod
    def of(cls, institution: Institution) -> InstitutionView:
        return cls(
            institution_id=institution.id,
            directory_number=institution.directory_number,
            name=institution.name,
            fields=institution.fields,
            contact_name=institution.contact_name,
            contact_phone=institution.contact_phone,
            suspended=institution.suspended,
            in_city_training_directory=institution.in_city_training_directory,
        )


class Created(BaseModel):
    id: UUID


@router.post(
    "/institutions", status_code=status.HTTP_201_CREATED, summary="Accredit an institution"
)
async def accredit(body: AccreditInstitution, request: Request, principal: CityBureau) -> Created:
    command = commands.AccreditInstitution(principal=principal, **body.model_dump())
    return Created(id=await execute(request, command))


@router.get(
    "/institutions",
    summary="The directory of accredited institutions, in accreditation order (paginated)",
)
async def institutions(
    request: Request, response: Response, views: Views, principal: AnyRole, page: Page
) -> list[InstitutionView]:
    await views.ensure_cursor(
        page.after,
        "institution",
        "SELECT 1 FROM institutions WHERE institution_id = $1",
        page.after,
    )
    rows = await views.fetch(
        "SELECT institution_id, directory_number, name, fields, contact_name, contact_phone,"
        " suspended, in_city_training_directory FROM institutions"
        " WHERE $1::uuid IS NULL OR accredited_position >"
        "  (SELECT accredited_position FROM institutions WHERE institution_id = $1)"
        " ORDER BY accredited_position LIMIT $2",
        page.after,
        page.fetch,
    )
    listed = [InstitutionView(**dict(row)) for row in rows]
    return paginated(listed, page, lambda view: view.institution_id, request, response)


@router.get("/institutions/{institution_id}", summary="One institution")
async def institution(institution_id: UUID, app: App, principal: AnyRole) -> InstitutionView:
    return InstitutionView.of(await query(app.institution, institution_id))


@router.put("/institutions/{institution_id}/scope", summary="Change an institution's scope")
async def change_scope(
    institution_id: UUID, body: ChangeScope, request: Request, principal: CityBureau
) -> InstitutionView:
    command = commands.ChangeScope(
        principal=principal, institution_id=institution_id, fields=body.fields
    )
    return InstitutionView.of(await execute(request, command))


@router.post("/institutions/{institution_id}/suspension", summary="Suspend an institution")
async def suspend(
    institution_id: UUID, body: Suspend, request: Request, principal: CityBureau
) -> InstitutionView:
    command = commands.SuspendInstitution(
        principal=principal, institution_id=institution_id, reason=body.reason
    )
    return InstitutionView.of(await execute(request, command))


@router.delete(
    "/institutions/{institution_id}/suspension", summary="Reinstate a suspended institution"
)
async def reinstate(
    institution_id: UUID, request: Request, principal: CityBureau
) -> InstitutionView:
    command = commands.ReinstateInstitution(principal=principal, institution_id=institution_id)
    return InstitutionView.of(await execute(request, command))


@router.put(
    "/institutions/{institution_id}/city-directory", summary="List in the city's training directory"
)
async def city_directory(
    institution_id: UUID,
    body: CityDirectoryListing,
    request: Request,
    principal: CityBureau,
) -> InstitutionView:
    command = commands.ListInCityDirectory(
        principal=principal, institution_id=institution_id, listed=body.listed
    )
    return InstitutionView.of(await execute(request, command))


class DefineOccupation(Body):
    field: Field
    name: ShortText
    effective_from: IsoDate


class SetHourRequirement(Body):
    hours: dict[HourKind, RequiredHours]
    effective_from: IsoDate


class OccupationView(BaseModel):
    code: str
    field: Field
    name: str
    effective_from: date
    hour_requirements: dict[Level, dict[HourKind, Decimal]]


@router.get("/occupations", summary="The occupation table in force on a date (default today)")
async def occupations(
    app: App, principal: AnyRole, on: IsoDate | None = None
) -> list[OccupationView]:
    table = await query(app.occupation_table)
    day = on or clock.today()
    views = []
    for occupation in table.current(day):
        requirements = {
            level: requirement.hours
            for level in Level
            if (requirement := table.hour_requirement(occupation.code, level, day))
        }
        views.append(
            OccupationView(
                code=occupation.code,
                field=occupation.field,
                name=occupation.name,
                effective_from=occupation.effective_from,
                hour_requirements=requirements,
            )
        )
    return views


@router.put(
    "/occupations/{code}", status_code=status.HTTP_204_NO_CONTENT, summary="Define an occupation"
)
async def define_occupation(
    code: OccupationCode, body: DefineOccupation, request: Request, principal: CityBureau
) -> None:
    command = commands.DefineOccupation(principal=principal, code=code, **body.model_dump())
    await execute(request, command)


@router.put(
    "/occupations/{code}/hour-requirements/{level}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set the training hours an occupation's level requires, from a date",
)
async def set_hour_requirement(
    code: OccupationCode,
    level: Level,
    body: SetHourRequirement,
    request: Request,
    principal: CityBureau,
) -> None:
    command = commands.SetHourRequirement(
        principal=principal, code=code, level=level, **body.model_dump()
    )
    await execute(request, command)
