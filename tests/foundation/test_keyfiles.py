"""Embedded-mode keys: the services of a fresh data folder start at once and must all end up
with the same, complete keys; an empty or short key stops a service at start."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from heze_common.keyfiles import InvalidKey
from heze_common.settings import ServiceSettings

STARTS = 200
PROCESSES_PER_START = 4
ROOT = Path(__file__).resolve().parents[2]


def test_simultaneous_starts_on_a_fresh_folder_agree_on_complete_keys(tmp_path: Path) -> None:
    race = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.foundation.keyfile_race",
            str(tmp_path),
            str(STARTS),
            str(PROCESSES_PER_START),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    starts = json.loads(race.stdout)
    assert len(starts) == STARTS
    mismatches = sum(len({tuple(keys) for keys in seen}) != 1 for seen in starts)
    short_keys = sum(
        len(base64.b64decode(key)) != 32 for seen in starts for keys in seen for key in keys
    )
    assert (mismatches, short_keys) == (0, 0)
    for index, seen in enumerate(starts):
        data_dir = tmp_path / f"start-{index}"
        assert seen[0][0] == (data_dir / "dev-jwt-secret").read_text()
        assert not list(data_dir.glob(".*.tmp")), "a temporary key file was left behind"
        assert (data_dir / "dev-jwt-secret").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("content", ["", "   \n", "c2hvcnQ=", "not base64!"])
def test_a_damaged_key_file_stops_the_service_instead_of_being_used_or_replaced(
    tmp_path: Path, content: str
) -> None:
    (tmp_path / "dev-jwt-secret").write_text(content)
    settings = ServiceSettings(service_name="enrollment", data_dir=tmp_path)
    with pytest.raises(InvalidKey, match="dev-jwt-secret"):
        settings.resolved_jwt_secret()
    assert (tmp_path / "dev-jwt-secret").read_text() == content


@pytest.mark.parametrize(
    ("setting", "value", "resolve"),
    [
        ("jwt_secret", "short", "resolved_jwt_secret"),
        ("cipher_key", "", "resolved_cipher_key"),
        ("cipher_key", base64.b64encode(b"k" * 10).decode(), "resolved_cipher_key"),
        ("audit_signing_key", base64.b64encode(b"k" * 31).decode(), "resolved_audit_signing_key"),
    ],
)
def test_configured_keys_that_are_empty_or_short_are_refused(
    tmp_path: Path, setting: str, value: str, resolve: str
) -> None:
    settings = ServiceSettings(service_name="enrollment", data_dir=tmp_path, **{setting: value})
    with pytest.raises(InvalidKey, match=setting.upper()):
        getattr(settings, resolve)()
