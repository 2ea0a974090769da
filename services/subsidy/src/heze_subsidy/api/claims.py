"""Subsidy claims: filed by the trainee (or, when the policy allows, by the institution),
decided automatically, paid by the city bureau; the monthly disbursement report."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel

from heze_common.auth import Principal, require_roles
from heze_common.commands import execute
from heze_common.downloads import CSV_ALTERNATIVE, csv_download
from heze_common.errors import Forbidden, InvalidInput
from heze_common.requests import Body, ShortText
from heze_contracts.enums import Level, Role
from heze_contracts.values import OccupationCode
from heze_subsidy.api.common import App
from heze_subsidy.application import SubsidyApplication
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
    waiting_for: str | None
    amount_fen: int | None
    standard_id: UUID | None
    decided_on: date | None
    reason_code: str | None
    reason: str | None
    payment_reference: str | None
    paid_on: date | None

    @classmethod
    def of(cls, claim: Claim) -> ClaimView:
        return cls(
            claim_id=claim.id,
            trainee_id=claim.trainee_id,
            programme_id=claim.programme_id,
            occupation_code=claim.occupation_code,
            level=claim.level,
            status=claim.status,
            waiting_for=claim.waiting_for if claim.status is ClaimStatus.WAITING else None,
            amount_fen=claim.amount_fen,
            standard_id=claim.standard_id,
            decided_on=claim.decided_on,
            reason_code=claim.reason_code,
            reason=claim.reason,
            payment_reference=claim.payment_reference,
            paid_on=claim.paid_on,
        )


def ensure_may_read(app: SubsidyApplication, principal: Principal, claim: Claim) -> None:
    if principal.role is Role.TRAINEE and principal.subject != str(claim.trainee_id):
        raise Forbidden("not_your_claim", "a trainee reads only their own claims")
    if principal.role is Role.TRAINING_INSTITUTION:
        app.read_models.catch_up()
        if app.claims.institution_of_programme.get(claim.programme_id) != principal.organisation_id:
            raise Forbidden(
                "not_your_trainee", "an institution reads only claims for its own programmes"
            )


@router.post(
    "/claims", status_code=status.HTTP_201_CREATED, summary="Claim the vocational training subsidy"
)
async def file_claim(body: FileClaim, request: Request, app: App, principal: Claimant) -> ClaimView:
    if principal.role is Role.TRAINEE:
        if body.trainee_id not in (None, _uuid_or_none(principal.subject)):
            raise Forbidden("not_your_claim", "a trainee claims only for themself")
        trainee_id = _uuid_or_none(principal.subject)
        if trainee_id is None:
            raise Forbidden("no_trainee_id", "the token's subject must be the trainee id")
    elif body.trainee_id is None:
        raise InvalidInput(
            "trainee_id_required",
            "an institution names the trainee it claims for",
            field="trainee_id",
        )
    else:
        trainee_id = body.trainee_id
    claim = await execute(
        request,
        principal,
        lambda: app.file_claim(
            trainee_id=trainee_id,
            programme_id=body.programme_id,
            occupation_code=body.occupation_code,
            level=body.level,
            applied_by_role=principal.role,
            applied_by=principal.actor,
            institution_id=principal.organisation_id,
        ),
    )
    return ClaimView.of(claim)


def _uuid_or_none(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


@router.get("/claims/{claim_id}", summary="One claim")
async def claim(claim_id: UUID, request: Request, app: App, principal: Reader) -> ClaimView:
    found = await execute(request, principal, app.claim, claim_id)
    await execute(request, principal, ensure_may_read, app, principal, found)
    return ClaimView.of(found)


@router.get("/claims", summary="Claims per trainee, programme or institution")
async def claims(
    request: Request,
    app: App,
    principal: Reader,
    trainee_id: UUID | None = None,
    programme_id: UUID | None = None,
    institution_id: UUID | None = None,
) -> list[ClaimView]:
    if principal.role is Role.TRAINEE:
        trainee_id = _uuid_or_none(principal.subject)
        if trainee_id is None:  # no filter left: the listing would show every trainee's claims
            raise Forbidden("no_trainee_id", "the token's subject must be the trainee id")
        programme_id = institution_id = None
    if principal.role is Role.TRAINING_INSTITUTION:
        if institution_id not in (None, principal.organisation_id):
            raise Forbidden(
                "other_organisation", "an institution reads only its own programmes' claims"
            )
        institution_id = principal.organisation_id

    def listing() -> list[Claim]:
        app.read_models.catch_up()
        index = app.claims
        if trainee_id is not None:
            ids = index.by_trainee.get(trainee_id, [])
        elif programme_id is not None:
            ids = index.by_programme.get(programme_id, [])
        elif institution_id is not None:
            ids = index.claims_of_institution(institution_id)
        else:
            ids = [claim_id for group in index.by_trainee.values() for claim_id in group]
        found = [app.claim(claim_id) for claim_id in ids]
        return [
            c
            for c in found
            if (programme_id is None or c.programme_id == programme_id)
            and (
                institution_id is None
                or index.institution_of_programme.get(c.programme_id) == institution_id
            )
        ]

    return [ClaimView.of(c) for c in await execute(request, principal, listing)]


@router.post(
    "/claims/{claim_id}/decision",
    summary="Decide a waiting claim now (refused for what is missing)",
)
async def decide(claim_id: UUID, request: Request, app: App, principal: City) -> ClaimView:
    await execute(request, principal, app.decide_now, claim_id)
    return ClaimView.of(await execute(request, principal, app.claim, claim_id))


@router.post("/claims/{claim_id}/payment", summary="Record the payment of an approved claim")
async def pay(
    claim_id: UUID, body: Payment, request: Request, app: App, principal: City
) -> ClaimView:
    await execute(request, principal, app.record_payment, claim_id, body.payment_reference)
    return ClaimView.of(await execute(request, principal, app.claim, claim_id))


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
    request: Request,
    app: App,
    principal: ReportReader,
    format: Annotated[Literal["json", "csv"], Query()] = "json",  # noqa: A002 - the query parameter's name
) -> Response | Disbursements:
    def report() -> Disbursements:
        app.read_models.catch_up()
        lines = []
        for payment in app.claims.payments_by_month.get(month, []):
            paid_claim = app.claim(payment.claim_id)
            lines.append(
                DisbursementLine(
                    claim_id=payment.claim_id,
                    trainee_id=payment.trainee_id,
                    occupation_code=paid_claim.occupation_code,
                    level=paid_claim.level,
                    amount_fen=payment.amount_fen,
                    payment_reference=payment.payment_reference,
                    paid_on=payment.paid_on,
                )
            )
        return Disbursements(
            month=month,
            total_fen=sum(line.amount_fen for line in lines),
            count=len(lines),
            lines=lines,
        )

    result = await execute(request, principal, report)
    if format == "json":
        return result
    return csv_download(
        list(DisbursementLine.model_fields),
        result.lines,
        f"disbursements-{month}.csv",
        last_row=["total", "", "", "", result.total_fen, "", ""],
    )
