"""How refusals and invalid requests look on the wire: JSON with a code, a message and the field."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from heze_common.errors import Refusal, Unauthorized, Unavailable


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Refusal)
    async def refusal(_: Request, error: Refusal) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
        if isinstance(error, Unavailable):
            headers = {"Retry-After": "5"}
        if error.status_code == 429:
            headers = {"Retry-After": "60"}
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
