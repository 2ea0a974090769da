"""A certificate's signed credential and PDF e-certificate (for its holder, its evaluation
institution and auditors), the issuers' published keys and revocation lists, and the public
verification by the random code of the certificate's QR link."""

from __future__ import annotations

import hmac
from datetime import date, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from heze_certification.api.common import App
from heze_certification.api.verification import Verdict, limit_of
from heze_certification.application import CertificationApplication
from heze_certification.credentials import (
    STATUS_LISTS_PATH,
    StatusIndex,
    certificate_sheet,
    level_credential,
    status_list_url,
)
from heze_certification.domain.case import CaseStatus, CertificateCase
from heze_certification.holders import HolderIdentity
from heze_common import clock
from heze_common.auth import Principal, require_roles
from heze_common.certificate_pdf import render_certificate
from heze_common.credentials import ISSUERS_PATH, MEDIA_TYPE
from heze_common.dispatch import query
from heze_common.errors import Forbidden, NotFound
from heze_common.status_lists import StatusPurpose, status_list_credential
from heze_common.views import ViewReader, Views
from heze_contracts.enums import Level, Role

router = APIRouter(tags=["certificates"])
Holder = Annotated[
    Principal,
    Depends(require_roles(Role.TRAINEE, Role.EVALUATION_INSTITUTION, Role.AUDITOR)),
]
CertificateNumber = Annotated[str, Path(min_length=1, max_length=64)]
STATUS_LIST_SECONDS = 300
"""How long a verifier may cache a status list: a revocation shows within this time."""


async def case_of(views: ViewReader, app: CertificationApplication, number: str) -> CertificateCase:
    row = await views.fetchrow(
        "SELECT case_id FROM cases WHERE certificate_number = $1", number.strip()
    )
    if row is None:
        raise NotFound("unknown_certificate", "no certificate has this number", field="number")
    return await query(app.case, row["case_id"])


def ensure_may_read(principal: Principal, case: CertificateCase) -> None:
    if principal.role is Role.TRAINEE and principal.subject != str(case.trainee_id):
        raise Forbidden("not_your_certificate", "a trainee reads only their own certificates")
    if principal.role is Role.EVALUATION_INSTITUTION:
        principal.ensure_acts_for(case.subject.evaluation_institution_id)


def signed_credential(
    app: CertificationApplication, case: CertificateCase, holder: HolderIdentity | None = None
) -> str:
    """The credential, signed by the issuing body (Ed25519 is deterministic: the same facts give
    the same credential every time)."""
    holder = holder or app.holder_of(case)
    credential = level_credential(case, holder, app.issuer_keys, app.identity_claim_key)
    return app.issuer_keys.sign(case.subject.evaluation_institution_id, credential)


@router.get(
    "/certificates/{number}/credential",
    summary="The certificate's signed credential (VC 2.0, application/vc+jwt)",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}}},
)
async def credential(
    number: CertificateNumber, app: App, views: Views, principal: Holder
) -> Response:
    case = await case_of(views, app, number)
    ensure_may_read(principal, case)
    return Response(await query(signed_credential, app, case), media_type=MEDIA_TYPE)


@router.get(
    "/certificates/{number}/pdf",
    summary="The PDF e-certificate, with its QR code and its signed credential attached",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def pdf(number: CertificateNumber, app: App, views: Views, principal: Holder) -> Response:
    case = await case_of(views, app, number)
    ensure_may_read(principal, case)

    def render() -> bytes:
        holder = app.holder_of(case)
        signed = signed_credential(app, case, holder)
        return render_certificate(certificate_sheet(case, holder, app.issuer_keys, signed))

    return Response(
        await query(render),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{case.certificate_number}.pdf"'},
    )


@router.get(f"{ISSUERS_PATH}/{{body_id}}", summary="An issuing body's published keys (JWK Set)")
async def issuer(body_id: UUID, app: App) -> dict[str, object]:
    return app.issuer_keys.published(body_id)


@router.get(
    f"{STATUS_LISTS_PATH}/{{body_id}}/{{purpose}}/{{list_name}}",
    summary="An issuing body's revocation list (Bitstring Status List credential)",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}}},
)
async def status_list(
    body_id: UUID,
    purpose: Annotated[str, Path(pattern="^revocation$")],
    list_name: Annotated[str, Path(pattern=r"^\d{4}-\d{1,4}$")],
    app: App,
    views: Views,
) -> Response:
    year = int(list_name[:4])
    revoked = await views.fetch(
        "SELECT certificate_number FROM cases WHERE evaluation_institution_id = $1"
        " AND status = $2 AND certificate_number LIKE $3",
        body_id,
        CaseStatus.REVOKED.value,
        f"HZSZ{year}-%",
    )
    positions = [StatusIndex.of(row["certificate_number"]) for row in revoked]
    keys = app.issuer_keys
    url = status_list_url(keys, body_id, StatusPurpose.REVOCATION, list_name)
    listed = status_list_credential(
        url,
        keys.issuer_id(body_id),
        StatusPurpose.REVOCATION,
        [position.index for position in positions if position.list_name == list_name],
        clock.now().replace(microsecond=0),
        timedelta(seconds=STATUS_LIST_SECONDS),
    )
    return Response(
        keys.sign(body_id, listed),
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": f"public, max-age={STATUS_LIST_SECONDS}"},
    )


class CodeVerification(BaseModel):
    """What the QR link answers: the certificate's status and what it says, with its credential
    (the code is the holder's to share, printed on the certificate)."""

    status: Verdict
    holder_name: str | None = None
    occupation_code: str | None = None
    level: Level | None = None
    issued_on: date | None = None
    credential: str | None = None


@router.get(
    "/public/certificates/{number}/verification",
    summary="Verify a certificate by the code of its QR link (no token needed)",
)
async def verify_by_code(
    number: CertificateNumber,
    request: Request,
    app: App,
    views: Views,
    code: Annotated[str, Query(min_length=1, max_length=64)],
) -> CodeVerification:
    client = request.client.host if request.client else "unknown"
    await limit_of(request, app, views).admit(client)
    try:
        case = await case_of(views, app, number)
    except NotFound:
        return CodeVerification(status=Verdict.UNKNOWN)
    expected = case.verification_code
    if expected is None or not hmac.compare_digest(expected.encode(), code.strip().encode()):
        return CodeVerification(status=Verdict.UNKNOWN)

    def answer() -> CodeVerification:
        return CodeVerification(
            status=Verdict.REVOKED if case.status is CaseStatus.REVOKED else Verdict.VALID,
            holder_name=case.holder_name,
            occupation_code=case.subject.occupation_code,
            level=case.subject.level,
            issued_on=case.issued_on,
            # An erased holder's certificate still verifies; no credential names them now.
            credential=None if case.holder_name is None else signed_credential(app, case),
        )

    return await query(answer)
