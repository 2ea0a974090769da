"""The development sign-in (仅限开发环境): pick a role and, where it acts for one, an
organisation; no password. It exists only in the embedded mode (see `heze_console.identity`)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from heze_console import id_numbers
from heze_console.counties import COUNTIES, county_id
from heze_console.errors import Problem
from heze_console.identity import WORKSPACES, employer_id
from heze_console.services import ServiceError
from heze_console.sessions import Identity
from heze_console.web import CsrfChecked, render, services, session_of, sign_in_of, store
from heze_contracts.enums import Role

router = APIRouter()


async def institutions(request: Request) -> list[dict]:
    token = sign_in_of(request).public_reader_token()
    return await services(request).all_items("enrollment", "/institutions", token)


async def evaluation_institutions(request: Request) -> list[dict]:
    """Assessment's list of evaluation institutions (any token reads it)."""
    token = sign_in_of(request).public_reader_token()
    return await services(request).all_items("assessment", "/evaluation-institutions", token)


ROLES = (
    (Role.TRAINEE, "学员"),
    (Role.TRAINING_INSTITUTION, "培训机构"),
    (Role.CITY_BUREAU, "市人社局"),
    (Role.EVALUATION_INSTITUTION, "评价机构"),
    (Role.PROVINCIAL_DEPARTMENT, "省人社厅"),
    (Role.NATIONAL_OFFICE, "国家审核部门"),
    (Role.AUDITOR, "审计人员"),
    (Role.COUNTY_BUREAU, "县区人社局"),
    (Role.EMPLOYER, "用人单位"),
)
"""The roles the development sign-in offers."""


async def directories(request: Request) -> dict[str, Any]:
    return {
        "institutions": await institutions(request),
        "evaluators": await evaluation_institutions(request),
        "roles": [(role.value, text) for role, text in ROLES],
        "counties": COUNTIES,
    }


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> Response:
    if session_of(request) is None:  # a form post needs a session to carry its CSRF token
        response = RedirectResponse(request.url.path, status_code=303)
        store(request).begin(response)
        return response
    return render(request, "sign_in.html", await directories(request))


@router.post("/sign-in", dependencies=[CsrfChecked])
async def sign_in(
    request: Request,
    role: Annotated[str, Form()] = "",
    institution_id: Annotated[str, Form()] = "",
    evaluation_institution_id: Annotated[str, Form()] = "",
    county: Annotated[str, Form()] = "",
    employer_name: Annotated[str, Form()] = "",
    trainee_id: Annotated[str, Form()] = "",
    id_number: Annotated[str, Form()] = "",
) -> Response:
    lists = await directories(request)
    listed = {i["institution_id"]: i["name"] for i in lists["institutions"]}
    evaluators = {i["evaluation_institution_id"]: i["name"] for i in lists["evaluators"]}
    chosen = next((r for r in WORKSPACES if r.value == role), None)
    problems: list[Problem] = []
    organisation: tuple[UUID, str] | None = None
    subject = f"dev-{role}"
    verified: str | None = None
    if chosen is None:
        problems.append(Problem("role", "身份：请选择"))
    elif chosen is Role.TRAINING_INSTITUTION:
        if institution_id not in listed:
            problems.append(Problem("institution_id", "培训机构：请选择"))
        else:
            organisation = (UUID(institution_id), listed[institution_id])
    elif chosen is Role.EVALUATION_INSTITUTION:
        if evaluation_institution_id not in evaluators:
            problems.append(Problem("evaluation_institution_id", "评价机构：请选择"))
        else:
            organisation = (
                UUID(evaluation_institution_id),
                evaluators[evaluation_institution_id],
            )
    elif chosen is Role.COUNTY_BUREAU:
        if county not in COUNTIES:
            problems.append(Problem("county", "县区：请选择"))
        else:
            organisation = (county_id(county), county)
    elif chosen is Role.EMPLOYER:
        name = employer_name.strip()
        if not 2 <= len(name) <= 100:
            problems.append(Problem("employer_name", "单位名称：请填写 2 至 100 个字"))
        else:
            organisation = (employer_id(name), name)
    elif chosen is Role.TRAINEE:
        subject = await _trainee_subject(request, trainee_id.strip(), problems)
        if not trainee_id.strip():
            verified = _verified_id_number(id_number, problems)
    if problems or chosen is None:
        context = {
            **lists,
            "role": role,
            "evaluation_institution_id": evaluation_institution_id,
            "county": county,
            "employer_name": employer_name,
            "trainee_id": trainee_id,
            "id_number": id_number,
        }
        return render(request, "sign_in.html", context, problems=problems, status_code=422)
    token = sign_in_of(request).token(
        chosen, subject, organisation[0] if organisation else None, verified_id_number=verified
    )
    identity = Identity(
        token=token,
        role=chosen,
        subject=subject,
        organisation_id=organisation[0] if organisation else None,
        organisation_name=organisation[1] if organisation else None,
        development=True,
    )
    response = RedirectResponse(WORKSPACES[chosen], status_code=303)
    store(request).begin(response, identity, replacing=session_of(request))
    return response


async def _trainee_subject(request: Request, trainee_id: str, problems: list[Problem]) -> str:
    """A registered trainee signs in with their trainee id; without one, a new account."""
    if not trainee_id:
        return f"account-{secrets.token_hex(8)}"
    try:
        subject = str(UUID(trainee_id))
        token = sign_in_of(request).token(Role.TRAINEE, subject)
        await services(request).get("enrollment", f"/trainees/{subject}", token)
    except (ValueError, ServiceError):
        problems.append(Problem("trainee_id", "学员编号：未找到该学员，新学员请留空以报名登记"))
        return ""
    return subject


def _verified_id_number(text: str, problems: list[Problem]) -> str | None:
    """A new trainee's ID number, as the identity provider would verify it (实名认证): the
    token then vouches for it, and they may register that person only."""
    checked = id_numbers.check(text)
    if not checked.valid:
        problems.append(Problem("id_number", f"身份证号码：{checked.message}"))
        return None
    return id_numbers.normalise(text)


@router.post("/sign-out", dependencies=[CsrfChecked])
async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    session = session_of(request)
    if session is not None:
        store(request).end(session, response)
    return response
