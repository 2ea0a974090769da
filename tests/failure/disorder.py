"""Duplicates and disorder: delivery schedules for the upstream integration events of a consuming
service, and a feed that publishes a schedule to the broker in exactly that order.

A disturbed schedule keeps what Kafka guarantees, each topic in the order its producer's relay
published it (so every key and every partition stays in order), and nothing else:
- the topics are interleaved at random;
- earlier messages come again later, with the same event id and position: single ones (a consumer
  redelivering after a rebalance) and a run of one topic (a relay publishing a batch again after
  a crash before it recorded its position);
- one topic (if chosen) is held back and delivered after the others, as long as no command needs
  its facts.

The scenario is a list of stages: what the upstream producers published during a period, then the
HTTP commands of the consuming service. A command whose outcome depends on upstream facts (a
qualification review needs the training proof) names the topics it needs; their held-back
messages are delivered before it, as any real client would wait for them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Self

from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from heze_common.consumer import Outcome
from heze_common.outbox import message_headers
from heze_common.testing import eventually, signed_headers
from heze_contracts import IntegrationEvent

Commands = Callable[[Any], Awaitable[None]]
LONGEST_RUN_OF_ONE_TOPIC = 8
LONGEST_REPUBLISHED_BATCH = 5


@dataclass(frozen=True)
class Stage:
    facts: tuple[IntegrationEvent, ...] = ()
    """Published upstream during the period, in the producers' order (the natural order)."""
    commands: Commands | None = None
    """Run at the end of the period with the run's context."""
    needs: frozenset[str] = frozenset()
    """Topics whose facts the commands' outcome depends on."""


@dataclass(frozen=True)
class Delivery:
    event: IntegrationEvent
    redelivered: bool = False

    @property
    def topic(self) -> str:
        return self.event.TOPIC


@dataclass(frozen=True)
class Step:
    deliveries: tuple[Delivery, ...]
    then: Stage | None
    """The stage whose commands run once the deliveries are consumed (None: the final flush)."""


@dataclass(frozen=True)
class Schedule:
    steps: tuple[Step, ...]

    @property
    def deliveries(self) -> list[Delivery]:
        return [delivery for step in self.steps for delivery in step.deliveries]

    @property
    def redeliveries(self) -> int:
        return sum(delivery.redelivered for delivery in self.deliveries)

    def held_back(self, natural: Schedule) -> int:
        """Messages delivered after commands that they precede in the natural schedule."""
        step_of = {
            d.event.event_id: i for i, step in enumerate(natural.steps) for d in step.deliveries
        }
        return sum(
            1
            for i, step in enumerate(self.steps)
            for d in step.deliveries
            if not d.redelivered and i > step_of[d.event.event_id]
        )

    def inversions(self, natural: Schedule) -> int:
        """Pairs of messages of different topics delivered in the other order than naturally."""
        rank = {d.event.event_id: i for i, d in enumerate(natural.deliveries)}
        firsts = [d for d in self.deliveries if not d.redelivered]
        return sum(
            1
            for i, earlier in enumerate(firsts)
            for later in firsts[i + 1 :]
            if earlier.topic != later.topic
            and rank[earlier.event.event_id] > rank[later.event.event_id]
        )


def natural(stages: Sequence[Stage]) -> Schedule:
    """The undisturbed run: every stage's facts in their natural order, each message once."""
    return Schedule(tuple(Step(tuple(Delivery(e) for e in stage.facts), stage) for stage in stages))


def disturbed(
    stages: Sequence[Stage],
    rng: random.Random,
    delayed_topic: str | None,
    redelivery_rate: float = 0.15,
) -> Schedule:
    """The stages' facts with every topic but `delayed_topic` interleaved at random and
    `delayed_topic` held back until a stage's commands need it (or the end), with redeliveries.
    Redeliveries are copies of messages of the topic being delivered at that point, so they add no
    topic switch (each switch costs the feed a round trip to the consumer)."""
    held_back: list[IntegrationEvent] = []
    delivered: list[Delivery] = []
    steps = []
    for stage in [*stages, None]:
        facts = list(stage.facts) if stage else []
        held_back += [event for event in facts if event.TOPIC == delayed_topic]
        others: dict[str, list[IntegrationEvent]] = {}
        for event in facts:
            if event.TOPIC != delayed_topic:
                others.setdefault(event.TOPIC, []).append(event)
        order = _interleave(others, rng)
        if stage is None or delayed_topic in stage.needs:
            order, held_back = order + held_back, []
        batch = _with_redeliveries(order, delivered, rng, redelivery_rate)
        delivered.extend(batch)
        steps.append(Step(tuple(batch), stage))
    return Schedule(tuple(steps))


