"""The whole system as separate processes: PostgreSQL and the broker (each embedded unless one is
given), the four services and, when asked, the web console, stopped together with no process
left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from heze_common.broker import EmbeddedBroker
from heze_common.postgres_server import EmbeddedPostgres
from heze_common.processes import terminated_with_parent

SERVICES = ("enrollment", "assessment", "certification", "subsidy")
CONSOLE = "console"
"""The web console: a fifth process on the port after the services', a client of their APIs."""


@contextmanager
def postgres_databases(
    admin_dsn: str, prefix: str, names: Sequence[str] = SERVICES, *, keep: bool = False
) -> Iterator[str]:
    """Fresh databases `<prefix>_<name>` on the server of `admin_dsn`, dropped afterwards unless
    `keep`; yields the `database_url_template` that gives each service its own."""

    def drop_all(admin: psycopg.Connection) -> None:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{prefix}_{name}" WITH (FORCE)')

    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        drop_all(admin)
        for name in names:
            admin.execute(f'CREATE DATABASE "{prefix}_{name}"')
    try:
        yield f"{admin_dsn.rpartition('/')[0]}/{prefix}_{{service}}"
    finally:
        if not keep:
            with psycopg.connect(admin_dsn, autocommit=True) as admin:
                drop_all(admin)


@dataclass
class RunningSystem:
    data_dir: Path
    base_port: int = 8001
    database_url_template: str | None = None
    """e.g. `postgresql://postgres@127.0.0.1:5432/heze_{service}`; unset: the embedded server,
    with its cluster under `data_dir/postgres` and a database `heze_<service>` per service."""
    kafka_bootstrap_servers: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    console: bool = False
    """Start the web console too (`./heze up` does)."""
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    def port(self, process: str) -> int:
        return self.base_port + (*SERVICES, CONSOLE).index(process)

    def database_url(self, service: str) -> str:
        if self.database_url_template:
            return self.database_url_template.format(service=service)
        if self.postgres is None:
            raise RuntimeError("the system is not started")
        return self.postgres.url(f"heze_{service}")

    @property
    def logs(self) -> Path:
        return self.data_dir / "logs"

    def start(self, ready_timeout: float = 300) -> RunningSystem:
        self.data_dir = self.data_dir.resolve()
        self.logs.mkdir(parents=True, exist_ok=True)
        try:
            if not self.database_url_template:
                self.postgres = EmbeddedPostgres(
                    self.data_dir / "postgres", [f"heze_{service}" for service in SERVICES]
                ).start()
            if not self.kafka_bootstrap_servers:
                self.broker = EmbeddedBroker().start()
                self.kafka_bootstrap_servers = self.broker.bootstrap_servers
            for service in SERVICES:
                self.spawn(service)
            if self.console:
                self.spawn(CONSOLE)
            for process in self.processes:  # the whole system: consumers joined too
                self.wait_ready(process, ready_timeout, consuming=True)
        except BaseException:
            self.stop()
            raise
        return self

    def spawn(self, service: str, overrides: dict[str, str] | None = None) -> None:
        environment = {
            **os.environ,
            **self.environment,
            **(overrides or {}),
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers or "",
            "DATA_DIR": str(self.data_dir),
            "HTTP_PORT": str(self.port(service)),
        }
        if service == CONSOLE:  # no database or broker: it reaches the services over HTTP
            environment.update({f"{name.upper()}_URL": self.url(name) for name in SERVICES})
        else:
            environment["DATABASE_URL"] = self.database_url(service)
            # Certification's claim check of a certificate holder: it calls enrollment.
            environment["ENROLLMENT_URL"] = self.url("enrollment")
        with (self.logs / f"{service}.log").open("ab") as log:
            self.processes[service] = subprocess.Popen(
                # A killed launcher takes its services along.
                terminated_with_parent([sys.executable, "-m", f"heze_{service}.main", "serve"]),
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the launcher, not the terminal, delivers the stop signal
            )

    def wait_ready(self, service: str, timeout: float, *, consuming: bool = False) -> None:
        """Until `service` serves (`/health/ready` 200) and, with `consuming`, its consumer has
        also joined its group (a service serves while it joins)."""
        process, deadline = self.processes[service], time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{service} exited with code {process.returncode}; see {self.logs / service}.log"
                )
            try:
                ready = httpx.get(f"{self.url(service)}/health/ready", timeout=1)
                joined = ready.json().get("checks", {}).get("consumer", "ok") == "ok"
                if ready.status_code == 200 and (joined or not consuming):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        raise TimeoutError(
            f"{service} was not ready within {timeout:.0f}s; see {self.logs / service}.log"
        )

    def kill(self, service: str) -> None:
        """SIGKILL, as a lost node or the OOM killer would: no shutdown code runs."""
        process = self.processes[service]
        if process.poll() is None:
            process.kill()
        process.wait()

    def restart(
        self, service: str, overrides: dict[str, str] | None = None, ready_timeout: float = 300
    ) -> None:
        """Start a (killed or exited) service again, with `overrides` on its environment."""
        self.kill(service)
        self.spawn(service, overrides)
        self.wait_ready(service, ready_timeout)

    def exited(self) -> list[str]:
        return [
            service for service, process in self.processes.items() if process.poll() is not None
        ]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.broker:
            self.broker.stop()
        if self.postgres:
            self.postgres.stop()

    def __enter__(self) -> RunningSystem:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
