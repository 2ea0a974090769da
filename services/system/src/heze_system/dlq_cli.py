"""`./heze dlq list|redrive SERVICE`: what a service's consumer dead-lettered, and sending it back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from heze_common.dlq import dead_letters, redrive
from heze_common.signing import OPERATOR, EmbeddedKeyring, Signer
from heze_contracts.topics import dlq_topic
from heze_system.system import SERVICES

console = Console()
dlq = typer.Typer(help="Inspect and re-drive dead-lettered messages.", no_args_is_help=True)
Kafka = typer.Option(
    ..., envvar="KAFKA_BOOTSTRAP_SERVERS", help="The broker (`./heze up` prints the embedded one's)"
)


def _letters(service: str, kafka: str) -> list:
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}", param_hint="SERVICE")
    return asyncio.run(dead_letters(kafka, dlq_topic(service)))


@dlq.command("list")
def list_command(service: str = typer.Argument(...), kafka: str = Kafka) -> None:
    """Every dead letter of the service's consumer, with the reason."""
    table = Table(title=f"{dlq_topic(service)}")
    for column in ("id", "reason", "event", "from", "error"):
        table.add_column(column)
    for letter in _letters(service, kafka):
        table.add_row(
            f"{letter.partition}:{letter.offset}",
            letter.reason,
            letter.event_type or "?",
            f"{letter.original_topic}[{letter.original_partition}]@{letter.original_offset}",
            letter.error[:80],
        )
    console.print(table)


@dlq.command("redrive")
def redrive_command(
    service: str = typer.Argument(...),
    kafka: str = Kafka,
    ids: list[str] = typer.Option(
        [], "--id", help="PARTITION:OFFSET of a dead letter (repeatable)"
    ),
    reason: str | None = typer.Option(None, help="Every dead letter with this reason"),
    replace_with: Path | None = typer.Option(None, help="A corrected message body (with one --id)"),
    operator_key: Path | None = typer.Option(
        None,
        envvar="OPERATOR_REDRIVE_KEY_FILE",
        help="Your re-drive key (base64 raw Ed25519), which signs a corrected body;"
        " embedded mode: the data folder's operator key",
    ),
    operator: str = typer.Option(
        OPERATOR, help="Your name as the consumers' trust list has it for that key"
    ),
    data_dir: Path = typer.Option(Path("data"), envvar="DATA_DIR"),
) -> None:
    """Send dead letters back to their original topics (after fixing their cause)."""
    letters = [
        letter
        for letter in _letters(service, kafka)
        if f"{letter.partition}:{letter.offset}" in ids
        or (reason is not None and letter.reason == reason)
    ]
    if not letters:
        raise typer.BadParameter("no dead letter matches; see `./heze dlq list SERVICE`")
    if replace_with is not None and len(letters) != 1:
        raise typer.BadParameter("--replace-with needs exactly one --id")
    body, signer = None, None
    if replace_with is not None:
        body = replace_with.read_bytes()
        signer = (
            Signer.from_base64(operator, operator_key.read_text())
            if operator_key
            else EmbeddedKeyring(data_dir).signer(OPERATOR)
        )
        console.print(f"signing the corrected body as {signer.key_id}")
    sent = asyncio.run(redrive(kafka, letters, body, signer))
    console.print(f"re-drove {sent} message(s); the consumer skips any it has already applied")
