"""Subsidy claims: filed by the trainee (or, when the policy allows, by the institution),
decided automatically, paid by the city bureau; the monthly disbursement report."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from heze_common.auth import Principal, require_roles
from heze_common.dispatch import execute, query
from heze_common.downloads import CSV_ALTERNATIVE, csv_stream, json_stream
from heze_common.errors import Forbidden
from heze_common.pagination import Page, paginated
from heze_common.requests import Body, ShortText
from heze_common.views import Views
from heze_contracts.enums import Level, Role
from heze_contracts.values import OccupationCode
from heze_subsidy import commands
from heze_subsidy.access import ensure_may_read
from heze_subsidy.api.common import App
from heze_subsidy.domain.claim import Claim, ClaimStatus

router = APIRouter(tags=["claims"])
Claimant = Annotated[Principal, Depends(require_roles(Role.TRAINEE, Role.TRAINING_INSTITUTION))]
City = Annotated[Principal, Depends(require_roles(Role.CITY_BUREAU))]
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.TRAINEE, Role.TRAINING_INSTITUTION, Role.CITY_BUREAU, Role.AUDITOR)),
]
ReportReader = Annotated[Principal, Depends(require_roles(Role.CITY_BUREAU, Role.AUDITOR))]


class FileClaim(Body):
    trainee_id: UUID | None = None
    """Required when an institution claims on a trainee's behalf; a trainee claims for themself."""
    programme_id: UUID
    occupation_code: OccupationCode
    level: Level


class Payment(Body):
    payment_reference: ShortText


class ClaimView(BaseModel):
    claim_id: UUID
    trainee_id: UUID
    programme_id: UUID
    occupation_code: str
    level: Level
    status: ClaimStatus
    waiting_for_code: str | None = Field(
        description="While waiting, what for: not_enrolled, not_completed, certificate_missing"
        " or no_standard (the refusal codes a forced decision would give)"
    )
    waiting_for: str | None
    amount_fen: int | None
    standard_id: UUID | None
    decided_on: date | None
    reason_code: str | None
    reason: str | None
    payment_reference: str | None
    paid_on: date | None

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> ClaimView:
        waiting = row["status"] == ClaimStatus.WAITING
        return cls(
            **{
                **row,
                "waiting_for_code": row["waiting_for_code"] if waiting else None,
                "waiting_for": row["waiting_for"] if waiting else None,
            }
        )

    @classmethod
    def of(cls, claim: Claim) -> ClaimView:
        waiting = claim.status is ClaimStatus.WAITING
        return cls(
            claim_id=claim.id,
            trainee_id=claim.trainee_id,
            programme_id=claim.programme_id,
            occupation_code=claim.occupation_code,
            level=claim.level,
            status=claim.status,
            waiting_for_code=claim.waiting_for_code if waiting else None,
            waiting_for=claim.waiting_for if waiting else None,
            amount_fen=claim.amount_fen,
            standard_id=claim.standard_id,
            decided_on=claim.decided_on,
            reason_code=claim.reason_code,
            reason=claim.reason,
            payment_reference=claim.payment_reference,
            paid_on=claim.paid_on,
        )


@router.post(
    "/claims", status_code=status.HTTP_201_CREATED, summary="Claim the vocational training subsidy"
)
async def file_claim(body: FileClaim, request: Request, principal: Claimant) -> ClaimView:
    command = commands.FileClaim(principal=principal, **body.model_dump())
    return ClaimView.of(await execute(request, command))


@router.get("/claims/{claim_id}", summary="One claim")
async def claim(claim_id: UUID, app: App, views: Views, principal: Reader) -> ClaimView:
    found = await query(app.claim, claim_id)
    await ensure_may_read(views, principal, found)
    return ClaimView.of(found)


CLAIM_COLUMNS = (
    "c.claim_id, c.trainee_id, c.programme_id, c.occupation_code, c.level, c.status,"
    " c.waiting_for_code, c.waiting_for, c.amount_fen, c.standard_id, c.decided_on, c.reason_code, c.reason,"
    " c.payment_reference, c.paid_on"
)


