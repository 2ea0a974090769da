"""The system launcher: the broker (embedded unless KAFKA_BOOTSTRAP_SERVERS is set) and the four
services as separate processes, stopped together on Ctrl-C with no process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx
import typer
from heze_contracts.enums import Role
from rich.console import Console

from heze_common.auth import TokenIssuer
from heze_common.broker import EmbeddedBroker
from heze_common.settings import ServiceSettings

console = Console()
cli = typer.Typer(help="Run the Heze programme services.", no_args_is_help=True)


@dataclass(frozen=True)
class ServiceProcess:
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SERVICES = (
    ServiceProcess("enrollment", 8001),
    ServiceProcess("assessment", 8002),
    ServiceProcess("certification", 8003),
    ServiceProcess("subsidy", 8004),
)


def _wait_ready(service: ServiceProcess, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with code {process.returncode}")
        try:
            if httpx.get(f"{service.url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{service.name} was not ready within {timeout:.0f}s")


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@cli.command()
def up(
    data_dir: Path = typer.Option(
        Path("data"), envvar="DATA_DIR", help="Where the SQLite event stores live"
    ),
) -> None:
    """Start the broker and the four services; Ctrl-C stops them all (data is kept)."""
    broker: EmbeddedBroker | None = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        broker = EmbeddedBroker().start()
        bootstrap = broker.bootstrap_servers
    environment = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DATA_DIR": str(data_dir.resolve()),
    }
    processes: list[subprocess.Popen[bytes]] = []

    def stop_everything(*_: object) -> None:
        _stop(processes)
        if broker:
            broker.stop()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        for service in SERVICES:
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and module
                    [sys.executable, "-m", f"heze_{service.name}.main"],
                    env={**environment, "HTTP_PORT": str(service.port)},
                    start_new_session=True,  # we, not the terminal, deliver the stop signal
                )
            )
        for service, process in zip(SERVICES, processes, strict=True):
            _wait_ready(service, process, timeout=60)
        console.print(f"[bold]Heze programme services[/bold] (broker {bootstrap})")
        for service in SERVICES:
            console.print(
                f"  {service.name:<14} {service.url}   API docs {service.url}/docs"
                f"   AsyncAPI {service.url}/asyncapi.json",
                soft_wrap=True,
            )
        console.print(f"Event stores under {data_dir.resolve()}. Press Ctrl-C to stop.")
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        failed = [s.name for s, p in zip(SERVICES, processes, strict=True) if p.poll() is not None]
        console.print(f"[red]stopped because {', '.join(failed)} exited[/red]")
        raise typer.Exit(1)
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        stop_everything()


@cli.command()
def token(
    role: Role = typer.Argument(..., help="The role the token carries"),
    org: UUID | None = typer.Option(
        None, help="Organisation id (institutions, county bureaus, employers)"
    ),
    subject: str | None = typer.Option(None, help="Subject, e.g. a trainee id"),
    data_dir: Path = typer.Option(Path("data"), envvar="DATA_DIR"),
) -> None:
    """Mint a development bearer token (embedded mode only; refused in production)."""
    settings = ServiceSettings(service_name="launcher", data_dir=data_dir)
    print(TokenIssuer(settings).mint(role, subject=subject, organisation_id=org))


if __name__ == "__main__":
    cli()
