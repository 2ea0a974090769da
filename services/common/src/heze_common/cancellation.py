"""Background loops that retry on any error must still stop when they are cancelled."""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    """Call inside `except Exception` of a retrying loop: if this task has been cancelled and a
    library turned the CancelledError into an error of its own (aiokafka's clients can), stop
    as the cancellation asked instead of retrying for ever against a closed pool."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
