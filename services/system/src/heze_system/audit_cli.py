"""`./heze audit verify SERVICE`: recompute a service's event-log hash chain from its database and
check it against the signed checkpoints the running service publishes. Reads only."""

from __future__ import annotations

import base64
import importlib
from pathlib import Path

import httpx
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from heze_common.auth import TokenIssuer
from heze_common.eventstore import ServiceApplication
from heze_common.ledger import ChainTable, Checkpoint, verify
from heze_common.settings import ServiceSettings
from heze_contracts.enums import Role
from rich.console import Console
from rich.table import Table

from heze_system.system import SERVICES

console = Console()
audit = typer.Typer(help="Auditor tools (read only).", no_args_is_help=True)


@audit.command("verify")
def verify_command(
    service: str = typer.Argument(..., help=f"One of {', '.join(SERVICES)}"),
    data_dir: Path = typer.Option(Path("data"), envvar="DATA_DIR"),
    database_url: str | None = typer.Option(
        None, envvar="DATABASE_URL", help="Unset: the SQLite store under data_dir"
    ),
    api: str | None = typer.Option(None, help="The service's URL (default http://127.0.0.1:800N)"),
) -> None:
    """Name the first altered, inserted or deleted event by position, or say the log verifies clean."""
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}", param_hint="SERVICE")
    importlib.import_module(f"heze_{service}.application")  # the service's event topics
    url = api or f"http://127.0.0.1:{8001 + SERVICES.index(service)}"
    settings = ServiceSettings(
        service_name=service, data_dir=data_dir, database_url=database_url, create_tables=False
    )
    token = TokenIssuer(settings).mint(Role.AUDITOR, subject="auditor-cli")
    published = httpx.get(
        f"{url}/audit/checkpoints", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()
    public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(published["public_key"]))
    checkpoints = [Checkpoint(**item) for item in published["checkpoints"]]
    app = ServiceApplication(settings)
    try:
        findings = verify(
            app.recorder, ChainTable(app.recorder, create_table=False), checkpoints, public_key
        )
    finally:
        app.close()
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
