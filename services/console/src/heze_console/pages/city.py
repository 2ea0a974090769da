"""The city bureau's workspace: the dashboard (trainees per stage, refusals by reason, subsidies
approved and paid per month, and the talent pool by field and county); the data it keeps (the
directory, the occupation table and hours in force, the policy data and the personal-data
retention period, each with its effective date) and the year's continuing-education hours for
the CE platform, as CSV; the programmes it puts in
the subsidised-training plan and the city's training directory; and the subsidy claims, decided
now when they wait and paid when approved (the subsidy service decides; the city records the
payment's reference)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from heze_console.dashboard import FUNNEL, figures
from heze_console.errors import Problem
from heze_console.sessions import Identity
from heze_console.web import CsrfChecked, attempt, redirect, render, services, signed_in
from heze_common import clock
from heze_contracts.enums import Role

router = APIRouter(prefix="/city")
CityBureau = Annotated[Identity, Depends(signed_in(Role.CITY_BUREAU))]


@router.get("/data", response_class=HTMLResponse)
async def data(request: Request, identity: CityBureau) -> HTMLResponse:
    client, token, today = services(request), identity.token, clock.today()
    on = {"on": today.isoformat()}
    institutions, occupations, policy, retention, standards, subsidy_policy = await asyncio.gather(
        client.all_items("enrollment", "/institutions", token),
        client.get("enrollment", "/occupations", token, on),
        client.get("certification", "/policy", token, on),
        client.get("enrollment", "/personal-data/retention", token),
        client.get("subsidy", "/standards", token),
        client.get("subsidy", "/policy", token, on),
    )
    context = {
        "institutions": institutions,
        "occupations": occupations,
        "names": {o["code"]: o["name"] for o in occupations},
        "policy": policy,
        "retention": retention,
        "standards": sorted(
            standards, key=lambda s: (s["occupation_code"], s["level"], s["effective_from"])
        ),
        "subsidy_policy": subsidy_policy,
        "today": today,
        "years": list(range(today.year, 2022, -1)),
    }
    return render(request, "city_data.html", context)


@router.get("/continuing-education/{year}.csv")
async def continuing_education(
    request: Request, identity: CityBureau, year: Annotated[int, Path(ge=2023, le=2100)]
) -> Response:
    """The year's CE hours per person (其他学时认定), as certification exports them for the
    continuing-education platform."""
    answer = await services(request).request(
        "certification",
        "GET",
        f"/continuing-education/{year}",
        identity.token,
        params={"format": "csv"},
    )
    return Response(
        answer.content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="continuing-education-{year}.csv"'},
    )


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, identity: CityBureau) -> HTMLResponse:
    counted = await figures(services(request), identity.token)
    return render(request, "city.html", {"figures": counted, "stages": FUNNEL})


async def programmes_page(
    request: Request,
    identity: Identity,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    client, token = services(request), identity.token
    programmes, institutions = await asyncio.gather(
        client.all_items("enrollment", "/programmes", token),
        client.all_items("enrollment", "/institutions", token),
    )
    names = {i["institution_id"]: i["name"] for i in institutions}
    context = {"programmes": programmes, "names": names}
    return render(
        request, "city_programmes.html", context, problems=problems, status_code=status_code
    )


@router.get("/programmes", response_class=HTMLResponse)
async def programmes(request: Request, identity: CityBureau) -> HTMLResponse:
    return await programmes_page(request, identity)


@router.post("/programmes/{programme_id}/city-plan", dependencies=[CsrfChecked])
async def city_plan(
    request: Request,
    identity: CityBureau,
    programme_id: str,
    subsidised_plan: Annotated[str, Form()] = "",
    in_city_training_directory: Annotated[str, Form()] = "",
) -> Response:
    body = {
        "subsidised_plan": subsidised_plan == "yes",
        "in_city_training_directory": in_city_training_directory == "yes",
    }
    call = services(request).send(
        "enrollment", "PUT", f"/programmes/{programme_id}/city-plan", identity.token, body
    )
    return await attempt(
        call,
        lambda programme: redirect(
            request, "/city/programmes", f"已保存「{programme['title']}」的计划和目录标记。"
        ),
        lambda problems: programmes_page(request, identity, problems, 422),
    )


async def subsidies_page(
    request: Request,
    identity: Identity,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    client, token = services(request), identity.token
    claims, programmes = await asyncio.gather(
        client.all_items("subsidy", "/claims", token),
        client.all_items("enrollment", "/programmes", token),
    )
    context = {
        "claims": list(reversed(claims)),  # the latest first
        "titles": {p["programme_id"]: p["title"] for p in programmes},
    }
    return render(
        request, "city_subsidies.html", context, problems=problems, status_code=status_code
    )


@router.get("/subsidies", response_class=HTMLResponse)
async def subsidies(request: Request, identity: CityBureau) -> HTMLResponse:
    return await subsidies_page(request, identity)


@router.post("/claims/{claim_id}/decision", dependencies=[CsrfChecked])
async def decide(request: Request, identity: CityBureau, claim_id: str) -> Response:
    call = services(request).send("subsidy", "POST", f"/claims/{claim_id}/decision", identity.token)
    return await attempt(
        call,
        lambda claim: redirect(request, "/city/subsidies", "已作出审核决定。"),
        lambda problems: subsidies_page(request, identity, problems, 422),
    )


@router.post("/claims/{claim_id}/payment", dependencies=[CsrfChecked])
async def pay(
    request: Request,
    identity: CityBureau,
    claim_id: str,
    payment_reference: Annotated[str, Form()] = "",
) -> Response:
    if not payment_reference.strip():
        problem = Problem("payment_reference", "支付凭证号：必填")
        return await subsidies_page(request, identity, [problem], 422)
    call = services(request).send(
        "subsidy",
        "POST",
        f"/claims/{claim_id}/payment",
        identity.token,
        {"payment_reference": payment_reference.strip()},
    )
    return await attempt(
        call,
        lambda claim: redirect(
            request, "/city/subsidies", f"已登记发放，凭证号 {claim['payment_reference']}。"
        ),
        lambda problems: subsidies_page(request, identity, problems, 422),
    )
