"""Failpoints: named places where a crash test has the process killed with SIGKILL (as the OOM
killer or a lost node would) at the worst moment: mid-batch in the outbox relay, between a
consumer's commit and its offset acknowledgement, and so on.

Off unless `HEZE_FAILPOINTS` names them with a probability per pass, e.g.
`relay.mid_batch=0.02,consumer.before_ack=0.01`; an unknown name or a bad probability stops
the process at start, so a typo cannot make a crash test pass without crashing anything.
"""

from __future__ import annotations

import os
import random
import signal
import sys

import structlog

POINTS = frozenset(
    {
        "relay.mid_batch",  # half a batch handed to the producer, nothing recorded
        "relay.before_position",  # the whole batch acknowledged, the new position not recorded
        "consumer.mid_handler",  # the handler decided, nothing committed
        "consumer.before_ack",  # effects and tracking committed, the offset not acknowledged
    }
)

log = structlog.get_logger(__name__)


def parse(spec: str) -> dict[str, float]:
    probabilities: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, probability = item.partition("=")
        if name not in POINTS:
            raise ValueError(
                f"HEZE_FAILPOINTS: unknown failpoint {name!r}; known: {sorted(POINTS)}"
            )
        try:
            probabilities[name] = float(probability)
        except ValueError:
            raise ValueError(
                f"HEZE_FAILPOINTS: {name} needs a probability, not {probability!r}"
            ) from None
        if not 0 <= probabilities[name] <= 1:
            raise ValueError(f"HEZE_FAILPOINTS: {name}'s probability must lie in [0, 1]")
    return probabilities


_armed = parse(os.environ.get("HEZE_FAILPOINTS", ""))


def failpoint(name: str) -> None:
    """Kill this process here, with the probability the environment gives this point."""
    probability = _armed.get(name)
    if probability and random.random() < probability:
        log.warning("failpoint hit: killing the process", failpoint=name)
        sys.stdout.flush()  # the log line must reach the file before the kill
        os.kill(os.getpid(), signal.SIGKILL)
