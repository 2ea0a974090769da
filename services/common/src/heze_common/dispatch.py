"""Running a request's one command, or a read, against the (synchronous) event store from
async endpoints."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError
from fastapi import Request

from heze_common.auth import Principal
from heze_common.commands import Command
from heze_common.consumer import TRANSIENT_ERRORS
from heze_common.errors import Refusal, Unavailable
from heze_common.events import EventContext, event_context
from heze_common.idempotency import HEADER, IdempotencyKey, fingerprint, validated_key
from heze_common.tracing import current_traceparent

T = TypeVar("T")

CONFLICT_RETRIES = 30
"""Enough for a burst of identical commands on one aggregate to go through one at a time."""

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_application(request: Request) -> Any:
    return request.app.state.application


def _correlation_id(request: Request) -> UUID:
    try:
        return UUID(request.headers["x-correlation-id"])
    except (KeyError, ValueError):
        return uuid4()


async def _idempotency_key(request: Request, principal: Principal) -> IdempotencyKey | None:
    if request.method not in WRITE_METHODS or HEADER not in request.headers:
        return None
    return IdempotencyKey(
        principal.actor,
        validated_key(request.headers[HEADER]),
        fingerprint(request.method, request.url.path, await request.body()),
    )


async def execute(request: Request, command: Command) -> Any:
    """Run `command` in a worker thread with its principal recorded on every event it creates.

    A concurrent write to the same aggregate is retried (the handler reloads what it reads);
    an unavailable database becomes 503 with a retry hint, and nothing is half-written. A
    command whose request carries an `Idempotency-Key` takes effect once however often it is sent.
    """
    principal = command.principal
    context = EventContext(
        correlation_id=_correlation_id(request),
        actor=principal.actor,
        traceparent=current_traceparent(),
    )
    key = await _idempotency_key(request, principal)
    application = get_application(request)

    def run() -> Any:
        with event_context(context):
            for attempt in range(CONFLICT_RETRIES):
                try:
                    return application.handle(command, key)
                except IntegrityError:
                    time.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # jitter spreads retries
            raise Refusal("concurrent_update", "the record was changed concurrently; try again")

    return await _in_a_thread(run)


async def query(read: Callable[..., T], *args: Any) -> T:
    """Run a read of the event store in a worker thread; an unavailable store becomes 503."""
    return await _in_a_thread(lambda: read(*args))


async def _in_a_thread(work: Callable[[], T]) -> T:
    try:
        return await asyncio.to_thread(work)
    except TRANSIENT_ERRORS as error:
        raise Unavailable(
            "store_unavailable", f"the event store is unavailable: {type(error).__name__}"
        ) from error
