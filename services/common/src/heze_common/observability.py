"""Structured logs without personal data, health endpoints, Prometheus metrics, request timing."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from heze_common.metrics import METRICS

# Resident ID numbers (17 digits + check character) and mainland mobile numbers.
_PERSONAL_DATA = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|1[3-9][0-9]{9})(?![0-9])")


def redact(text: str) -> str:
    return _PERSONAL_DATA.sub(
        lambda match: match.group()[:3] + "*" * (len(match.group()) - 3), text
    )


def _redact_personal_data(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return {
        key: redact(value) if isinstance(value, str) else value for key, value in event_dict.items()
    }


def configure_logging(service_name: str, level: str = "INFO") -> None:
    """JSON lines on stderr; every string value scrubbed of ID and phone numbers."""
    logging.basicConfig(level=level.upper(), format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redact_personal_data,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(),
    )
    structlog.contextvars.bind_contextvars(service=service_name)


ReadinessCheck = Callable[[], Awaitable[str | None]]
"""Raises when its part is not ready; may return a state to report that does not prevent
serving (e.g. `joining`), None for `ok`."""


def health_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health/live", summary="Liveness: the process answers")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/health/ready", summary="Readiness: the database and the broker answer")
    async def ready() -> JSONResponse:
        results: dict[str, str] = {}
        healthy = True
        for name, check in checks.items():
            try:
                results[name] = await check() or "ok"
            except Exception as error:  # any failure means not ready; say which and why
                results[name] = f"unavailable: {type(error).__name__}"
                healthy = False
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "checks": results},
            status_code=200 if healthy else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def install_request_timing(app: FastAPI, service_name: str) -> None:
    @app.middleware("http")
    async def time_request(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        METRICS.command_latency.labels(
            service_name,
            request.method,
            getattr(route, "path", "unmatched"),
            str(response.status_code),
        ).observe(time.perf_counter() - started)
        return response
