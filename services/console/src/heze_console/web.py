"""What every page shares: templates, the session and identity of a request, CSRF checks, and
the refusals that end a request with a page of their own."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
import structlog

from heze_console import pipeline
from heze_console.errors import MESSAGES, Problem, by_field, describe
from heze_console.identity import DevelopmentSignIn
from heze_console.openid import (
    RENEW_BEFORE_SECONDS,
    OpenIdSignIn,
    ProviderRefused,
    SignInFailed,
)
from heze_console.services import ServiceError, Services
from heze_console.sessions import (
    CSRF_FIELD,
    CSRF_HEADER,
    Identity,
    Session,
    SessionStore,
    csrf_valid,
)
from heze_console.settings import ConsoleSettings
from heze_contracts import enums
from heze_contracts.enums import Role

log = structlog.get_logger()

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals.update(
    Role=Role,
    Field=enums.Field,
    Level=enums.Level,
    HourKind=enums.HourKind,
    HourMode=enums.HourMode,
    CertificateStage=enums.CertificateStage,
    Education=enums.Education,
    ParticipantCategory=enums.ParticipantCategory,
    RetirementGroup=enums.RetirementGroup,
    Sex=enums.Sex,
    CSRF_FIELD=CSRF_FIELD,
)


def label(value: Any, vocabulary: type) -> str:
    """The Chinese label of a wire value (`big_data` → 大数据); the value itself if unknown."""
    try:
        return vocabulary(value).label
    except ValueError:
        return str(value)


def refusal_text(code: str) -> str:
    return MESSAGES.get(code, code)


def choices(vocabulary: type) -> list[tuple[str, str]]:
    """A select's options: every wire value of a vocabulary with its Chinese label."""
    return [(member.value, member.label) for member in vocabulary]


SERVICE_NAMES = {
    "enrollment": "报名培训",
    "assessment": "等级评价",
    "certification": "证书颁发",
    "subsidy": "培训补贴",
}
"""The four services as the people who use them call them."""
templates.env.filters["label"] = label
templates.env.filters["pair"] = lambda value: (value, value)
templates.env.filters["institution_choice"] = lambda institution: (
    institution["institution_id"],
    institution["name"] + ("（已暂停）" if institution["suspended"] else ""),
)
templates.env.filters["occupation_choice"] = lambda occupation: (
    occupation["code"],
    f"{occupation['name']}（{occupation['code']}，{label(occupation['field'], enums.Field)}）",
)
templates.env.filters["roster_choice"] = lambda line: (line["trainee_id"], line["name"])
templates.env.filters["stage_row"] = lambda stage, funnel: (stage[1], funnel[stage[0]])
templates.env.filters["refusal_row"] = lambda item: (refusal_text(item[0]), item[1])
templates.env.filters["refusal_text"] = refusal_text
templates.env.filters["month_row"] = lambda item: (item[0], item[1].paid)
templates.env.filters["field_row"] = lambda item: (label(item[0], enums.Field), item[1])
templates.env.globals["choices"] = choices
templates.env.filters["application_status"] = lambda s: pipeline.APPLICATION_STATUS.get(s, s)
templates.env.filters["case_status"] = lambda s: pipeline.CASE_STATUS.get(s, s)
templates.env.filters["claim_status"] = lambda s: pipeline.CLAIM_STATUS.get(s, s)
templates.env.filters["waiting_for"] = pipeline.waiting_for
templates.env.filters["yuan"] = pipeline.yuan
templates.env.filters["service_name"] = lambda service: SERVICE_NAMES.get(service, service)
templates.env.filters["compact_json"] = lambda value: json.dumps(
    value, ensure_ascii=False, separators=(",", ":")
)
templates.env.filters["route"] = pipeline.route
templates.env.filters["evaluator_choice"] = lambda institution: (
    institution["evaluation_institution_id"],
    institution["name"] + ("（已暂停）" if institution["suspended"] else ""),
)


class SignInRequired(Exception):
    """The page needs a signed-in person of one of these roles."""


class CsrfRefused(Exception):
    """A form post without this session's CSRF token."""


def settings_of(request: Request) -> ConsoleSettings:
    return request.app.state.settings


def services(request: Request) -> Services:
    return request.app.state.services


def sign_in_of(request: Request) -> DevelopmentSignIn | OpenIdSignIn:
    return request.app.state.sign_in


def development_sign_in(request: Request) -> DevelopmentSignIn:
    """The development sign-in, for what only it does (minting a token for a chosen person)."""
    sign_in = sign_in_of(request)
    assert isinstance(sign_in, DevelopmentSignIn)
    return sign_in


def store(request: Request) -> SessionStore:
    return request.app.state.sessions


def session_of(request: Request) -> Session | None:
    if not hasattr(request.state, "session"):
        request.state.session = store(request).of(request)
    return request.state.session


def signed_in(*roles: Role) -> Callable[[Request], Identity]:
    """A dependency: the identity of a signed-in person with one of `roles`."""

    async def dependency(request: Request) -> Identity:
        session = session_of(request)
        if session is None or session.identity is None or session.identity.role not in roles:
            raise SignInRequired()
        await renewed(request, session)
        if session.identity is None:
            raise SignInRequired()
        return session.identity

    return dependency


async def renewed(request: Request, session: Session) -> None:
    """An OpenID Connect sign-in whose access token is about to expire gets a new one from its
    refresh token, one request at a time. A provider that refuses signs the person out; one
    that is away leaves them signed in while their token still holds."""
    if session.identity is None or session.identity.provider is None:
        return
    async with session.renewal:
        identity = session.identity
        if identity is None or identity.provider is None:
            return
        left = identity.provider.expires_at - time.time()
        if left > RENEW_BEFORE_SECONDS:  # renewed meanwhile by a request beside this one
            return
        sign_in = sign_in_of(request)
        assert isinstance(sign_in, OpenIdSignIn)
        try:
            fresh = await sign_in.renew(identity.provider)
        except SignInFailed as failed:
            log.info("sign-in not renewed", reason=failed.reason)
            if isinstance(failed, ProviderRefused) or left <= 0:
                session.identity = None
            return
        identity.provider, identity.token = fresh, fresh.access_token


async def csrf_checked(request: Request) -> None:
    """Every form post (and htmx post) must carry the session's CSRF token."""
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not csrf_valid(session_of(request), submitted):
        raise CsrfRefused()


CsrfChecked = Depends(csrf_checked)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    problems: list[Problem] | None = None,
) -> HTMLResponse:
    session = session_of(request)
    return templates.TemplateResponse(
        request,
        template,
        {
            "session": session,
            "identity": session.identity if session else None,
            "flash": session.take_flash() if session else None,
            "csrf_token": session.csrf_token if session else "",
            "problems": problems or [],
            "errors": by_field(problems or []),
            **(context or {}),
        },
        status_code=status_code,
    )


def flash(request: Request, message: str) -> None:
    """A message for the next page (after a redirect)."""
    session = session_of(request)
    assert session is not None
    session.flash = message


async def attempt(
    call: Awaitable[Any],
    done: Callable[[Any], Response],
    failed: Callable[[list[Problem]], Awaitable[Response]],
) -> Response:
    """One command sent to a service: `done` with its answer, or the page again with the
    refusal in Chinese (`failed`)."""
    try:
        answer = await call
    except ServiceError as error:
        return await failed(describe(error))
    return done(answer)


def redirect(request: Request, to: str, message: str) -> Response:
    flash(request, message)
    return RedirectResponse(to, status_code=303)
