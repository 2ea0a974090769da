"""`./heze certificate verify FILE|URL`: check a certificate without trusting the service that
shows it. The source is a PDF e-certificate (its attached credential), a credential (compact
JWS, or JSON with a `credential` member), or a QR payload (the verification link, which answers
the credential). The signature is checked against the key its issuer published, the status
against the issuer's revocation list; both are cached, so a check works offline (`--offline`)
with what an earlier check fetched.

Only issuers under a trusted base address are believed (`--trust`, the programme's
certification service): a credential can't bring its own issuer."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console

from heze_common.certificate_pdf import NotACertificate, attached_credential
from heze_common.credential_check import (
    Finding,
    Unavailable,
    Untrusted,
    Verdict,
    check_credential,
)
from heze_common.credentials import ISSUERS_PATH

console = Console()
certificate = typer.Typer(help="Check certificates' signed credentials.", no_args_is_help=True)
ISSUER_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
EMBEDDED_ISSUERS = ["http://127.0.0.1:8001", "http://127.0.0.1:8003"]
"""Enrollment (training certificates) and certification (level certificates) of `./heze up`."""


class CachingResolver:
    """Issuers' keys and status lists over HTTP, kept in `cache_dir` for offline checks."""

    def __init__(
        self, trusted: Sequence[str], cache_dir: Path, client: httpx.Client, offline: bool = False
    ):
        self.trusted = [base.rstrip("/") for base in trusted]
        self.cache_dir = cache_dir
        self.client = client
        self.offline = offline

    def issuer_keys(self, issuer: str) -> list[Mapping[str, Any]]:
        # Exactly `{base}/public/issuers/{uuid}`: no prefix trick (`..`, a longer host) names
        # another document of a trusted host as an issuer's keys.
        if not any(
            re.fullmatch(re.escape(f"{base}{ISSUERS_PATH}/") + ISSUER_ID, issuer)
            for base in self.trusted
        ):
            raise Untrusted(
                f"{issuer} is not an issuer under a trusted address ({', '.join(self.trusted)});"
                " --trust names the programme's services"
            )
        try:
            published = json.loads(self._fetched(issuer, "issuer keys"))
            if published["id"] != issuer:
                raise Untrusted(f"{issuer} answers the keys of {published['id']}")
            return list(published["keys"])
        except (ValueError, KeyError, TypeError) as error:
            raise Unavailable(f"{issuer} answers no key set: {error}") from error

    def status_list(self, url: str) -> str:
        return self._fetched(url, "status list")

    def _fetched(self, url: str, what: str) -> str:
        cached = self.cache_dir / f"{hashlib.sha256(url.encode()).hexdigest()}.txt"
        if not self.offline:
            try:
                response = self.client.get(url, follow_redirects=False)
                response.raise_for_status()
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                if not cached.exists():
                    raise Unavailable(f"{url}: {error}") from error
            else:
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                partial = cached.with_suffix(".partial")
                partial.write_text(response.text)
                partial.replace(cached)  # a reader never sees half a file
                return response.text
        if not cached.exists():
            raise Unavailable(f"no cached {what} for {url} (check once online first)")
        return cached.read_text()


def credential_of(source: str, client: httpx.Client) -> str:
    """The compact credential a PDF, a credential file, a QR payload or a link holds."""
    if source.startswith(("http://", "https://")):
        response = client.get(source, headers={"Accept": "application/json"})
        response.raise_for_status()
        answer = response.json()
        credential = answer.get("credential") if isinstance(answer, dict) else None
        if not credential:
            raise ValueError(f"{source} answers no credential ({str(answer)[:80]})")
        return str(credential)
    data = Path(source).read_bytes()
    if data.startswith(b"%PDF"):
        return attached_credential(data)
    text = data.decode("utf-8").strip()
    if text.startswith(("http://", "https://")):
        return credential_of(text, client)
    if text.startswith("{"):
        return str(json.loads(text)["credential"])
    return text


def verify_source(source: str, resolver: CachingResolver) -> Finding:
    try:
        compact = credential_of(source, resolver.client)
    except (NotACertificate, KeyError, ValueError, TypeError, OSError) as error:
        return Finding(Verdict.TAMPERED, [f"no credential could be read: {error}"])
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return Finding(Verdict.STATUS_UNKNOWN, [f"the link did not answer: {error}"])
    return check_credential(compact, resolver, allow_stale=resolver.offline)


@certificate.command("verify")
def verify_command(
    source: str = typer.Argument(..., help="A PDF e-certificate, a credential file, or a link"),
    trust: list[str] = typer.Option(
        EMBEDDED_ISSUERS,
        help="Base address of a service whose issuers are trusted (repeatable): certification"
        " for level certificates, enrollment for training certificates",
    ),
    cache_dir: Path = typer.Option(
        Path.home() / ".cache" / "heze" / "verify", help="Where keys and status lists are kept"
    ),
    offline: bool = typer.Option(False, help="Use only what the cache holds"),
) -> None:
    """Say whether the certificate is valid, revoked, suspended, tampered or untrusted, and why.
    Exit status 0 only when valid."""
    with httpx.Client(timeout=10.0, follow_redirects=True) as client:
        finding = verify_source(source, CachingResolver(trust, cache_dir, client, offline))
    colour = "green" if finding.verdict is Verdict.VALID else "red"
    console.print(f"[bold {colour}]{finding.verdict.value.upper()}[/]", highlight=False)
    # What follows comes from the credential: printed as text, never read as markup.
    if finding.credential is not None:
        subject = finding.credential.get("credentialSubject", {})
        held = subject.get("certificate", {})
        console.print(
            f"{finding.credential.get('name')}  {held.get('number')}  {subject.get('name')}"
            f"  {held.get('occupationName')}  {held.get('levelName')}"
            f"  {held.get('issuedOn') or held.get('completedOn')}",
            markup=False,
            highlight=False,
        )
    for reason in finding.reasons:
        console.print(f"- {reason}", markup=False, highlight=False)
    raise typer.Exit(0 if finding.verdict is Verdict.VALID else 1)
