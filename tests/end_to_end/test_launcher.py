"""The README's main command: serves all four services and the web console, stops everything on
Ctrl-C with no process left behind, and a second start resumes from the stored state."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from heze_common.auth import TokenIssuer
from heze_common.broker import EmbeddedBroker, read_all
from heze_common.settings import ServiceSettings
from heze_contracts import parse_event
from heze_contracts.enums import Role

pytestmark = pytest.mark.infrastructure  # starts `heze up` and its own broker: never fast

ROOT = Path(__file__).resolve().parents[2]
BASE_PORT = 18411


@dataclass
class Launcher:
    """A running `heze up` whose output is collected as it comes."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.process.poll() is None, self.output
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.output}"
            time.sleep(0.1)


def launch(data_dir: Path, **environment: str) -> Launcher:
    """Start `heze up` and wait until all four services and the console serve."""
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
            **{
                k: v
                for k, v in os.environ.items()
                if k not in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL")
            },
            "COLUMNS": "200",
            **environment,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    launcher = Launcher(process)
    launcher.wait_for("Press Ctrl-C to stop.")
    return launcher


def start(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """Start `heze up`; return the process and the embedded broker's address once all serve."""
    launcher = launch(data_dir)
    broker = re.search(r"broker (127\.0\.0\.1:\d+)", launcher.output)
    assert broker, launcher.output
    return launcher.process, broker.group(1)


def processes_where(matches: Callable[[bytes, bytes], bool]) -> list[int]:
    """Pids of the processes (not this one) whose environment and command line match."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if matches(environ, cmdline):
            found.append(int(entry.name))
    return found


def children_of(parent: int) -> dict[int, bytes]:
    """The command lines of `parent`'s child processes, by pid."""
    children = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            if entry.name.isdigit() and int(stat.rpartition(")")[2].split()[1]) == parent:
                children[int(entry.name)] = (entry / "cmdline").read_bytes()
        except OSError:
            continue
    return children


def leftover_processes(data_dir: Path, broker: str) -> list[int]:
    """Processes started for this data folder (the services; the embedded PostgreSQL server,
    whose command line names its cluster there) or serving this broker address."""
    return processes_where(
        lambda environ, cmdline: f"DATA_DIR={data_dir}".encode() in environ.split(b"\0")
        or str(data_dir).encode() in cmdline
        or f"tcp://{broker}".encode() in cmdline
    )


def service_pid(data_dir: Path, service: str) -> int:
    (pid,) = processes_where(
        lambda environ, cmdline: f"DATA_DIR={data_dir}".encode() in environ.split(b"\0")
        and f"heze_{service}.main".encode() in cmdline
    )
    return pid


def eventually_true(condition: Callable[[], object], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)


URLS = [f"http://127.0.0.1:{BASE_PORT + offset}" for offset in range(5)]
"""The four services', then the console's (the port after them)."""
SERVICES = ("enrollment", "assessment", "certification", "subsidy")
PROCESSES = (*SERVICES, "console")


def test_a_killed_service_is_restarted_and_a_killed_launcher_leaves_nothing(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path.resolve() / "data"
    launcher = launch(data_dir)
    broker = re.search(r"broker (127\.0\.0\.1:\d+)", launcher.output).group(1)  # type: ignore[union-attr]
    try:
        for index, service in enumerate(PROCESSES):  # the console is supervised like a service
            victim = service_pid(data_dir, service)
            os.kill(victim, signal.SIGKILL)
            launcher.wait_for(f"{service} restarted")
            eventually_true(lambda: service_pid(data_dir, service) != victim)
            eventually_true(lambda: all(ready(url) for url in URLS))
            assert launcher.process.poll() is None
            assert launcher.output.count("restarted (pid") == index + 1
        assert f"{SERVICES[0]} exited with code -9; restarting in 1 s" in launcher.output
    finally:
        launcher.process.kill()  # SIGKILL: the launcher runs no clean-up code at all
        launcher.process.wait()
    eventually_true(lambda: leftover_processes(data_dir, broker) == [], timeout=60)


def test_a_killed_parent_leaves_no_embedded_broker(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from heze_common.broker import EmbeddedBroker\n"
            "broker = EmbeddedBroker().start()\n"
            "print(broker.bootstrap_servers, flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    address = parent.stdout.readline().strip()  # type: ignore[union-attr]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", address)
    serving = lambda: processes_where(lambda _, cmdline: f"tcp://{address}".encode() in cmdline)  # noqa: E731
    assert serving()
    parent.kill()
    parent.wait()
    eventually_true(lambda: serving() == [], timeout=30)


def test_kafka_bootstrap_servers_selects_an_external_broker(tmp_path: Path) -> None:
    data_dir = tmp_path.resolve() / "data"
    with EmbeddedBroker() as external:
        launcher = launch(data_dir, KAFKA_BOOTSTRAP_SERVERS=external.bootstrap_servers)
        try:
            assert f"broker {external.bootstrap_servers}, external" in launcher.output
            assert f"console        {URLS[4]}   web console" in launcher.output
            children = sorted(children_of(launcher.process.pid).values())
            assert len(children) == 6, children  # no broker of its own
            assert sum(b".main" in command for command in children) == 5, children  # + console
            assert sum(b"pginstall/bin/postgres" in command for command in children) == 1

            async def accredited() -> int:
                records = await read_all(external.bootstrap_servers, "enrollment.events.v1")
                return sum(
                    parse_event(r.value).event_type == "InstitutionAccredited" for r in records
                )

            eventually_true(lambda: asyncio.run(accredited()) == 3)
        finally:
            stop(launcher.process)
        assert launcher.process.returncode == 0
        assert leftover_processes(data_dir, external.bootstrap_servers) == [external.process.pid]  # type: ignore[union-attr]


def test_up_serves_stops_cleanly_on_ctrl_c_and_resumes(tmp_path: Path) -> None:
    data_dir = tmp_path.resolve() / "data"
    process, broker = start(data_dir)
    try:
        urls = [f"http://127.0.0.1:{BASE_PORT + offset}" for offset in range(4)]
        for url in urls:
            assert httpx.get(f"{url}/health/ready").status_code == 200
            assert httpx.get(f"{url}/docs").status_code == 200
        home = httpx.get(f"{URLS[4]}/")  # the console: the enrolment notices, in Chinese
        assert home.status_code == 200 and "招生简章" in home.text
        issuer = TokenIssuer(ServiceSettings(service_name="test", data_dir=data_dir))
        city = {"Authorization": f"Bearer {issuer.mint(Role.CITY_BUREAU)}"}
        number = "11010519491231002X"
        token = issuer.mint(Role.TRAINEE, subject="account-1", verified_id_number=number)
        trainee = {"Authorization": f"Bearer {token}"}
        body = {
            "name": "孔繁星",
            "id_number": number,
            "phone": "13800000000",
            "education": "bachelor",
            "major": "软件工程",
            "county": "曹县",
            "participant_category": "digital_worker",
            "retirement_group": "female_55",
        }
        registered = httpx.post(f"{urls[0]}/trainees", json=body, headers=trainee)
        assert registered.status_code in (
            201,
            422,
        ), registered.text  # 422: the example number is a retiree's
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
