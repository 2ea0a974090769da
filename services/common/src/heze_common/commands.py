"""Running an HTTP command against the (synchronous) event store from async endpoints."""

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
from heze_common.consumer import TRANSIENT_ERRORS
from heze_common.errors import Refusal, Unavailable
from heze_common.events import EventContext, event_context
from heze_common.eventstore import ServiceApplication
from heze_common.idempotency import HEADER, KeyedRequest, fingerprint, validated_key
from heze_common.tracing import current_traceparent

T = TypeVar("T")

CONFLICT_RETRIES = 30
"""Enough for a burst of identical commands on one aggregate to go through one at a time."""


def get_application(request: Request) -> ServiceApplication:
    return request.app.state.application


def _correlation_id(request: Request) -> UUID:
    try:
        return UUID(request.headers["x-correlation-id"])
    except (KeyError, ValueError):
        return uuid4()


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def _keyed_request(request: Request, principal: Principal) -> KeyedRequest | None:
    """The request's idempotency key, when a write carries one (kept for its later calls)."""
    if request.method not in WRITE_METHODS or HEADER not in request.headers:
        return None
    keyed: KeyedRequest | None = getattr(request.state, "keyed", None)
    if keyed is None:
        keyed = KeyedRequest(
            principal.actor,
            validated_key(request.headers[HEADER]),
            fingerprint(request.method, request.url.path, await request.body()),
        )
        request.state.keyed = keyed
    return keyed


def _next_call(request: Request) -> int:
    """Store calls of one request are numbered so a repeat can tell its command from its reads."""
    call = getattr(request.state, "store_calls", 0) + 1
    request.state.store_calls = call
    return call


async def execute(
    request: Request, principal: Principal, command: Callable[..., T], *args: Any
) -> T:
    """Run `command` in a worker thread with the caller recorded on every event it creates.

    A concurrent write to the same aggregate is retried (the command reloads what it reads);
    an unavailable database becomes 503 with a retry hint, and nothing is half-written. A write
    that carries an `Idempotency-Key` takes effect once however often it is sent.
    """
    context = EventContext(
        correlation_id=_correlation_id(request),
        actor=principal.actor,
        traceparent=current_traceparent(),
    )

    keyed = await _keyed_request(request, principal)
    call = _next_call(request)
    application = get_application(request)

    def run() -> T:
        with event_context(context):
            for attempt in range(CONFLICT_RETRIES):
                try:
                    if keyed is None:
                        return command(*args)
                    return keyed.run(application, call, command, *args)
                except IntegrityError:
                    time.sleep(
                        random.uniform(0, 0.002 * (attempt + 1))
                    )  # jitter spreads the retries
            raise Refusal("concurrent_update", "the record was changed concurrently; try again")

    try:
        return await asyncio.to_thread(run)
    except TRANSIENT_ERRORS as error:
        raise Unavailable(
            "store_unavailable", f"the event store is unavailable: {type(error).__name__}"
        ) from error
