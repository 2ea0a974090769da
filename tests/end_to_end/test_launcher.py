"""The README's main command: serves all four services, stops everything on Ctrl-C with no
process left behind, and a second start resumes from the stored state."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from heze_common.auth import TokenIssuer
from heze_common.broker import read_all
from heze_common.settings import ServiceSettings
from heze_contracts import parse_event
from heze_contracts.enums import Role

ROOT = Path(__file__).resolve().parents[2]
BASE_PORT = 18411


def start(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """Start `heze up`; return the process and the embedded broker's address once all serve."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "heze_system.launcher",
            "up",
            "--data-dir",
            str(data_dir),
            "--base-port",
            str(BASE_PORT),
        ],
        cwd=ROOT,
        env={
            k: v
            for k, v in os.environ.items()
            if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ""
    deadline = time.monotonic() + 120
    while "Press Ctrl-C to stop." not in output:
        assert process.poll() is None, output
        assert time.monotonic() < deadline, output
        output += process.stdout.readline()  # type: ignore[union-attr]
    broker = re.search(r"broker (127\.0\.0\.1:\d+)", output)
    assert broker, output
    return process, broker.group(1)


def leftover_processes(data_dir: Path, broker: str) -> list[int]:
    """Processes started for this data folder (services) or serving this broker address."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if (
            f"DATA_DIR={data_dir}".encode() in environ.split(b"\0")
            or f"tcp://{broker}".encode() in cmdline
        ):
            found.append(int(entry.name))
    return found


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)


def test_up_serves_stops_cleanly_on_ctrl_c_and_resumes(tmp_path: Path) -> None:
    data_dir = tmp_path.resolve() / "data"
    process, broker = start(data_dir)
    try:
        urls = [f"http://127.0.0.1:{BASE_PORT + offset}" for offset in range(4)]
        for url in urls:
            assert httpx.get(f"{url}/health/ready").status_code == 200
            assert httpx.get(f"{url}/docs").status_code == 200
        issuer = TokenIssuer(ServiceSettings(service_name="test", data_dir=data_dir))
        city = {"Authorization": f"Bearer {issuer.mint(Role.CITY_BUREAU)}"}
        trainee = {"Authorization": f"Bearer {issuer.mint(Role.TRAINEE, subject='account-1')}"}
        body = {
            "name": "孔繁星",
            "id_number": "11010519491231002X",
            "phone": "13800000000",
            "education": "bachelor",
            "major": "软件工程",
            "county": "曹县",
            "participant_category": "digital_worker",
            "retirement_group": "female_55",
        }
        registered = httpx.post(f"{urls[0]}/trainees", json=body, headers=trainee)
        assert registered.status_code in (201, 422), (
            registered.text
        )  # 422: the example number is a retiree's
        institutions = httpx.get(f"{urls[0]}/institutions", headers=city).json()
        assert [i["directory_number"] for i in institutions] == [1, 2, 3]
    finally:
        stop(process)
    assert process.returncode == 0
    assert leftover_processes(data_dir, broker) == []

    process, broker = start(data_dir)
    try:
        assert [
            i["directory_number"] for i in httpx.get(f"{urls[0]}/institutions", headers=city).json()
        ] == [1, 2, 3]

        async def accredited_on_the_new_broker() -> list:
            records = await read_all(broker, "enrollment.events.v1")
            return [
                parse_event(r.value)
                for r in records
                if parse_event(r.value).event_type == "InstitutionAccredited"
            ]

        deadline = time.monotonic() + 30
        while (
            len(events := asyncio.run(accredited_on_the_new_broker())) < 3
            and time.monotonic() < deadline
        ):
            time.sleep(0.5)
        assert (
            len(events) == 3
        )  # the new, empty broker gets the history once: nothing lost, nothing twice
    finally:
        stop(process)
    assert leftover_processes(data_dir, broker) == []
