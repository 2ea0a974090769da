"""`./heze keys new SIGNER`: a new signing key for production, and its trust-list entry."""

from __future__ import annotations

import base64
import json
import secrets

import typer
from rich.console import Console

from heze_common.signing import Purpose, Signer, trusted_key

console = Console()
keys = typer.Typer(
    help="Keys that sign integration events, re-drives and service calls.", no_args_is_help=True
)

SECRET_OF = {
    Purpose.EVENTS: "EVENT_SIGNING_KEY",
    Purpose.REDRIVE: "OPERATOR_REDRIVE_KEY_FILE content",
    Purpose.CALLS: "CALLS_SIGNING_KEY",
}


@keys.command("new")
def new_command(
    signer: str = typer.Argument(..., help="The producing service, or the operator's name"),
    purpose: Purpose = typer.Option(
        Purpose.EVENTS,
        help="events (a service's events), redrive (an operator) or calls (a service's calls to"
        " another's internal API)",
    ),
) -> None:
    """Print a new private key (for the signer's Secret or key file, and nowhere else) and the
    entry to add to the trust list every service mounts (deploy/base/trusted-keys.json)."""
    private = base64.b64encode(secrets.token_bytes(32)).decode()
    entry = trusted_key(Signer.from_base64(signer, private), purpose).model_dump(mode="json")
    console.print(
        f"[bold]private key[/bold] ({SECRET_OF[purpose]}; keep it secret):", highlight=False
    )
    print(private)
    console.print('[bold]trust-list entry[/bold] (add to the "keys" of the trust list):')
    print(json.dumps(entry, indent=2))
