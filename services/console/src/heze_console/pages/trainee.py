"""The trainee's workspace: register (the ID number checked as it is typed), enrol in an open
programme, and follow the training record: hours by kind against the requirement, the
completion exam and the training certificate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from heze_console.errors import describe
from heze_console.id_numbers import check
from heze_console.counties import COUNTIES
from heze_console.pages.public import open_notices
from heze_console.services import ServiceError
from heze_console.sessions import Identity
from heze_console.web import CsrfChecked, render, services, session_of, sign_in_of, signed_in
from heze_contracts.enums import Role

router = APIRouter(prefix="/trainee")
Trainee = Annotated[Identity, Depends(signed_in(Role.TRAINEE))]

REGISTRATION_FIELDS = (
    "name",
    "id_number",
    "phone",
    "education",
    "major",
    "employer",
    "county",
    "participant_category",
    "retirement_group",
)


@router.get("", response_class=HTMLResponse)
async def workspace(request: Request, identity: Trainee) -> HTMLResponse:
    if identity.trainee_id is None:
        return render(request, "trainee_register.html", {"form": {}, "counties": COUNTIES})
    return render(request, "trainee.html", await record(request, identity))


async def record(request: Request, identity: Identity) -> dict[str, Any]:
    client = services(request)
    trainee = await client.get("enrollment", f"/trainees/{identity.trainee_id}", identity.token)
    programmes = {
        p["programme_id"]: p
        for p in await client.all_items("enrollment", "/programmes", identity.token)
    }
    enrolled = {e["programme_id"] for e in trainee["enrolments"]}
    return {
        "trainee": trainee,
        "programmes": programmes,
        "open": [n for n in await open_notices(request) if n["programme_id"] not in enrolled],
    }


@router.post("/registration", dependencies=[CsrfChecked])
async def register(request: Request, identity: Trainee) -> Response:
    form = await request.form()
    entered = {name: str(form.get(name) or "").strip() for name in REGISTRATION_FIELDS}
    body: dict[str, Any] = {name: value for name, value in entered.items() if value}
    body["draws_pension"] = form.get("draws_pension") == "yes"
    try:
        created = await services(request).send(
            "enrollment", "POST", "/trainees", identity.token, body
        )
    except ServiceError as error:
        context = {
            "form": {**entered, "draws_pension": body["draws_pension"]},
            "counties": COUNTIES,
        }
        return render(
            request, "trainee_register.html", context, problems=describe(error), status_code=422
        )
    # The services know a trainee by the id (`sub`) from now on: the development sign-in, as
    # the identity provider here, gives the session a token for it.
    identity.subject = created["trainee_id"]
    identity.token = sign_in_of(request).token(Role.TRAINEE, identity.subject)
    session = session_of(request)
    assert session is not None
    session.flash = f"报名登记成功。您的学员编号是 {identity.subject}，下次登录请填写。"
    return RedirectResponse("/trainee", status_code=303)


@router.post("/enrolments", dependencies=[CsrfChecked])
async def enrol(
    request: Request, identity: Trainee, programme_id: Annotated[str, Form()] = ""
) -> Response:
    if identity.trainee_id is None:  # enrolment comes after registration
        return RedirectResponse("/trainee", status_code=303)
    try:
        await services(request).send(
            "enrollment",
            "POST",
            f"/trainees/{identity.trainee_id}/enrolments",
            identity.token,
            {"programme_id": programme_id},
        )
    except ServiceError as error:
        context = await record(request, identity)
        return render(request, "trainee.html", context, problems=describe(error), status_code=422)
    session = session_of(request)
    assert session is not None
    session.flash = "报名成功，已加入培训班。"
    return RedirectResponse("/trainee", status_code=303)


@router.post("/id-number-check", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def id_number_check(
    request: Request, identity: Trainee, id_number: Annotated[str, Form()] = ""
) -> HTMLResponse:
    """The hint beside the ID number field, replaced by htmx as the person types."""
    return render(request, "id_hint.html", {"check": check(id_number)})
