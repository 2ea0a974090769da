"""Refusals with a machine-readable code and the field they concern.

Pure exceptions: the domain and the applications raise them and know nothing of HTTP;
`heze_common.http_errors` maps each kind to its status and renders it as JSON."""

from __future__ import annotations


class Refusal(Exception):
    """A command refused by a rule of the current state (the API answers 409)."""

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
    """The input breaks a rule of its own, whatever the state (422)."""


class NotFound(Refusal):
    """A record the command names does not exist (404)."""


class Unauthorized(Refusal):
    """The caller is not authenticated (401)."""


class Forbidden(Refusal):
    """The caller may not do this, or not to this record (403)."""


class RateLimited(Refusal):
    """Too many requests from one caller in a window (429)."""


class Unavailable(Refusal):
    """A dependency (database, broker) is away; the client should retry later (503)."""
