"""The console process: `python -m heze_console.main serve` (the launcher starts it beside the
four services)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from heze_common.http_server import protocol_with_header_timeout
from heze_common.observability import configure_logging, health_router
from heze_console.errors import Problem, as_text, describe
from heze_console.identity import sign_in_for
from heze_console.openid import SignInFailed
from heze_console.pages import (
    auditor,
    city,
    county,
    employer,
    evaluation,
    institution,
    national,
    province,
    public,
    signin,
    trainee,
)
from heze_console.services import ServiceError, Services, ServiceUnavailable
from heze_console.sessions import SessionStore
from heze_console.settings import ConsoleSettings
from heze_console.web import CsrfRefused, SignInRequired, render, session_of, store
from heze_contracts.enums import Producer

log = structlog.get_logger()


def create_app(
    settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The console; `transport` replaces the network to the services in tests."""
    sign_in = sign_in_for(settings)
    client = Services(settings, transport)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await client.close()
        await sign_in.close()

    app = FastAPI(
        title="菏泽市数字技术工程师培育项目 网上服务平台",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.services = client
    app.state.sign_in = sign_in
    app.state.sessions = SessionStore(
        settings.resolved_session_key(),
        idle_seconds=settings.session_idle_minutes * 60,
        capacity=settings.max_sessions,
        secure_cookie=settings.secure_cookie,
    )
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(health_router({}))
    for pages in (
        public,
        signin,
        trainee,
        institution,
        city,
        evaluation,
        province,
        national,
        auditor,
        county,
        employer,
    ):
        app.include_router(pages.router)
    install_error_pages(app)
    return app


def install_error_pages(app: FastAPI) -> None:
    """Every failure ends on a page in Chinese: no JSON, no stack trace."""

    def page(request: Request, title: str, text: str, status_code: int) -> HTMLResponse:
        context = {"title": title, "text": text}
        return render(request, "error.html", context, status_code=status_code)

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, _: SignInRequired) -> Response:
        return RedirectResponse("/sign-in", status_code=303)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _: CsrfRefused) -> Response:
        text = "页面已过期或来源不明，请返回刷新页面后重新提交。"
        return page(request, "提交未受理", text, 403)

    @app.exception_handler(SignInFailed)
    async def provider_away(request: Request, failed: SignInFailed) -> Response:
        log.warning("identity provider failed", reason=failed.reason)
        text = "统一身份认证平台暂时无法访问，请稍后再试。"
        return page(request, "服务暂时不可用", text, 502)

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, error: ServiceUnavailable) -> Response:
        name = Producer(error.service).label
        return page(request, "服务暂时不可用", f"{name}服务暂时无法访问，请稍后再试。", 503)

    @app.exception_handler(ServiceError)
    async def refused(request: Request, error: ServiceError) -> Response:
        if error.status == 401:  # the token expired or the key changed: sign in again
            session = session_of(request)
            response = RedirectResponse("/sign-in", status_code=303)
            if session is not None:
                store(request).end(session, response)
            return response
        return page(request, "未能办理", as_text(describe(error)), error.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        return page(
            request, "提交有误", as_text([Problem(None, "提交的内容不完整或格式不正确")]), 422
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if error.status_code == 404:
            return page(request, "页面不存在", "您访问的页面不存在，请从首页进入。", 404)
        return page(
            request, "无法处理该请求", f"请求未被受理（{error.status_code}）。", error.status_code
        )

    @app.exception_handler(Exception)
    async def failure(request: Request, error: Exception) -> Response:
        reference = uuid.uuid4().hex[:12]
        log.exception("page failed", reference=reference, path=request.url.path)
        text = f"系统内部错误，请稍后再试。如需帮助，请提供错误编号 {reference}。"
        return page(request, "系统错误", text, 500)


def serve() -> None:
    settings = ConsoleSettings()
    configure_logging("console", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,  # addresses carry names and numbers; the services log what matters
        http=protocol_with_header_timeout(settings.http_header_timeout_seconds),
    )


def main() -> None:
    if sys.argv[1:] not in ([], ["serve"]):
        sys.exit("usage: python -m heze_console.main [serve]")
    serve()


if __name__ == "__main__":
    main()
