"""`./heze audit verify SERVICE`: recompute a service's event-log hash chain from its database and
check it against the signed checkpoints the auditor brings. Reads only."""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
from contextlib import ExitStack
from pathlib import Path

import httpx
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.console import Console
from rich.table import Table

from heze_common.audit import published_checkpoints
from heze_common.auth import TokenIssuer
from heze_common.eventstore import ServiceApplication
from heze_common.postgres_server import running_server
from heze_common.ledger import ChainTable, append_to_archive, read_archive, verify
from heze_common.settings import ServiceSettings
from heze_contracts.enums import Role
from heze_contracts.topics import AUDIT_CHECKPOINTS
from heze_system.orphans import orphans_with_effects
from heze_system.system import SERVICES
from heze_system.trail import collect, find_trainee, to_html, to_json

console = Console()
audit = typer.Typer(help="Auditor tools (read only).", no_args_is_help=True)


def pinned_public_key(public_key: str | None, public_key_file: Path | None) -> Ed25519PublicKey:
    """The key the auditor brings: nothing of the audited service is trusted."""
    if (public_key is None) == (public_key_file is None):
        raise typer.BadParameter(
            "give the service's checkpoint key: --public-key or --public-key-file"
        )
    text = public_key if public_key is not None else public_key_file.read_text()  # type: ignore[union-attr]
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except ValueError:
        raise typer.BadParameter("the public key is not a base64 raw 32-byte Ed25519 key") from None


@audit.command("verify")
def verify_command(
    service: str = typer.Argument(..., help=f"One of {', '.join(SERVICES)}"),
    public_key: str | None = typer.Option(
        None, help="The service's checkpoint key (base64 raw Ed25519), pinned by the auditor"
    ),
    public_key_file: Path | None = typer.Option(None, help="The same key, from a file"),
    archive: Path | None = typer.Option(
        None, help="A checkpoint archive (JSON Lines, see `audit archive`)"
    ),
    kafka: str | None = typer.Option(
        None, envvar="KAFKA_BOOTSTRAP_SERVERS", help="Read every checkpoint of audit.checkpoints"
    ),
    topic_prefix: str = typer.Option("", envvar="KAFKA_TOPIC_PREFIX"),
    data_dir: Path = typer.Option(Path("data"), envvar="DATA_DIR"),
    database_url: str | None = typer.Option(
        None,
        envvar="DATABASE_URL",
        help="The service's database; unset: the embedded server under data_dir (started for"
        " the check if the system is not running)",
    ),
) -> None:
    """Name every altered, inserted, deleted or truncated event by position, against every
    checkpoint ever published (topic and archive) and the key you pinned; or say it verifies."""
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}", param_hint="SERVICE")
    key = pinned_public_key(public_key, public_key_file)
    if kafka is None and archive is None:
        raise typer.BadParameter("give --kafka (the checkpoints topic) or --archive, or both")
    importlib.import_module(f"heze_{service}.application")  # the service's event topics
    checkpoints = read_archive(archive) if archive else []
    if kafka:
        checkpoints += asyncio.run(
            published_checkpoints(kafka, topic_prefix + AUDIT_CHECKPOINTS, service)
        )
    checkpoints = list({c.to_json(): c for c in checkpoints}.values())
    with ExitStack() as stack:
        if database_url is None:
            server = stack.enter_context(running_server(data_dir / "postgres"))
            database_url = server.url(f"heze_{service}")
        settings = ServiceSettings(
            service_name=service, data_dir=data_dir, database_url=database_url, create_tables=False
        )
        app = ServiceApplication(settings)
        stack.callback(app.close)
        findings = verify(
            app.recorder, ChainTable(app.recorder, create_table=False), checkpoints, key
        )
    if not findings:
        console.print(
            f"[green]{service}: the event log verifies clean against {len(checkpoints)} signed checkpoint(s)[/green]"
        )
        return
    table = Table(title=f"{service}: the event log does not verify")
    for column in ("position", "finding", "detail"):
        table.add_column(column)
    for finding in findings:
        table.add_row(str(finding.position), finding.kind, finding.detail)
    console.print(table)
    raise typer.Exit(1)


@audit.command("archive")
def archive_command(
    output: Path = typer.Argument(..., help="The archive file (JSON Lines; appended to)"),
    kafka: str = typer.Option(..., envvar="KAFKA_BOOTSTRAP_SERVERS"),
    topic_prefix: str = typer.Option("", envvar="KAFKA_TOPIC_PREFIX"),
) -> None:
    """Append every checkpoint on audit.checkpoints that the archive does not hold yet (run it
    regularly; keep the file on write-once storage: a lost topic then loses no evidence)."""
    checkpoints = []
    for service in SERVICES:
        checkpoints += asyncio.run(
            published_checkpoints(kafka, topic_prefix + AUDIT_CHECKPOINTS, service)
        )
    added = append_to_archive(output, checkpoints)
    console.print(f"{added} new checkpoint(s) appended to {output}")


