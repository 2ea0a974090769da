"""Refusals with a machine-readable code, the field they concern, and the HTTP status they map to.

Pure exceptions (the domain raises them); `heze_common.http_errors` renders them as JSON."""

from __future__ import annotations


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
