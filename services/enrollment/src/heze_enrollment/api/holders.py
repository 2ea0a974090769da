"""The claim check of a certificate holder's identity: certification asks here for a trainee's
name and ID number, which no event carries (service calls only, `heze_common.service_calls`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from heze_common.dispatch import query
from heze_common.service_calls import require_caller
from heze_enrollment.api.common import App

router = APIRouter(tags=["service calls"])

HolderReader = Annotated[str, Depends(require_caller("certification"))]


class HolderIdentity(BaseModel):
    trainee_id: UUID
    name: str
    id_number: str


@router.get(
    "/internal/holders/{trainee_id}",
    summary="A trainee's name and ID number, for the certificate that will name them"
    " (certification's calls only)",
)
async def holder(trainee_id: UUID, app: App, caller: HolderReader) -> HolderIdentity:
    trainee = await query(app.trainee, trainee_id)
    return HolderIdentity(trainee_id=trainee.id, name=trainee.name, id_number=trainee.id_number)
