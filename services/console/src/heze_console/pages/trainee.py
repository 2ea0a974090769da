"""The trainee's workspace: register (the ID number checked as it is typed), enrol in an open
programme, and follow the training record: hours by kind against the requirement, the
completion exam and the training certificate (downloaded as its signed credential). After
training: apply for level assessment with the commitment signed, follow the application, download
the level certificate's PDF, and claim the training subsidy."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from heze_console import pipeline
from heze_console.errors import Problem, describe
from heze_console.id_numbers import check
from heze_console.counties import COUNTIES
from heze_console.pages.public import open_notices
from heze_console.services import ServiceError
from heze_console.sessions import Identity
from heze_console.identity import DevelopmentSignIn
from heze_console.web import CsrfChecked, render, services, session_of, sign_in_of, signed_in
from heze_common import clock
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
        **await pipeline_of(request, identity, trainee),
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
    # The services know a trainee by the id (`sub`) from now on: the identity provider gives
    # the session a token for it (the development sign-in, as the provider here, mints one).
    session = session_of(request)
    assert session is not None
    trainee_id = created["trainee_id"]
    sign_in = sign_in_of(request)
    if isinstance(sign_in, DevelopmentSignIn):
        identity.subject = trainee_id
        identity.token = sign_in.token(Role.TRAINEE, trainee_id)
        session.flash = f"报名登记成功。您的学员编号是 {trainee_id}，下次登录请填写。"
        return RedirectResponse("/trainee", status_code=303)
    session.flash = f"报名登记成功。您的学员编号是 {trainee_id}。"
    session.registered_just_now = True
    return RedirectResponse("/sign-in/silent", status_code=303)


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


# After training: the level assessment, the certificates and the subsidy


async def pipeline_of(
    request: Request, identity: Identity, trainee: dict[str, Any]
) -> dict[str, Any]:
    """What the trainee has after training: their applications, their certificate cases with
    the stage and its deadline, level certificates, subsidy claims, and who assesses what."""
    client, token = services(request), identity.token
    applications = await client.all_items("assessment", "/applications", token)
    today = clock.today()
    cases = [
        {**case, "deadline": pipeline.deadline(case, today)}
        for case in await client.all_items("certification", "/cases", token)
    ]
    eligibility = await client.get(
        "certification",
        f"/talent/{identity.trainee_id}/eligibility",
        token,
        {"title_series": pipeline.TITLE_SERIES},
    )
    claims = await client.all_items("subsidy", "/claims", token)
    claimed = {c["programme_id"] for c in claims if c["status"] != "rejected"}
    applied = {
        (a["occupation_code"], a["level"])
        for a in applications
        if a["status"] not in ("refused", "rejected", "failed") and not a["voided"]
    }
    return {
        "applications": applications,
        "cases": cases,
        "certificates": eligibility["certificates"],
        "claims": claims,
        "claimed": claimed,
        "applied": applied,
        "completed": [e for e in trainee["enrolments"] if e["status"] == "completed"],
    }


def _enrolment(trainee: dict[str, Any], programme_id: str) -> dict[str, Any] | None:
    return next((e for e in trainee["enrolments"] if e["programme_id"] == programme_id), None)


async def apply_page(
    request: Request,
    identity: Identity,
    programme_id: str,
    *,
    form: dict[str, Any] | None = None,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> Response:
    client, token = services(request), identity.token
    trainee = await client.get("enrollment", f"/trainees/{identity.trainee_id}", token)
    enrolment = _enrolment(trainee, programme_id)
    if enrolment is None:
        return RedirectResponse("/trainee", status_code=303)
    evaluators = [
        e
        for e in await client.all_items("assessment", "/evaluation-institutions", token)
        if enrolment["occupation_code"] in e["occupations"] and not e["suspended"]
    ]
    programme = await client.get("enrollment", f"/programmes/{programme_id}", token)
    context = {
        "trainee": trainee,
        "enrolment": enrolment,
        "programme": programme,
        "evaluators": evaluators,
        "titles": pipeline.TITLES,
        "commitment": pipeline.COMMITMENT_TEXT,
        "form": form or {"education": trainee["education"], "years_in_occupation": "0"},
    }
    return render(
        request, "trainee_apply.html", context, problems=problems, status_code=status_code
    )


@router.get("/applications/new", response_class=HTMLResponse)
async def new_application(
    request: Request, identity: Trainee, programme_id: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    if identity.trainee_id is None:
        return RedirectResponse("/trainee", status_code=303)
    return await apply_page(request, identity, programme_id)


@router.post("/applications", dependencies=[CsrfChecked])
async def apply(request: Request, identity: Trainee) -> Response:
    if identity.trainee_id is None:
        return RedirectResponse("/trainee", status_code=303)
    form = await request.form()
    entered: dict[str, Any] = {
        name: str(form.get(name) or "").strip()
        for name in (
            "programme_id",
            "evaluation_institution_id",
            "education",
            "title",
            "years_in_occupation",
        )
    }
    for flag in ("major_relevant", "graduating_student", "commitment_signed"):
        entered[flag] = form.get(flag) == "yes"
    entered["prior_levels"] = [str(v) for v in form.getlist("prior_levels")]
    client, token = services(request), identity.token
    trainee = await client.get("enrollment", f"/trainees/{identity.trainee_id}", token)
    enrolment = _enrolment(trainee, entered["programme_id"])
    if enrolment is None:
        return RedirectResponse("/trainee", status_code=303)
    problems: list[Problem] = []
    try:
        years = int(entered["years_in_occupation"] or "0")
    except ValueError:
        problems.append(Problem("years_in_occupation", "从事本职业年限：须为整数"))
    if not entered["evaluation_institution_id"]:
        problems.append(Problem("evaluation_institution_id", "评价机构：请选择"))
    if not problems:
        declaration: dict[str, Any] = {
            "education": entered["education"],
            "major_relevant": entered["major_relevant"],
            "graduating_student": entered["graduating_student"],
            "years_in_occupation": years,
            "prior_levels": entered["prior_levels"],
        }
        if entered["title"]:
            declaration["title"] = entered["title"]
        body = {
            "evaluation_institution_id": entered["evaluation_institution_id"],
            "occupation_code": enrolment["occupation_code"],
            "level": enrolment["level"],
            "declaration": declaration,
            "commitment_text": pipeline.COMMITMENT_TEXT,
            "commitment_signed": entered["commitment_signed"],
        }
        try:
            await client.send("assessment", "POST", "/applications", token, body)
        except ServiceError as error:
            problems = describe(error)
        else:
            _flash(request, "评价申请已提交，告知承诺书已签署。请留意资格审核结果。")
            return RedirectResponse("/trainee#assessment-title", status_code=303)
    return await apply_page(
        request,
        identity,
        entered["programme_id"],
        form=entered,
        problems=problems,
        status_code=422,
    )


@router.post("/claims", dependencies=[CsrfChecked])
async def claim(
    request: Request, identity: Trainee, programme_id: Annotated[str, Form()] = ""
) -> Response:
    if identity.trainee_id is None:
        return RedirectResponse("/trainee", status_code=303)
    client, token = services(request), identity.token
    trainee = await client.get("enrollment", f"/trainees/{identity.trainee_id}", token)
    enrolment = _enrolment(trainee, programme_id)
    if enrolment is None:
        return RedirectResponse("/trainee", status_code=303)
    body = {
        "programme_id": programme_id,
        "occupation_code": enrolment["occupation_code"],
        "level": enrolment["level"],
    }
    try:
        await client.send("subsidy", "POST", "/claims", token, body)
    except ServiceError as error:
        context = await record(request, identity)
        return render(request, "trainee.html", context, problems=describe(error), status_code=422)
    _flash(request, "补贴申领已提交。条件齐备后自动审核，审核结果在此显示。")
    return RedirectResponse("/trainee#subsidy-title", status_code=303)


@router.get("/training-certificates/{programme_id}")
async def training_certificate(request: Request, identity: Trainee, programme_id: str) -> Response:
    """The training certificate as the signed credential the institution issued."""
    path = f"/trainees/{identity.trainee_id}/enrolments/{quote(programme_id)}/credential"
    answer = await services(request).request("enrollment", "GET", path, identity.token)
    return Response(
        answer.content,
        media_type="application/vc+jwt",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''training-certificate.jwt"},
    )


@router.get("/certificates/{number}/pdf")
async def level_certificate(request: Request, identity: Trainee, number: str) -> Response:
    """The level certificate's PDF e-certificate, as its holder (certification checks it)."""
    path = f"/certificates/{quote(number, safe='')}/pdf"
    answer = await services(request).request("certification", "GET", path, identity.token)
    return Response(
        answer.content,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(number)}.pdf"},
    )


def _flash(request: Request, message: str) -> None:
    session = session_of(request)
    assert session is not None
    session.flash = message
