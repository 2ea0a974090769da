"""Idempotency keys: a client that lost the answer to a command (a dropped connection, a service
killed mid-request) sends it again with the same `Idempotency-Key` header and gets the first
outcome back instead of a second effect or a refusal of the now-changed state.

A request runs one command, so a key stands for one application call. The record of a keyed
command is an aggregate saved in the same transaction as the command's own events: a crash
leaves either both or neither.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar, Literal
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


class CommandRecord(Aggregate):
    TOPIC = "common.CommandRecord"

    class Recorded(AggregateCreated):
        TOPIC = "common.CommandRecord.Recorded.v1"
        class_version: ClassVar[int] = 2
        actor: str
        key: str
        request: str
        result_kind: ResultKind
        result: str | None
        result_topic: str | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 numbered the store calls of a request; a request is one command now."""
            del state["call"]

    @staticmethod
    def create_id(actor: str, key: str, *_: Any) -> UUID:
        return record_id(actor, key)

    @event(Recorded)
    def __init__(
        self,
        actor: str,
        key: str,
        request: str,
        result_kind: ResultKind,
        result: str | None,
        result_topic: str | None = None,
    ) -> None:
        self.request = request
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


class IdempotencyKey:
    """The key a caller sent with one request, and what the request was."""

    def __init__(self, actor: str, key: str, request: str) -> None:
        self.actor, self.key, self.request = actor, key, request

    def recorded(self, application: Any) -> CommandRecord | None:
        """The record of this key's first command, or None; refused if it was another request."""
        try:
            record: CommandRecord = application.repository.get(record_id(self.actor, self.key))
        except AggregateNotFoundError:
            return None
        if record.request != self.request:
            raise Refusal(
                "idempotency_key_reused",
                f"this {HEADER} was used for a different request: {record.request}",
                field=HEADER,
            )
        return record

    def record(self, result: Any) -> CommandRecord:
        return CommandRecord(self.actor, self.key, self.request, *_encoded(result))
