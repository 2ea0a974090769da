"""Dead-letter tools: list what a consumer could not process, and send it back to the topic it
came from once the cause is fixed (the consumer's tracking keeps a re-drive idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer

from heze_common.broker import read_all
from heze_common.signing import KEY_ID_HEADER, SIGNATURE_HEADER, Signer

DLQ_HEADERS = (
    "dlq_reason",
    "dlq_error",
    "dlq_consumer",
    "original_topic",
    "original_partition",
    "original_offset",
)


SIGNATURE_HEADERS = (SIGNATURE_HEADER, KEY_ID_HEADER)


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    reason: str
    error: str
    original_topic: str
    original_partition: int
    original_offset: int
    event_type: str | None
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    """The original message's headers (without the dead-letter ones)."""


async def dead_letters(
    bootstrap_servers: str, dlq_topic: str, **client_options: Any
) -> list[DeadLetter]:
    letters = []
    for record in await read_all(bootstrap_servers, dlq_topic, **client_options):
        headers = {name: value.decode("utf-8", "replace") for name, value in record.headers or ()}
        letters.append(
            DeadLetter(
                partition=record.partition,
                offset=record.offset,
                reason=headers.get("dlq_reason", "unknown"),
                error=headers.get("dlq_error", ""),
                original_topic=headers.get("original_topic", ""),
                original_partition=int(headers.get("original_partition", "-1")),
                original_offset=int(headers.get("original_offset", "-1")),
                event_type=headers.get("event_type"),
                key=record.key,
                value=record.value or b"",
                headers=[
                    (name, value) for name, value in record.headers or () if name not in DLQ_HEADERS
                ],
            )
        )
    return sorted(letters, key=lambda letter: (letter.partition, letter.offset))


async def redrive(
    bootstrap_servers: str,
    letters: list[DeadLetter],
    replacement: bytes | None = None,
    operator: Signer | None = None,
    **client_options: Any,
) -> int:
    """Publish each letter's original bytes, with the producer's signature they came with, or
    a corrected body signed by an operator's re-drive key, to its original topic."""
    if replacement is not None and operator is None:
        raise ValueError("a corrected body carries no producer's signature: an operator signs it")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", **client_options)
    await producer.start()
    try:
        for letter in letters:
            body, headers = letter.value, letter.headers
            if replacement is not None and operator is not None:
                body = replacement
                headers = [
                    (name, value) for name, value in headers if name not in SIGNATURE_HEADERS
                ] + [(name, value.encode()) for name, value in operator.headers(body).items()]
            await producer.send_and_wait(
                letter.original_topic, body, key=letter.key, headers=headers
            )
    finally:
        await producer.stop()
    return len(letters)
