"""Simultaneous starts on fresh data folders, in a process of its own: forking is safe only
from a process without other threads, which a test run is not.

`python -m tests.foundation.keyfile_race DIR STARTS PROCESSES` prints, as JSON, what the
processes of each start resolved."""

from __future__ import annotations

import json
import multiprocessing
import sys
from pathlib import Path

from heze_common.settings import ServiceSettings


def resolve_keys(data_dir: str, barrier, results) -> None:
    settings = ServiceSettings(service_name="enrollment", data_dir=Path(data_dir))
    barrier.wait()  # all the "services" reach for the keys at the same moment
    results.put(
        [
            settings.resolved_jwt_secret(),
            settings.resolved_cipher_key(),
            settings.resolved_audit_signing_key(),
        ]
    )


def main(root: Path, starts: int, processes: int) -> list[list[list[str]]]:
    context = multiprocessing.get_context("fork")
    outcomes = []
    for start in range(starts):
        barrier, results = context.Barrier(processes), context.Queue()
        workers = [
            context.Process(
                target=resolve_keys, args=(str(root / f"start-{start}"), barrier, results)
            )
            for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        outcomes.append([results.get(timeout=60) for _ in workers])
        for worker in workers:
            worker.join(timeout=60)
            if worker.exitcode != 0:
                raise SystemExit(f"a worker of start {start} exited with {worker.exitcode}")
    return outcomes


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))))
