"""The city bureau's dashboard: trainees per stage, refusals by reason, subsidies approved and
paid per month, and the talent pool by field and county."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from heze_console.dashboard import FUNNEL, figures
from heze_console.sessions import Identity
from heze_console.web import render, services, signed_in
from heze_contracts.enums import Role

router = APIRouter(prefix="/city")
CityBureau = Annotated[Identity, Depends(signed_in(Role.CITY_BUREAU))]


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, identity: CityBureau) -> HTMLResponse:
    counted = await figures(services(request), identity.token)
    return render(request, "city.html", {"figures": counted, "stages": FUNNEL})
