"""Commands: one explicit object per request, carrying who asks, run by one application call.

An endpoint turns its request into a command and hands it to `heze_common.dispatch.execute`.
The application's handler for that command checks the caller's right to the records it names
and the rules, loads what it needs, and returns a `Decision`: the answer and the aggregates it
changed. The application saves those once (`ServiceApplication.handle`), with the record of the
request's idempotency key when it carries one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.domain import BaseAggregate

from heze_common.auth import Principal

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Command:
    """A request to change the state, made by `principal`."""

    principal: Principal


class Decision(Generic[T]):
    """What a handler decided: the answer to give, and the aggregates whose new events to save."""

    __slots__ = ("changed", "result")

    def __init__(self, result: T, *changed: BaseAggregate[UUID]) -> None:
        self.result = result
        self.changed = changed


def handles(method: Callable[[Any, Any], Decision[Any]]) -> Callable[[Any, Any], Decision[Any]]:
    """Marks an application method as the handler of the command type its `command` names."""
    method.handles_command = True  # type: ignore[attr-defined]
    return method
