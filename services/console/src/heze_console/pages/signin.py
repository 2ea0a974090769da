"""Signing in and out. With an identity provider (`OIDC_ISSUER`; always in production), the
OpenID Connect authorisation-code flow (`heze_console.openid`). Without one, the development
sign-in (仅限开发环境): pick a role and, where it acts for one, an organisation; no password;
the embedded mode only (see `heze_console.identity`)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from heze_common.auth import Principal

from heze_console import id_numbers
from heze_console.counties import COUNTIES, county_id
from heze_console.errors import Problem
from heze_console.identity import WORKSPACES, employer_id
from heze_console.services import ServiceError
from heze_console.openid import OpenIdSignIn, PendingSignIn, SignInFailed
from heze_console.sessions import Identity, Session
from heze_console.web import (
    CsrfChecked,
    development_sign_in,
    render,
    services,
    session_of,
    sign_in_of,
    store,
)
from heze_contracts.enums import Role

router = APIRouter()
log = structlog.get_logger()


async def institutions(request: Request) -> list[dict]:
    token = await sign_in_of(request).public_reader_token()
    return await services(request).all_items("enrollment", "/institutions", token)


async def evaluation_institutions(request: Request) -> list[dict]:
    """Assessment's list of evaluation institutions (any token reads it)."""
    token = await sign_in_of(request).public_reader_token()
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
    session = session_of(request)
    if session is None:  # the sign-in needs a session to carry its CSRF token or its request
        response = RedirectResponse(request.url.path, status_code=303)
        store(request).begin(response)
        return response
    sign_in = sign_in_of(request)
    if isinstance(sign_in, OpenIdSignIn):
        return await to_the_provider(request, session, sign_in, PendingSignIn.new())
    return render(request, "sign_in.html", await directories(request))


@router.get("/sign-in/silent")
async def silent_sign_in(request: Request) -> Response:
    """Once, right after a trainee registered: a new token from the provider without asking
    again (`prompt=none`), whose subject is now the trainee id; taken only for the same
    account at the provider."""
    session = session_of(request)
    sign_in = sign_in_of(request)
    identity = session.identity if session is not None else None
    if (
        session is None
        or not session.registered_just_now
        or identity is None
        or identity.provider is None
        or not isinstance(sign_in, OpenIdSignIn)
    ):
        return RedirectResponse("/sign-in", status_code=303)
    session.registered_just_now = False
    pending = PendingSignIn.new(
        silent_for=str(identity.provider.id_claims["sub"]), after_registration=True
    )
    return await to_the_provider(request, session, sign_in, pending)


async def to_the_provider(
    request: Request, session: Session, sign_in: OpenIdSignIn, pending: PendingSignIn
) -> Response:
    session.pending_sign_in = pending
    try:
        url = await sign_in.authorization_url(pending)
    except SignInFailed as failed:
        return provider_failed(request, failed)
    return RedirectResponse(url, status_code=303)


SILENT_REFUSALS = frozenset({"login_required", "interaction_required", "consent_required"})
"""A `prompt=none` request's answers that mean: ask the person (OpenID Connect Core 3.1.2.6)."""


def not_signed_in(request: Request, text: str, status_code: int) -> Response:
    return render(
        request, "error.html", {"title": "登录未完成", "text": text}, status_code=status_code
    )


@router.get("/sign-in/callback")
async def callback(
    request: Request,
    state: str = "",
    code: str = "",
    error: str = "",
) -> Response:
    """The provider's answer to an authorisation request: the person signed in, or not."""
    session = session_of(request)
    sign_in = sign_in_of(request)
    pending = session.pending_sign_in if session is not None else None
    if (
        session is None
        or pending is None
        or not isinstance(sign_in, OpenIdSignIn)
        or not pending.answers(state)
    ):
        return not_signed_in(request, "登录请求已失效或不是从本页面发起的，请重新登录。", 400)
    session.pending_sign_in = None  # an answer is used once
    again = PendingSignIn.new(after_registration=pending.after_registration)
    if error:
        if pending.silent and error in SILENT_REFUSALS:
            return await to_the_provider(request, session, sign_in, again)
        if error == "access_denied":
            return not_signed_in(request, "您已取消登录。", 401)
        text = f"统一身份认证平台未完成登录（{error[:40]}），请重新登录。"
        return not_signed_in(request, text, 401)
    try:
        provider = await sign_in.complete(pending, code)
    except SignInFailed as failed:
        return provider_failed(request, failed)
    if pending.silent and provider.id_claims["sub"] != pending.silent_for:
        # Another account is signed in at the provider in this browser: not taken for this
        # person (nor their message); they sign in themselves.
        log.warning("silent sign-in answered for another account")
        session.identity, session.flash = None, None
        return await to_the_provider(request, session, sign_in, PendingSignIn.new())
    principal = provider.principal
    if principal.role not in WORKSPACES:
        return not_signed_in(request, "您的身份在本平台没有工作台。", 403)
    identity = Identity(
        token=provider.access_token,
        role=principal.role,
        subject=principal.subject,
        organisation_id=principal.organisation_id,
        organisation_name=await organisation_name(request, principal, provider.id_claims),
        development=False,
        provider=provider,
    )
    if (
        pending.after_registration
        and principal.role is Role.TRAINEE
        and identity.trainee_id is None
    ):
        session.flash = (
            session.flash or ""
        ) + "统一身份认证平台尚未将您的账号关联到学员编号，关联后请退出并重新登录。"
    response = RedirectResponse(WORKSPACES[principal.role], status_code=303)
    store(request).begin(response, identity, replacing=session)
    return response


def provider_failed(request: Request, failed: SignInFailed) -> Response:
    log.warning("sign-in failed", reason=failed.reason)
    text = "未能通过统一身份认证平台登录，请稍后重试。"
    return render(request, "error.html", {"title": "登录未完成", "text": text}, status_code=502)


async def organisation_name(
    request: Request, principal: Principal, id_claims: dict[str, Any]
) -> str | None:
    """The name of the organisation a token's `org` names, as the directories call it; an
    employer's (which no service lists) from the ID token's `org_name`."""
    organisation = principal.organisation_id
    if organisation is None:
        return None
    key = str(organisation)
    if principal.role is Role.TRAINING_INSTITUTION:
        names = {i["institution_id"]: i["name"] for i in await institutions(request)}
    elif principal.role is Role.EVALUATION_INSTITUTION:
        names = {
            i["evaluation_institution_id"]: i["name"]
            for i in await evaluation_institutions(request)
        }
    elif principal.role is Role.COUNTY_BUREAU:
        names = {str(county_id(county)): county for county in COUNTIES}
    else:
        named = id_claims.get("org_name")
        return named if isinstance(named, str) else None
    return names.get(key)


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
    if not sign_in_of(request).development:
        raise HTTPException(404)
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
    token = development_sign_in(request).token(
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
        token = development_sign_in(request).token(Role.TRAINEE, subject)
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
    """Ends the console's session and, signed in through a provider that offers it, the
    provider's (RP-initiated logout), which sends the browser back to the home page."""
    session = session_of(request)
    identity = session.identity if session is not None else None
    sign_in = sign_in_of(request)
    to = "/"
    if identity is not None and identity.provider is not None and isinstance(sign_in, OpenIdSignIn):
        try:
            to = await sign_in.end_session_url(identity.provider.id_token) or "/"
        except SignInFailed as failed:
            log.warning("provider sign-out not offered", reason=failed.reason)
    response = RedirectResponse(to, status_code=303)
    if session is not None:
        store(request).end(session, response)
    return response
