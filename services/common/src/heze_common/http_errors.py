"""How refusals and invalid requests look on the wire: JSON with a code, a message and the field;
and the OpenAPI document saying so for every operation."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from heze_common.errors import Refusal, Unauthorized, Unavailable


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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Refusal)
    async def refusal(_: Request, error: Refusal) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
        if isinstance(error, Unavailable):
            headers = {"Retry-After": "5"}
        if error.status_code == 429:
            headers = {"Retry-After": "60"}
        return JSONResponse(
            jsonable_encoder(error.body()), status_code=error.status_code, headers=headers
        )

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
    """Refuse a body that declares more than `max_bytes` before reading it, in the error shape.
    (FastAPI's own limit answers in plain text; a chunked body without a length is not counted.)"""

    @app.middleware("http")
    async def refuse_large_bodies(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            message = f"body: the body is {declared} bytes; a command takes at most {max_bytes}"
            error = {"code": "body_too_large", "message": message, "field": "body"}
            return JSONResponse({"error": error}, status_code=413)
        return await call_next(request)


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
            roles = sorted(role.value for role in set().union(*_allowed_roles(route.dependant)))
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
        _drop_unreferenced(schemas, document, ("HTTPValidationError", "ValidationError"))
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _allowed_roles(dependant: Dependant) -> Iterator[frozenset[Any]]:
    for dependency in dependant.dependencies:
        if (roles := getattr(dependency.call, "allowed_roles", None)) is not None:
            yield roles
        yield from _allowed_roles(dependency)


def _drop_unreferenced(schemas: dict[str, Any], document: dict[str, Any], names: Sequence[str]):
    """FastAPI's own validation-error schemas are left unused once every 422 is ours."""
    for name in names:
        schema = schemas.pop(name, None)
        if schema is not None and f"#/components/schemas/{name}" in json.dumps(document):
            schemas[name] = schema