def _interleave(queues: dict[str, list[IntegrationEvent]], rng: random.Random) -> list:
    """Runs of random length from randomly chosen topics, each topic keeping its order."""
    pending = {topic: list(queue) for topic, queue in sorted(queues.items()) if queue}
    merged = []
    while pending:
        topic = rng.choice(sorted(pending))
        length = rng.randint(1, LONGEST_RUN_OF_ONE_TOPIC)
        merged.extend(pending[topic][:length])
        del pending[topic][:length]
        if not pending[topic]:
            del pending[topic]
    return merged


def _with_redeliveries(
    order: list[IntegrationEvent],
    delivered_before: list[Delivery],
    rng: random.Random,
    rate: float,
) -> list[Delivery]:
    """The batch with copies of earlier messages of the topic being delivered at that point:
    single ones, and one run of them published again."""
    seen = [d.event for d in delivered_before if not d.redelivered]
    republish_at = rng.randrange(len(order)) if order else None
    batch: list[Delivery] = []
    for index, event in enumerate(order):
        earlier = [e for e in seen if e.TOPIC == event.TOPIC]
        if index == republish_at and earlier:
            start = rng.randrange(len(earlier))
            run = earlier[start : start + rng.randint(2, LONGEST_REPUBLISHED_BATCH)]
            batch.extend(Delivery(e, redelivered=True) for e in run)
        elif earlier and rng.random() < rate:
            batch.append(Delivery(rng.choice(earlier), redelivered=True))
        batch.append(Delivery(event))
        seen.append(event)
    return batch


class Feed:
    """Publishes deliveries as the upstream relays would (key, headers) to the test's topics.

    The consumer fetches from all its partitions at once, so the broker alone would not keep an
    order across topics: after each run of one topic the feed waits until the consumer has
    processed everything sent, so it meets the topics in exactly the scheduled order.
    """

    def __init__(self, bootstrap_servers: str, topic_prefix: str, consumer: str):
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
        self.topic_prefix = topic_prefix
        self.consumer = consumer
        self.topics: set[str] = set()
        self.sent = 0

    async def __aenter__(self) -> Self:
        await self.producer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.producer.stop()

    async def deliver(self, deliveries: Iterable[Delivery]) -> None:
        for topic, run in groupby(deliveries, key=lambda delivery: delivery.topic):
            self.topics.add(self.topic_prefix + topic)
            sends = [
                await self.producer.send(
                    self.topic_prefix + topic,
                    d.event.to_bytes(),
                    key=d.event.key_bytes(),
                    headers=[(k, v.encode()) for k, v in message_headers(d.event, None).items()]
                    + signed_headers(d.event.producer.value, d.event.to_bytes()),
                )
                for d in run
            ]
            await asyncio.gather(*sends)
            self.sent += len(sends)
            await eventually(lambda: self.consumed() >= self.sent)

    def consumed(self, outcome: Outcome | None = None) -> int:
        """Messages of the fed topics the consumer has processed (with this outcome)."""
        return int(
            sum(
                REGISTRY.get_sample_value(
                    "heze_messages_consumed_total",
                    {"service": self.consumer, "topic": topic, "outcome": each.value},
                )
                or 0
                for topic in self.topics
                for each in ([outcome] if outcome else Outcome)
            )
        )


async def play(schedule: Schedule, feed: Feed, context: Any) -> None:
    """Deliver each step's messages, then run its stage's commands with `context`."""
    for step in schedule.steps:
        await feed.deliver(step.deliveries)
        if step.then is not None and step.then.commands is not None:
            await step.then.commands(context)
