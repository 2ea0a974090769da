"""`./heze up`, `./heze demo`, `./heze token`: run the system, drive a demo cohort, mint tokens."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from uuid import UUID

import typer
from rich.console import Console

from heze_common.auth import TokenIssuer
from heze_common.settings import ServiceSettings
from heze_contracts.enums import Role
from heze_system.audit_cli import audit
from heze_system.certificate_cli import certificate
from heze_system.dlq_cli import dlq
from heze_system.keys_cli import keys
from heze_system.supervisor import CrashLoop, Supervisor
from heze_system.system import CONSOLE, SERVICES, RunningSystem, postgres_databases

console = Console()
cli = typer.Typer(
    help="Run the Heze programme services.", no_args_is_help=True, add_completion=False
)
cli.add_typer(audit, name="audit")
cli.add_typer(certificate, name="certificate")
cli.add_typer(dlq, name="dlq")
cli.add_typer(keys, name="keys")

DataDir = typer.Option(
    Path("data"),
    envvar="DATA_DIR",
    help="Where the embedded PostgreSQL cluster, keys and logs live",
)
KafkaServers = typer.Option(
    None,
    "--kafka",
    envvar="KAFKA_BOOTSTRAP_SERVERS",
    help="An external Kafka cluster (host:port,...); unset: the embedded broker is started",
)
DatabaseTemplate = typer.Option(
    None,
    envvar="DATABASE_URL_TEMPLATE",
    help="A PostgreSQL database per service, e.g. postgresql://u@host/heze_{service};"
    " unset: the embedded server is started",
)


def _serve(system: RunningSystem, until_stopped: bool) -> None:
    where = "embedded" if system.broker else "external, from KAFKA_BOOTSTRAP_SERVERS"
    console.print(
        f"[bold]Heze programme services[/bold] (broker {system.kafka_bootstrap_servers}, {where})"
    )
    if system.postgres:
        console.print(
            f"  database       {system.postgres.display_url()}, embedded"
            f" (cluster {system.postgres.pgdata}, password in {system.postgres.directory}/password)",
            soft_wrap=True,
        )
    else:
        console.print("  database       external, from DATABASE_URL_TEMPLATE")
    for service in SERVICES:
        url = system.url(service)
        console.print(
            f"  {service:<14} {url}   API docs {url}/docs   AsyncAPI {url}/asyncapi.json",
            soft_wrap=True,
        )
    if system.console:
        console.print(
            f"  {CONSOLE:<14} {system.url(CONSOLE)}   web console (网上服务平台, Simplified Chinese)",
            soft_wrap=True,
        )
    console.print(f"Data under {system.data_dir}, logs under {system.logs}.")
    if not until_stopped:
        return
    console.print("Press Ctrl-C to stop.")
    supervisor = Supervisor(system, report=lambda line: console.print(f"[yellow]{line}[/yellow]"))
    try:
        while True:
            supervisor.check()
            time.sleep(0.5)
    except CrashLoop as loop:
        console.print(f"[red]stopping: {loop}[/red]")
        raise typer.Exit(1) from None


def _running(
    data_dir: Path,
    base_port: int,
    database_url_template: str | None,
    kafka_bootstrap_servers: str | None = None,
    with_console: bool = False,
) -> RunningSystem:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop like Ctrl-C: through `finally`
    # A launcher started in the background by a shell without job control inherits SIGINT
    # ignored, and Python then leaves it ignored: Ctrl-C (or a supervisor's SIGINT) must stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return RunningSystem(
        data_dir=data_dir,
        base_port=base_port,
        database_url_template=database_url_template,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        console=with_console,
    )


@cli.command()
def up(
    data_dir: Path = DataDir,
    base_port: int = typer.Option(
        8001, help="Port of the first service; the other services and the console follow"
    ),
    database_url_template: str | None = DatabaseTemplate,
    kafka: str | None = KafkaServers,
    demo: bool = typer.Option(
        False, "--demo", help="Drive the demo cohort through the system first"
    ),
) -> None:
    """Start the broker, the four services and the web console, restarting any that dies;
    Ctrl-C stops them all (data is kept)."""
    system = _running(data_dir, base_port, database_url_template, kafka, with_console=True)
    try:
        system.start()
        if demo:
            from heze_system.demo.run import run_and_report

            run_and_report(system, console)
        _serve(system, until_stopped=True)
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        system.stop()


@cli.command()
def demo(
    data_dir: Path = typer.Option(
        Path("data/demo"), envvar="DEMO_DATA_DIR", help="A data folder of the demo's own"
    ),
    base_port: int = typer.Option(8001),
    database_url_template: str | None = DatabaseTemplate,
    kafka: str | None = KafkaServers,
    trainees: int = typer.Option(300, help="Size of the cohort"),
    keep_serving: bool = typer.Option(
        False, "--keep-serving", help="Serve on after the demo until Ctrl-C"
    ),
) -> None:
    """Run the system and drive a realistic Heze cohort through it, then print what happened."""
    system = _running(data_dir, base_port, database_url_template, kafka)
    try:
        system.start()
        from heze_system.demo.run import run_and_report

        run_and_report(system, console, trainees=trainees)
        _serve(system, until_stopped=keep_serving)
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        system.stop()


@cli.command()
def bench(
    trainees: int = typer.Option(2000, help="How many trainees to drive through the pipeline"),
    scale: int | None = typer.Option(
        None,
        help="Instead of the pipeline: build an N-event log per service through its aggregates,"
        " restart the services and time their start, memory, reads, a write and a rebuild",
    ),
    service: list[str] = typer.Option(
        list(SERVICES), help="With --scale: a service to build and measure (repeatable)"
    ),
    requests: int = typer.Option(200, help="With --scale: requests timed per endpoint"),
    keep: bool = typer.Option(
        False,
        "--keep",
        help="With --scale: keep the databases and the data folder, to serve them again",
    ),
    postgres: str = typer.Option(
        "postgresql://postgres@127.0.0.1:5432/postgres",
        envvar="BENCH_POSTGRES_DSN",
        help="A server where the benchmark may create (and drop) its databases",
    ),
    output: Path | None = typer.Option(
        None,
        help="Where the figures are written as JSON (default data/bench/figures.json,"
        " with --scale data/bench/scale-N.json)",
    ),
    base_port: int = typer.Option(18501),
) -> None:
    """Measure the pipeline, or the services at scale, on PostgreSQL and the broker (not part
    of the test suite)."""
    import tempfile

    if scale is None:
        from heze_system.bench import run_benchmark

        with postgres_databases(
            postgres, "heze_bench", (*SERVICES, "bench", "bench_unchained")
        ) as template:
            system = _running(Path(tempfile.mkdtemp(prefix="heze-bench-")), base_port, template)
            try:
                system.start()
                run_benchmark(system, trainees, output or Path("data/bench/figures.json"), console)
            finally:
                system.stop()
        return

    from heze_system.scale import run_scale

    unknown = sorted(set(service) - set(SERVICES))
    if unknown:
        raise typer.BadParameter(f"unknown service {', '.join(unknown)}", param_hint="--service")
    data_dir = Path(tempfile.mkdtemp(prefix="heze-scale-"))
    with postgres_databases(postgres, "heze_scale", keep=keep) as template:
        system = _running(data_dir, base_port, template)
        try:
            run_scale(
                system,
                scale,
                [name for name in SERVICES if name in service],
                requests,
                output or Path(f"data/bench/scale-{scale}.json"),
                console,
            )
        finally:
            system.stop()
    if keep:
        console.print(
            f"Kept the databases ({template.format(service='<service>')}) and the data folder"
            f" {data_dir} (its keys decrypt the logs). Serve them again with:\n"
            f"  ./heze up --data-dir {data_dir} --database-url-template '{template}'",
            soft_wrap=True,
        )


@cli.command()
def psql(
    service: str = typer.Argument(..., help=f"One of {', '.join(SERVICES)}"),
    data_dir: Path = DataDir,
) -> None:
    """A psql session on a service's database in the embedded server of the data folder."""
    import os
    import subprocess

    from heze_common.postgres_server import binaries, running_server

    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}", param_hint="SERVICE")
    with running_server(data_dir / "postgres") as server:
        session = subprocess.run(
            [str(binaries() / "psql"), "-h", "127.0.0.1", "-p", str(server.port)]
            + ["-U", "heze", f"heze_{service}"],
            env={**os.environ, "PGPASSWORD": server.password},
        )
    raise typer.Exit(session.returncode)


@cli.command()
def token(
    role: Role = typer.Argument(..., help="The role the token carries"),
    org: UUID | None = typer.Option(
        None, help="Organisation id (institutions, county bureaus, employers)"
    ),
    subject: str | None = typer.Option(None, help="Subject, e.g. a trainee id"),
    id_number: str | None = typer.Option(
        None,
        help="The resident ID number the token vouches for, as the identity provider's does"
        " once it has verified the person (the 'idh' claim a trainee registers with)",
    ),
    data_dir: Path = DataDir,
) -> None:
    """Mint a development bearer token (embedded mode only; refused in production)."""
    settings = ServiceSettings(service_name="launcher", data_dir=data_dir)
    issuer = TokenIssuer(settings)
    print(issuer.mint(role, subject=subject, organisation_id=org, verified_id_number=id_number))


if __name__ == "__main__":
    cli()
