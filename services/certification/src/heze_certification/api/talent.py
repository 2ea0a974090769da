"""The city's digital talent base: the talent pool, outstanding-contribution flags, the year's
continuing-education credits (CSV or JSON for the CE platform), title-recognition and
entrepreneurship-loan eligibility, and the city policy data behind them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from heze_certification import commands
from heze_certification.api.common import App
from heze_certification.domain.policy import (
    PolicyTerms,
    Recognition,
    loan_eligibility,
    title_recognition,
)
from heze_certification.domain.talent import TalentRecord
from heze_common import clock
from heze_common.auth import Principal, require_roles
from heze_common.dispatch import execute, query
from heze_common.downloads import CSV_ALTERNATIVE, csv_stream, json_stream
from heze_common.errors import Forbidden
from heze_common.pagination import Page, paginated
from heze_common.requests import Body, IsoDate, LongText
from heze_common.views import Views
from heze_contracts.enums import Field, Level, Role

router = APIRouter(tags=["talent base"])
City = Annotated[Principal, Depends(require_roles(Role.CITY_BUREAU))]
CityReader = Annotated[Principal, Depends(require_roles(Role.CITY_BUREAU, Role.AUDITOR))]
EligibilityReader = Annotated[
    Principal, Depends(require_roles(Role.CITY_BUREAU, Role.AUDITOR, Role.TRAINEE))
]


class PoolEntry(BaseModel):
    trainee_id: UUID
    county: str
    certificates: dict[str, tuple[Field, Level]]
    outstanding_contribution: str | None
    peony_card_priority: bool


@router.get(
    "/talent-pool",
    summary="Search the talent pool by field, level and county, in order of entry (paginated)",
)
async def talent_pool(
    request: Request,
    response: Response,
    views: Views,
    principal: CityReader,
    page: Page,
    field: Field | None = None,
    level: Level | None = None,
    county: str | None = None,
) -> list[PoolEntry]:
    # Rows are keyed by talent record; the cursor names the trainee.
    after = TalentRecord.id_for(page.after) if page.after else None
    await views.ensure_cursor(
        after,
        "talent-pool member",
        "SELECT 1 FROM talent_pool WHERE record_id = $1 AND entered_position IS NOT NULL",
        after,
    )
    rows = await views.fetch(
        "SELECT m.trainee_id, m.county, m.outstanding_contribution,"
        " (SELECT jsonb_agg(jsonb_build_array(c.certificate_number, c.field, c.level)"
        "   ORDER BY c.admitted_position)"
        "  FROM pool_certificates c WHERE c.record_id = m.record_id) AS certificates"
        " FROM talent_pool m"
        # Every member has its place; the condition lets the ordered partial index serve.
        " WHERE m.entered_position IS NOT NULL"
        " AND EXISTS (SELECT FROM pool_certificates c WHERE c.record_id = m.record_id"
        "  AND ($1::text IS NULL OR c.field = $1) AND ($2::text IS NULL OR c.level = $2))"
        " AND ($3::text IS NULL OR m.county = $3)"
        " AND ($4::uuid IS NULL OR m.entered_position >"
        "  (SELECT entered_position FROM talent_pool WHERE record_id = $4))"
        " ORDER BY m.entered_position LIMIT $5",
        field.value if field else None,
        level.value if level else None,
        county,
        after,
        page.fetch,
    )
    members = [
        PoolEntry(
            trainee_id=row["trainee_id"],
            county=row["county"],
            certificates={number: (f, lv) for number, f, lv in row["certificates"]},
            outstanding_contribution=row["outstanding_contribution"],
            peony_card_priority=row["outstanding_contribution"] is not None,
        )
        for row in rows
    ]
    return paginated(members, page, lambda member: member.trainee_id, request, response)


class Outstanding(Body):
    contribution: LongText


@router.post(
    "/talent-pool/{trainee_id}/outstanding",
    summary="Flag an outstanding contribution (Peony card priority)",
)
async def flag(
    trainee_id: UUID, body: Outstanding, request: Request, principal: City
) -> dict[str, str]:
    command = commands.FlagOutstanding(
        principal=principal, trainee_id=trainee_id, contribution=body.contribution
    )
    record = await execute(request, command)
    return {"trainee_id": str(record.trainee_id), "peony_card_priority": "true"}


class CreditLine(BaseModel):
    trainee_id: UUID
    name: str | None
    id_number: str | None
    year: int
    hours: Decimal
    programme_id: UUID
    credited_on: date


@router.get(
    "/continuing-education/{year}",
    summary="The year's continuing-education credits per person (其他学时认定), CSV or JSON",
    response_model=list[CreditLine],
    responses=CSV_ALTERNATIVE,
)
async def continuing_education(
    year: Annotated[int, Path(ge=2000, le=2100)],
    views: Views,
    principal: City,
    format: Annotated[Literal["json", "csv"], Query()] = "json",  # noqa: A002 - the query parameter's name
) -> StreamingResponse:
    # The whole year, as the CE platform imports it (a report, like the subsidy's monthly
    # disbursements): one range of an index in the order credited, streamed as it is read.
    rows = views.stream(
        "SELECT c.trainee_id, p.name, p.id_number, c.year, c.hours, c.programme_id,"
        " c.credited_on FROM ce_credits c LEFT JOIN people p USING (record_id)"
        " WHERE c.year = $1 ORDER BY c.credited_position",
        year,
    )
    credits = (CreditLine(**dict(row)) async for row in rows)
    if format == "json":
        return json_stream(credits)
    return csv_stream(list(CreditLine.model_fields), credits, f"continuing-education-{year}.csv")


class SetPolicy(Body):
    terms: PolicyTerms
    effective_from: IsoDate


class PolicyView(BaseModel):
    effective_from: date
    terms: PolicyTerms


@router.put("/policy", summary="Set the city's policy data from a date")
async def set_policy(body: SetPolicy, request: Request, principal: City) -> PolicyView:
    command = commands.SetPolicy(
        principal=principal, terms=body.terms, effective_from=body.effective_from
    )
    await execute(request, command)
    return PolicyView(effective_from=body.effective_from, terms=body.terms)


@router.get("/policy", summary="The city's policy data in force on a date")
async def policy(app: App, principal: CityReader, on: IsoDate | None = None) -> PolicyView:
    since, terms = (await query(app.policy)).terms_on(on or clock.today())
    return PolicyView(effective_from=since, terms=terms)


class CertificateEligibility(BaseModel):
    certificate_number: str
    level: Level
    title_recognition: Recognition


class Eligibility(BaseModel):
    trainee_id: UUID
    title_series: str
    certificates: list[CertificateEligibility]
    entrepreneurship_loan_eligible: bool
    loan_conditions_unmet: list[str]
    policy_effective_from: date


@router.get("/talent/{trainee_id}/eligibility", summary="Title-recognition and loan eligibility")
async def eligibility(
    trainee_id: UUID,
    app: App,
    principal: EligibilityReader,
    title_series: Annotated[str, Query(min_length=1, max_length=100)],
) -> Eligibility:
    if principal.role is Role.TRAINEE and principal.subject != str(trainee_id):
        raise Forbidden("not_your_record", "a trainee reads only their own eligibility")

    def judge() -> Eligibility:
        record = app.talent_record(trainee_id)
        since, terms = app.policy().terms_on(clock.today())
        unmet = loan_eligibility(record, terms)
        return Eligibility(
            trainee_id=trainee_id,
            title_series=title_series,
            certificates=[
                CertificateEligibility(
                    certificate_number=held.number,
                    level=held.level,
                    title_recognition=title_recognition(held.level, title_series, terms),
                )
                for held in record.valid_certificates()
            ],
            entrepreneurship_loan_eligible=not unmet,
            loan_conditions_unmet=unmet,
            policy_effective_from=since,
        )

    return await query(judge)
