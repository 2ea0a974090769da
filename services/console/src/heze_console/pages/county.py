"""A county bureau's workspace (县区人社局): the registration list of its own county, in
registration order (the enrollment service narrows it to the county its token names)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from heze_console.sessions import Identity
from heze_console.web import render, services, signed_in
from heze_contracts.enums import Role

router = APIRouter(prefix="/county")
CountyBureau = Annotated[Identity, Depends(signed_in(Role.COUNTY_BUREAU))]


@router.get("", response_class=HTMLResponse)
async def workspace(request: Request, identity: CountyBureau) -> HTMLResponse:
    registrations = await services(request).all_items(
        "enrollment", "/registrations", identity.token
    )
    return render(request, "county.html", {"registrations": registrations})
