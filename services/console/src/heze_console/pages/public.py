"""Pages anyone may open without signing in: the open enrolment notices (招生简章) of the
accredited institutions, and certificate verification (also reached from a certificate's QR
code, which links to `/verify?number=…&name=…`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from heze_common import clock
from heze_console.errors import Problem, describe
from heze_console.services import ServiceError
from heze_console.web import render, services, sign_in_of

router = APIRouter()


async def open_notices(request: Request) -> list[dict[str, Any]]:
    """Programmes still taking trainees, of institutions not suspended, with their institution
    and occupation, soonest start first."""
    token = await sign_in_of(request).public_reader_token()
    client = services(request)
    institutions = {
        i["institution_id"]: i
        for i in await client.all_items("enrollment", "/institutions", token)
        if not i["suspended"]
    }
    occupations = {o["code"]: o for o in await client.get("enrollment", "/occupations", token)}
    today = clock.today().isoformat()
    notices = [
        {
            **programme,
            "institution": institutions[programme["institution_id"]],
            "occupation": occupations.get(programme["occupation_code"]),
        }
        for programme in await client.all_items("enrollment", "/programmes", token)
        if programme["enrolment_open"]
        and programme["ends_on"] >= today
        and programme["institution_id"] in institutions
    ]
    return sorted(notices, key=lambda n: (n["starts_on"], n["title"]))


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return render(request, "home.html", {"notices": (await open_notices(request))[:5]})


@router.get("/notices", response_class=HTMLResponse)
async def notices(request: Request) -> HTMLResponse:
    return render(request, "notices.html", {"notices": await open_notices(request)})


@router.get("/verify", response_class=HTMLResponse)
async def verify(
    request: Request,
    number: Annotated[str, Query(max_length=64)] = "",
    name: Annotated[str, Query(max_length=100)] = "",
) -> HTMLResponse:
    """The form, and the answer when both are given (as a certificate's QR code link gives them)."""
    number, name = number.strip(), name.strip()
    context: dict[str, Any] = {"number": number, "name": name, "result": None}
    if not number and not name:
        return render(request, "verify.html", context)
    missing = [
        Problem(field, f"{label}：必填")
        for field, label, value in (("number", "证书编号", number), ("name", "持证人姓名", name))
        if not value
    ]
    if missing:
        return render(request, "verify.html", context, problems=missing)
    try:
        context["result"] = await services(request).get(
            "certification", "/public/certificates/verify", None, {"number": number, "name": name}
        )
    except ServiceError as error:
        return render(request, "verify.html", context, problems=describe(error))
    return render(request, "verify.html", context)
