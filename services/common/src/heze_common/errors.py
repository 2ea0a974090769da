"""Refusals with a machine-readable code, the field they concern, and the HTTP status they map to."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class Refusal(Exception):
    """A command refused by a rule. 409 when the current state forbids it, 422 for bad input."""

    status_code = 409

    def __init__(self, code: str, message: str, *, field: str | None = None, **details: object):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.details = details

    def body(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        if self.details:
            error["details"] = self.details
        return {"error": error}


class InvalidInput(Refusal):
    status_code = 422


class NotFound(Refusal):
    status_code = 404


class Unauthorized(Refusal):
    status_code = 401


class Forbidden(Refusal):
    status_code = 403


class Unavailable(Refusal):
    """A dependency (database, broker) is away; the client should retry later."""

    status_code = 503


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Refusal)
    async def refusal(_: Request, error: Refusal) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
        if isinstance(error, Unavailable):
            headers = {"Retry-After": "5"}
        return JSONResponse(error.body(), status_code=error.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": ".".join(str(part) for part in problem["loc"]),
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
