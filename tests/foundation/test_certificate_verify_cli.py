"""`./heze certificate verify` believes only exact issuer addresses and reads any file without
crashing (the signatures themselves: test_credentials.py; end to end: test_demo_cohort.py)."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import httpx
import pytest
from typer.testing import CliRunner

from heze_common.credential_check import Untrusted
from heze_system.certificate_cli import CachingResolver
from heze_system.launcher import cli

BASE = "https://verify.heze.example"
BODY = UUID("3f2a6b1c-0d4e-4f5a-9b8c-7d6e5f4a3b2c")


def resolver(tmp_path: Path, answer: dict) -> CachingResolver:
    client = httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(200, json=answer)))
    return CachingResolver([BASE], tmp_path, client)


@pytest.mark.parametrize(
    "issuer",
    [
        f"{BASE}/public/issuers/../../evil/{BODY}",
        f"{BASE}/public/issuers/{BODY}/../../evil",
        f"{BASE}.evil.example/public/issuers/{BODY}",
        f"{BASE}/public/issuers/{BODY}?x=1",
        f"http://verify.heze.example/public/issuers/{BODY}",
    ],
)
def test_only_an_exact_issuer_address_under_a_trusted_base_is_believed(
    tmp_path: Path, issuer: str
) -> None:
    with pytest.raises(Untrusted, match="not an issuer under a trusted address"):
        resolver(tmp_path, {"id": issuer, "keys": []}).issuer_keys(issuer)


def test_a_key_set_must_name_the_issuer_it_is_fetched_for(tmp_path: Path) -> None:
    issuer = f"{BASE}/public/issuers/{BODY}"
    assert resolver(tmp_path, {"id": issuer, "keys": [{"kid": "k"}]}).issuer_keys(issuer) == [
        {"kid": "k"}
    ]
    with pytest.raises(Untrusted, match="answers the keys of"):
        resolver(tmp_path, {"id": f"{BASE}/x", "keys": []}).issuer_keys(issuer)


@pytest.mark.parametrize(
    "content", [b"", b"%PDF-1.7 broken", b"{not json", b"[/x] markup", b"\xff"]
)
def test_any_file_is_answered_with_a_verdict_not_a_crash(tmp_path: Path, content: bytes) -> None:
    source = tmp_path / "file"
    source.write_bytes(content)
    for path in (source, tmp_path / "missing"):
        result = CliRunner().invoke(
            cli,
            ["certificate", "verify", str(path), "--cache-dir", str(tmp_path / "c"), "--offline"],
        )
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        assert result.exit_code == 1 and not crashed, result.output
        assert "TAMPERED" in result.output or "UNTRUSTED" in result.output, result.output
