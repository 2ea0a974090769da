"""Idempotency keys: a client that lost the answer to a command (a dropped connection, a service
killed mid-request) sends it again with the same `Idempotency-Key` header and gets the first
outcome back instead of a second effect or a refusal of the now-changed state.

The record of a keyed command is an aggregate saved in the same transaction as the command's
own events, so a crash leaves either both or neither. A request runs at most one command that
saves; the record remembers which of the request's store calls it was, and a repeat answers that
call from the record while the reads around it run again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import BaseAggregate, event
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel

from heze_common.errors import InvalidInput, Refusal
from heze_common.events import Aggregate, AggregateCreated

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
_RECORDS = uuid5(NAMESPACE_URL, "urn:heze:command-record")

ResultKind = Literal["none", "uuid", "str", "int", "aggregate", "model"]

_deferred_saves: ContextVar[list[Any] | None] = ContextVar("deferred_saves", default=None)


def deferred_saves() -> list[Any] | None:
    """Aggregates a keyed command asked to save, held back to be saved with its record."""
    return _deferred_saves.get()


@contextmanager
def _deferring() -> Iterator[list[Any]]:
    held: list[Any] = []
    token = _deferred_saves.set(held)
    try:
        yield held
    finally:
        _deferred_saves.reset(token)


class CommandRecord(Aggregate):
    TOPIC = "common.CommandRecord"

    class Recorded(AggregateCreated):
        TOPIC = "common.CommandRecord.Recorded.v1"
        actor: str
        key: str
        request: str
        call: int
        result_kind: ResultKind
        result: str | None
        result_topic: str | None = None

    @staticmethod
    def create_id(actor: str, key: str, *_: Any) -> UUID:
        return record_id(actor, key)

    @event(Recorded)
    def __init__(
        self,
        actor: str,
        key: str,
        request: str,
        call: int,
        result_kind: ResultKind,
        result: str | None,
        result_topic: str | None = None,
    ) -> None:
        self.request = request
        self.call = call
        self.result_kind = result_kind
        self.result = result
        self.result_topic = result_topic

    def outcome(self, application: Any) -> Any:
        """The first answer again; a record the command returned is read as it is now."""
        if self.result is None:
            return None
        if self.result_kind == "uuid":
            return UUID(self.result)
        if self.result_kind == "int":
            return int(self.result)
        if self.result_kind == "aggregate":
            return application.repository.get(UUID(self.result))
        if self.result_kind == "model":
            return resolve_topic(self.result_topic or "").model_validate_json(self.result)
        return self.result


def record_id(actor: str, key: str) -> UUID:
    """Keys are the caller's own: the same key from another caller is another record."""
    return uuid5(_RECORDS, f"{actor}\n{key}")


def _encoded(result: Any) -> tuple[ResultKind, str | None, str | None]:
    """(kind, value, class topic) of what a command returned."""
    if result is None:
        return "none", None, None
    if isinstance(result, UUID):
        return "uuid", str(result), None
    if isinstance(result, BaseAggregate):
        return "aggregate", str(result.id), None
    if isinstance(result, BaseModel):  # a value's class path: keys are retried for minutes only
        return "model", result.model_dump_json(), get_topic(type(result))
    if isinstance(result, str):
        return "str", result, None
    if isinstance(result, int) and not isinstance(result, bool):
        return "int", str(result), None
    raise TypeError(f"a keyed command returned {type(result).__name__}, which has no record form")


def validated_key(raw: str) -> str:
    if not 1 <= len(raw) <= MAX_KEY_LENGTH or not raw.isascii() or not raw.isprintable():
        raise InvalidInput(
            "invalid_idempotency_key",
            f"the {HEADER} header is 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            field=HEADER,
        )
    return raw


def fingerprint(method: str, path: str, body: bytes) -> str:
    return f"{method} {path} {hashlib.sha256(body).hexdigest()}"


class KeyedRequest:
    """One HTTP request's keyed store calls, counted in the order the endpoint makes them."""

    def __init__(self, actor: str, key: str, request: str) -> None:
        self.actor, self.key, self.request = actor, key, request

    def run(self, application: Any, call: int, command: Callable[..., Any], *args: Any) -> Any:
        """Run store call number `call` of this request (in a worker thread)."""
        try:
            record = application.repository.get(record_id(self.actor, self.key))
        except AggregateNotFoundError:
            record = None
        if record is not None:
            if record.request != self.request:
                raise Refusal(
                    "idempotency_key_reused",
                    f"this {HEADER} was used for a different request: {record.request}",
                    field=HEADER,
                )
            if record.call == call:
                return record.outcome(application)
            with _deferring() as held:  # a read around the recorded command: it runs again
                result = command(*args)
            if held:
                raise Refusal(
                    "idempotency_key_reused",
                    f"this {HEADER} already took effect; a repeat would not make a second one",
                    field=HEADER,
                )
            return result
        with _deferring() as held:
            result = command(*args)
        if held:
            recorded = CommandRecord(self.actor, self.key, self.request, call, *_encoded(result))
            application.save(*held, recorded)
        return result