@router.get(
    "/claims",
    summary="Claims per trainee, programme or institution, in filing order (paginated)",
)
async def claims(
    request: Request,
    response: Response,
    views: Views,
    principal: Reader,
    page: Page,
    trainee_id: UUID | None = None,
    programme_id: UUID | None = None,
    institution_id: UUID | None = None,
) -> list[ClaimView]:
    if principal.role is Role.TRAINEE:
        # Without it no filter is left: the listing would show every trainee's claims.
        trainee_id = principal.own_trainee_id()
        programme_id = institution_id = None
    if principal.role is Role.TRAINING_INSTITUTION:
        if institution_id not in (None, principal.organisation_id):
            raise Forbidden(
                "other_organisation", "an institution reads only its own programmes' claims"
            )
        institution_id = principal.organisation_id

    await views.ensure_cursor(
        page.after, "claim", "SELECT 1 FROM claims WHERE claim_id = $1", page.after
    )
    rows = await views.fetch(
        f"SELECT {CLAIM_COLUMNS} FROM claims c LEFT JOIN programmes p USING (programme_id)"
        " WHERE ($1::uuid IS NULL OR c.trainee_id = $1)"
        " AND ($2::uuid IS NULL OR c.programme_id = $2)"
        " AND ($3::uuid IS NULL OR p.institution_id = $3)"
        " AND ($4::uuid IS NULL OR (c.filed_position, c.claim_id) >"
        "  (SELECT filed_position, claim_id FROM claims WHERE claim_id = $4))"
        " ORDER BY c.filed_position, c.claim_id LIMIT $5",
        trainee_id,
        programme_id,
        institution_id,
        page.after,
        page.fetch,
    )
    listed = [ClaimView.of_row(dict(row)) for row in rows]
    return paginated(listed, page, lambda view: view.claim_id, request, response)


@router.post(
    "/claims/{claim_id}/decision",
    summary="Decide a waiting claim now (refused for what is missing)",
)
async def decide(claim_id: UUID, request: Request, principal: City) -> ClaimView:
    command = commands.DecideClaim(principal=principal, claim_id=claim_id)
    return ClaimView.of(await execute(request, command))


@router.post("/claims/{claim_id}/payment", summary="Record the payment of an approved claim")
async def pay(claim_id: UUID, body: Payment, request: Request, principal: City) -> ClaimView:
    command = commands.RecordPayment(
        principal=principal, claim_id=claim_id, payment_reference=body.payment_reference
    )
    return ClaimView.of(await execute(request, command))


class DisbursementLine(BaseModel):
    claim_id: UUID
    trainee_id: UUID
    occupation_code: str
    level: Level
    amount_fen: int
    payment_reference: str
    paid_on: date


class Disbursements(BaseModel):
    month: str
    total_fen: int
    count: int
    lines: list[DisbursementLine]


@router.get(
    "/reports/disbursements/{month}",
    summary="The month's disbursements (CSV or JSON)",
    response_model=Disbursements,
    responses=CSV_ALTERNATIVE,
)
async def disbursements(
    month: Annotated[str, Path(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$")],
    views: Views,
    principal: ReportReader,
    format: Annotated[Literal["json", "csv"], Query()] = "json",  # noqa: A002 - the query parameter's name
) -> StreamingResponse:
    first = date(int(month[:4]), int(month[5:]), 1)
    # The total and count with every line, from the same snapshot as the lines.
    rows = views.stream(
        "SELECT claim_id, trainee_id, occupation_code, level, amount_fen, payment_reference,"
        " paid_on, sum(amount_fen) OVER () AS total_fen, count(*) OVER () AS count"
        " FROM claims WHERE paid_on >= $1 AND paid_on < $2 ORDER BY paid_position",
        first,
        date(first.year + first.month // 12, first.month % 12 + 1, 1),
    )
    totals = {"month": month, "total_fen": 0, "count": 0}

    async def lines() -> AsyncIterator[DisbursementLine]:
        async for row in rows:
            totals.update(total_fen=row["total_fen"], count=row["count"])
            yield DisbursementLine(**{name: row[name] for name in DisbursementLine.model_fields})

    if format == "json":
        return json_stream(lines(), wrapped=lambda: totals, key="lines")
    return csv_stream(
        list(DisbursementLine.model_fields),
        lines(),
        f"disbursements-{month}.csv",
        last_row=lambda: ["total", "", "", "", totals["total_fen"], "", ""],
    )


class Recovery(BaseModel):
    """An amount paid on a certificate since revoked, to be recovered (追回)."""

    claim_id: UUID
    trainee_id: UUID
    amount_fen: int
    certificate_number: str
    reason: str
    due_since: date


@router.get(
    "/recoveries",
    summary="Subsidies paid on certificates since revoked, to be recovered (paginated)",
)
async def recoveries(
    request: Request, response: Response, views: Views, principal: ReportReader, page: Page
) -> list[Recovery]:
    await views.ensure_cursor(
        page.after, "recovery", "SELECT 1 FROM recoveries WHERE claim_id = $1", page.after
    )
    rows = await views.fetch(
        "SELECT claim_id, trainee_id, amount_fen, certificate_number, reason, due_since"
        " FROM recoveries WHERE ($1::uuid IS NULL OR recorded_position >"
        "  (SELECT recorded_position FROM recoveries WHERE claim_id = $1))"
        " ORDER BY recorded_position LIMIT $2",
        page.after,
        page.fetch,
    )
    listed = [Recovery(**dict(row)) for row in rows]
    return paginated(listed, page, lambda recovery: recovery.claim_id, request, response)
