"""A retrying background loop (relay, keeper, consumer) stops when cancelled, even when a library
turned the cancellation into an error of its own; otherwise it outlives its service and retries
against a closed pool for ever."""

from __future__ import annotations

import asyncio

import pytest

from heze_common.cancellation import stop_if_cancelled


async def test_a_retrying_loop_stops_although_a_library_swallowed_its_cancellation() -> None:
    attempts = 0

    async def library_call() -> None:  # as aiokafka's clients can do on close
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise ConnectionError("connection closed") from None

    async def retrying_loop() -> None:
        nonlocal attempts
        while True:
            attempts += 1
            try:
                await library_call()
            except Exception:
                stop_if_cancelled()

    task = asyncio.create_task(retrying_loop())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=10)
    assert attempts == 1


async def test_an_ordinary_error_is_retried() -> None:
    try:
        raise ConnectionError("broker away")
    except Exception:
        stop_if_cancelled()  # not cancelled: nothing happens, the loop retries
