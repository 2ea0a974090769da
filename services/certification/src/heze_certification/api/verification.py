"""Public verification: anyone with a certificate number and the holder's name learns whether
it is valid, revoked or unknown, with occupation, level and issue date; nothing else."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from heze_certification.api.common import App
from heze_certification.domain.case import CaseStatus
from heze_common.errors import RateLimited
from heze_common.views import Views
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


class SlidingWindowLimiter:
    """At most `limit` requests per client in any 60 seconds (per process)."""

    def __init__(self) -> None:
        self.calls: dict[str, deque[float]] = defaultdict(deque)

    def admit(self, client: str, limit: int) -> None:
        now = time.monotonic()
        calls = self.calls[client]
        while calls and now - calls[0] > 60:
            calls.popleft()
        if len(calls) >= limit:
            raise RateLimited(
                "rate_limited", f"at most {limit} verifications a minute; try again shortly"
            )
        calls.append(now)


def limiter_of(request: Request) -> SlidingWindowLimiter:
    """One limiter per service instance."""
    if not hasattr(request.app.state, "verify_limiter"):
        request.app.state.verify_limiter = SlidingWindowLimiter()
    return request.app.state.verify_limiter


@router.get("/public/certificates/verify", summary="Verify a certificate (no token needed)")
async def verify(
    request: Request,
    app: App,
    views: Views,
    number: Annotated[str, Query(min_length=1, max_length=64)],
    name: Annotated[str, Query(min_length=1, max_length=100)],
) -> Verification:
    client = request.client.host if request.client else "unknown"
    limiter_of(request).admit(client, app.settings.verify_requests_per_minute)
    certificate = await views.fetchrow(
        "SELECT holder_name, status, occupation_code, level, issued_on FROM cases"
        " WHERE certificate_number = $1",
        number.strip(),
    )
    if certificate is None or certificate["holder_name"] != name.strip():
        return Verification(status=Verdict.UNKNOWN)
    revoked = certificate["status"] == CaseStatus.REVOKED
    return Verification(
        status=Verdict.REVOKED if revoked else Verdict.VALID,
        occupation_code=certificate["occupation_code"],
        level=certificate["level"],
        issued_on=certificate["issued_on"],
    )
