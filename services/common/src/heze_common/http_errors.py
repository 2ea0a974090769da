"""How refusals and invalid requests look on the wire: JSON with a code, a message and the field;
and the OpenAPI document saying so for every operation."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heze_common.auth import TokenVerifier, authenticated
from heze_common.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Refusal,
    Unauthorized,
    Unavailable,
)


class ErrorDetail(BaseModel):
    """Why a request was refused: a code to act on, words to show, and the field to fix."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="Machine-readable reason in lower snake case")
    message: str
    field: str | None = Field(None, description="The request field the refusal concerns")
    details: dict[str, Any] | None = None


class ErrorResponse(BaseModel):
    """The body of every refusal and invalid request."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


ERRORS_OF_EVERY_OPERATION = {
    404: "A record the request names does not exist",
    409: "Refused: the current state forbids it (the code names the rule)",
    422: "Invalid input (the field and the rule are named)",
    503: "The event store is unavailable; retry later",
}
ERRORS_OF_OPERATIONS_WITH_A_BODY = {413: "The request body is larger than a command may be"}
ERRORS_OF_SECURED_OPERATIONS = {
    401: "The bearer token is missing, expired or invalid",
    403: "The token's role or organisation may not do this",
}

_HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}

_STATUS_OF_REFUSAL: dict[type[Refusal], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Unauthorized: 401,
    Forbidden: 403,
    RateLimited: 429,
    Unavailable: 503,
}


def status_of(error: Refusal) -> int:
    """The HTTP status of a refusal: its nearest kind's, or 409 for a rule of the state."""
    for kind in type(error).__mro__:
        if kind in _STATUS_OF_REFUSAL:
            return _STATUS_OF_REFUSAL[kind]
    return 409


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Refusal)
    async def refusal(_: Request, error: Refusal) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
        if isinstance(error, Unavailable):
            headers = {"Retry-After": "5"}
        status = status_of(error)
        if status == 429:
            headers = {"Retry-After": "60"}
        return JSONResponse(jsonable_encoder(error.body()), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": _field_name(problem),
                "location": str(problem["loc"][0]) if problem["loc"] else None,
                "rule": problem["type"],
                "message": problem["msg"],
            }
            for problem in error.errors()
        ]
        first = problems[0] if problems else {"field": None, "message": "invalid request"}
        body = {
            "error": {
                "code": "invalid_request",
                "message": f"{first['field']}: {first['message']}",
                "field": first["field"],
                "details": {"problems": problems},
            }
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        """Unknown paths and methods answer in the same shape as every other error."""
        if error.status_code == 400:  # FastAPI's answer to a body it cannot decode at all
            body = {
                "error": {
                    "code": "invalid_request",
                    "message": "body: the body cannot be read as JSON text in UTF-8",
                    "field": "body",
                }
            }
            return JSONResponse(body, status_code=422)
        code = _HTTP_ERROR_CODES.get(error.status_code, "http_error")
        return JSONResponse(
            {"error": {"code": code, "message": str(error.detail)}},
            status_code=error.status_code,
            headers=error.headers,
        )


def limit_body_size(app: FastAPI, max_bytes: int) -> None:
    """Refuse, in the error shape and before reading any of it, a body sent without a sound
    token to an operation that needs one (401), and a body larger than `max_bytes`, whether it
    declares its length or arrives in chunks without one (413)."""
    app.add_middleware(RequestLimits, service=app, max_bytes=max_bytes)


class _Cut(Exception):
    """Raised into the app by `receive` instead of the body; its answer to it is replaced."""


class RequestLimits:
    """Pure ASGI middleware: it wraps `receive` itself, so chunked bodies are counted too.

    A body is judged when the operation the router chose first asks for it, and before any of
    it is passed on: a missing or unsound token, where the operation needs one, is refused with
    the 401 its dependencies would give after reading the body; then a declared length over
    the limit; then the body is counted as it arrives and cut with 413 at the limit. Either
    answer closes the connection (the rest of the body is never read). An operation that takes
    no body never asks for it (uvicorn discards it, a little at a time, after the answer).

    The operations that need a token are found once, when the middleware stack is built (all
    routers are included by then): those with `authenticated` among their dependencies, as every
    `require_roles(...)` has. Health, metrics, the documents and `/public/...` have none."""

    def __init__(self, app: ASGIApp, *, service: FastAPI, max_bytes: int):
        self.app = app
        self.service = service
        self.max_bytes = max_bytes
        self.secured = {id(route) for route in routes_needing_a_token(service)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0
        first = True
        answer: Response | None = None  # ours, in place of the app's
        response_started = False

        async def limited_receive() -> Message:
            nonlocal first, received, answer
            if answer is not None:
                raise _Cut
            if first:
                first = False
                answer = self._refusal_before_the_body(scope)
                if answer is not None:
                    raise _Cut
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    limit = self.max_bytes
                    answer = _body_too_large(f"body: the body is over {limit} bytes, the limit")
                    raise _Cut
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if answer is not None and not response_started:
                return  # the app's answer to a body it did not get: ours replaces it
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            # However the app passed the cut on (FastAPI makes a 400 of errors reading a body).
            if answer is None or response_started:
                raise
        if answer is not None and not response_started:
            await answer(scope, receive, send)

    def _refusal_before_the_body(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        if id(scope.get("route")) in self.secured:
            scheme, token = get_authorization_scheme_param(headers.get("authorization"))
            try:
                if not (scheme.lower() == "bearer" and token):
                    raise Unauthorized("missing_token", "this endpoint requires a bearer token")
                verifier: TokenVerifier = self.service.state.token_verifier
                verifier.verify(token)  # the operation's dependencies check it again, and roles
            except Unauthorized as error:
                return JSONResponse(
                    jsonable_encoder(error.body()),
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer", "Connection": "close"},
                )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            limit = self.max_bytes
            return _body_too_large(
                f"body: the body is {declared} bytes; a command takes at most {limit}"
            )
        return None


def _body_too_large(message: str) -> Response:
    error = {"code": "body_too_large", "message": message, "field": "body"}
    return JSONResponse({"error": error}, status_code=413, headers={"Connection": "close"})


def routes_needing_a_token(app: FastAPI) -> list[APIRoute]:
    """The operations of `app` that admit only callers with a sound bearer token: those with
    `authenticated` among their dependencies (those of the routers they are included with too)."""
    return [
        context.original_route
        for context in iter_route_contexts(app.router.routes)
        if isinstance(context.original_route, APIRoute)
        and _depends_on(context.dependant, authenticated)
    ]


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(
        dependency.call is call or _depends_on(dependency, call)
        for dependency in dependant.dependencies
    )


def _field_name(problem: Mapping[str, Any]) -> str:
    """`name` for a body field, `limit` for a query parameter: the name the client sent, as
    refusals from the domain name it; "body" when the body as a whole is wrong."""
    location = [str(part) for part in problem["loc"]]
    if problem["type"] == "json_invalid" or len(location) == 1:  # its loc is a JSON position
        return location[0]
    return ".".join(location[1:])


def document_error_responses(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Declare in the OpenAPI document, for the operations of `routers`, the error responses
    they give (in the shape above) and the roles that may call them (`x-roles`)."""
    # The routers' own routes: they are included without a further prefix.
    operations = [
        route
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and route.include_in_schema
    ]
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(error_schema.pop("$defs"))
        schemas[ErrorResponse.__name__] = error_schema
        reference = {"$ref": f"#/components/schemas/{ErrorResponse.__name__}"}
        for route in operations:
            roles = sorted(
                role.value for role in set().union(*_allowed(route.dependant, "allowed_roles"))
            )
            for method in route.methods:
                operation = document["paths"][route.path_format][method.lower()]
                errors = dict(ERRORS_OF_EVERY_OPERATION)
                if "security" in operation:
                    errors.update(ERRORS_OF_SECURED_OPERATIONS)
                if "requestBody" in operation:
                    errors.update(ERRORS_OF_OPERATIONS_WITH_A_BODY)
                for status, description in errors.items():
                    if str(status) not in operation["responses"] or status == 422:
                        operation["responses"][str(status)] = {
                            "description": description,
                            "content": {"application/json": {"schema": reference}},
                        }
                operation["responses"] = dict(sorted(operation["responses"].items()))
                if roles:
                    operation["x-roles"] = roles
                if callers := sorted(set().union(*_allowed(route.dependant, "allowed_callers"))):
                    operation["x-callers"] = callers
        _drop_unreferenced(schemas, document, ("HTTPValidationError", "ValidationError"))
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _allowed(dependant: Dependant, kind: str) -> Iterator[frozenset[Any]]:
    """The roles (`allowed_roles`) or calling services (`allowed_callers`) the dependencies of
    an operation admit."""
    for dependency in dependant.dependencies:
        if (allowed := getattr(dependency.call, kind, None)) is not None:
            yield allowed
        yield from _allowed(dependency, kind)


def _drop_unreferenced(schemas: dict[str, Any], document: dict[str, Any], names: Sequence[str]):
    """FastAPI's own validation-error schemas are left unused once every 422 is ours."""
    for name in names:
        schema = schemas.pop(name, None)
        if schema is not None and f"#/components/schemas/{name}" in json.dumps(document):
            schemas[name] = schema
