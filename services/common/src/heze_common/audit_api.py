"""Read-only audit endpoints every service serves (auditor role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from heze_contracts.enums import Role
from pydantic import BaseModel

from heze_common.audit import LedgerKeeper, public_key_text
from heze_common.auth import Principal, require_roles

router = APIRouter(prefix="/audit", tags=["audit"])
Auditor = Annotated[Principal, Depends(require_roles(Role.AUDITOR))]


class CheckpointView(BaseModel):
    service: str
    position: int
    chain_hash: str
    signed_at: str
    signature: str


class Checkpoints(BaseModel):
    public_key: str
    """Raw Ed25519 public key, base64: verifies every signature below."""
    checkpoints: list[CheckpointView]


@router.get("/checkpoints", summary="Signed checkpoints of this service's event-log hash chain")
async def checkpoints(request: Request, _: Auditor) -> Checkpoints:
    keeper: LedgerKeeper = request.app.state.ledger
    return Checkpoints(
        public_key=public_key_text(keeper.public_key),
        checkpoints=[CheckpointView(**vars(checkpoint)) for checkpoint in keeper.checkpoints],
    )
