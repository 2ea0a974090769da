"""Public verification: anyone with a certificate number and the holder's name learns whether
it is valid, revoked or unknown, with occupation, level and issue date; nothing else. A wrong
name and a number never issued get the same answer, and each client is limited to
`VERIFY_REQUESTS_PER_MINUTE` across all replicas (`heze_common.rate_limits`)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from heze_certification.api.common import App
from heze_certification.domain.case import CaseStatus
from heze_certification.application import CertificationApplication
from heze_common.rate_limits import SharedRateLimit
from heze_common.views import ViewReader, Views
from heze_contracts.enums import Level

router = APIRouter(tags=["public verification"])


class Verdict(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class Verification(BaseModel):
    status: Verdict
    occupation_code: str | None = None
    level: Level | None = None
    issued_on: date | None = None


def limit_of(request: Request, app: CertificationApplication, views: ViewReader) -> SharedRateLimit:
    """The service's verification limit, counted in its database (made at the first request)."""
    if not hasattr(request.app.state, "verify_limit"):
        request.app.state.verify_limit = SharedRateLimit(
            views.pool,
            app.recorder.datastore.schema,  # type: ignore[attr-defined]
            "verifications",
            app.settings.verify_requests_per_minute,
        )
    return request.app.state.verify_limit  # type: ignore[no-any-return]


@router.get("/public/certificates/verify", summary="Verify a certificate (no token needed)")
async def verify(
    request: Request,
    app: App,
    views: Views,
    number: Annotated[str, Query(min_length=1, max_length=64)],
    name: Annotated[str, Query(min_length=1, max_length=100)],
) -> Verification:
    client = request.client.host if request.client else "unknown"
    await limit_of(request, app, views).admit(client)
    certificate = await views.fetchrow(
        "SELECT c.certificate_number, c.holder_name, h.name_hash, c.status, c.occupation_code,"
        " c.level, c.issued_on FROM cases c"
        " LEFT JOIN holder_name_hashes h USING (certificate_number)"
        " WHERE c.certificate_number = $1",
        number.strip(),
    )
    if certificate is None or not _names_holder(app, certificate, name):
        return Verification(status=Verdict.UNKNOWN)
    revoked = certificate["status"] == CaseStatus.REVOKED
    return Verification(
        status=Verdict.REVOKED if revoked else Verdict.VALID,
        occupation_code=certificate["occupation_code"],
        level=certificate["level"],
        issued_on=certificate["issued_on"],
    )


def _names_holder(app: CertificationApplication, certificate: Any, name: str) -> bool:
    """The keyed hash of the name kept with the certificate (it outlives an erasure), or the
    name itself for certificates issued before hashes were kept."""
    if certificate["name_hash"] is not None:
        return app.holder_names.matches(
            certificate["certificate_number"], name, certificate["name_hash"]
        )
    return bool(certificate["holder_name"]) and certificate["holder_name"] == name.strip()