@audit.command("trail")
def trail_command(
    trainee_id: str | None = typer.Argument(None, help="The trainee's id"),
    certificate: str | None = typer.Option(None, help="Find the trainee by certificate number"),
    id_number: str | None = typer.Option(None, help="Find the trainee by resident ID number"),
    data_dir: Path = typer.Option(Path("data"), envvar="DATA_DIR"),
    base_port: int = typer.Option(8001, help="Port of the first service"),
    output_format: str = typer.Option("table", "--format", help="table, json or html"),
    output: Path | None = typer.Option(None, help="Write to a file instead of the terminal"),
) -> None:
    """Every event about one trainee across the four services, in causal order."""
    if output_format not in ("table", "json", "html"):
        raise typer.BadParameter("table, json or html", param_hint="--format")
    urls = {
        service: f"http://127.0.0.1:{base_port + index}" for index, service in enumerate(SERVICES)
    }
    settings = ServiceSettings(service_name="auditor", data_dir=data_dir)
    token = TokenIssuer(settings).mint(Role.AUDITOR, subject="auditor-cli")
    trainee_id = trainee_id or find_trainee(urls, token, certificate, id_number)
    events = collect(urls, token, trainee_id)
    if output_format == "table":
        table = Table(title=f"Trail of trainee {trainee_id}")
        for column in ("time (UTC)", "service", "event", "actor", "caused by"):
            table.add_column(column)
        for event in events:
            table.add_row(
                event["timestamp"][:19],
                event["service"],
                event["topic"],
                event["actor"] or "",
                (event["causation_id"] or "")[:8],
            )
        console.print(table)
        return
    text = to_json(events) if output_format == "json" else to_html(trainee_id, events)
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(f"{len(events)} events written to {output}")
    else:
        print(text)


@audit.command("rebuild")
def rebuild_command(
    data_dir: Path = typer.Option(Path("data"), envvar="DATA_DIR"),
    base_port: int = typer.Option(8001, help="Port of the first service"),
) -> None:
    """Rebuild every service's read models from its event log beside the live ones and compare."""
    from rich.progress import Progress

    token = TokenIssuer(ServiceSettings(service_name="auditor", data_dir=data_dir)).mint(
        Role.AUDITOR, subject="auditor-cli"
    )
    table = Table(title="Read models rebuilt from the event logs")
    for column in ("service", "events replayed", "read models", "differences"):
        table.add_column(column)
    failed = False
    with Progress(console=console) as progress:
        task = progress.add_task("rebuilding", total=len(SERVICES))
        for index, service in enumerate(SERVICES):
            url = f"http://127.0.0.1:{base_port + index}/audit/read-models/rebuild"
            answer = httpx.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=600)
            report = answer.json()
            if answer.is_error:  # e.g. 409 rebuild_running: another rebuild is under way
                failed = True
                table.add_row(service, "-", "-", report["error"]["message"])
            else:
                failed = failed or bool(report["differences"])
                completed = ", ".join(report["completed"])
                table.add_row(
                    service,
                    str(report["events_replayed"]),
                    ", ".join(report["read_models"]),
                    ", ".join(report["differences"])
                    or ("none" + (f" (filled: {completed})" if completed else "")),
                )
            progress.advance(task)
    console.print(table)
    if failed:
        raise typer.Exit(1)


@audit.command("orphans")
def orphans_command(
    data_dir: Path = typer.Option(Path("data"), envvar="DATA_DIR"),
    base_port: int = typer.Option(8001, help="Port of the first service"),
    output_format: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Events each service's topic holds that its log lost (a database restored from a backup),
    with the effects they caused in the other services; exit 1 when there are any."""
    settings = ServiceSettings(service_name="auditor-cli", data_dir=data_dir)
    token = TokenIssuer(settings).mint(Role.AUDITOR, subject="auditor-cli")
    urls = {service: f"http://127.0.0.1:{base_port + i}" for i, service in enumerate(SERVICES)}
    report = asyncio.run(orphans_with_effects(urls, token))
    if output_format == "json":
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        table = Table(title=f"orphaned events: {len(report)}")
        for column in ("producer", "position", "event", "subject", "effects"):
            table.add_column(column)
        for orphan in report:
            effects = ", ".join(f"{e['service']}:{e['topic']}" for e in orphan["effects"]) or "none"
            table.add_row(
                orphan["producer"],
                str(orphan["position"]),
                orphan["event_type"],
                orphan["subject_id"],
                effects,
            )
        console.print(table)
    if report:
        raise typer.Exit(1)
