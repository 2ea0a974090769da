"""Embedded-mode keys: the services of a fresh data folder start at once and must all end up
with the same, complete keys; an empty or short key stops a service at start."""

from __future__ import annotations

import base64
import multiprocessing
from pathlib import Path

import pytest

from heze_common.keyfiles import InvalidKey
from heze_common.settings import ServiceSettings

STARTS = 200
PROCESSES_PER_START = 4


def _resolve_keys(data_dir: str, barrier: multiprocessing.synchronize.Barrier, results) -> None:
    settings = ServiceSettings(service_name="enrollment", data_dir=Path(data_dir))
    barrier.wait()  # all four "services" reach for the keys at the same moment
    results.put(
        (
            settings.resolved_jwt_secret(),
            settings.resolved_cipher_key(),
            settings.resolved_audit_signing_key(),
        )
    )


def test_simultaneous_starts_on_a_fresh_folder_agree_on_complete_keys(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    mismatches, short_keys = 0, 0
    for start in range(STARTS):
        data_dir = tmp_path / f"start-{start}"
        barrier = context.Barrier(PROCESSES_PER_START)
        results = context.Queue()
        workers = [
            context.Process(target=_resolve_keys, args=(str(data_dir), barrier, results))
            for _ in range(PROCESSES_PER_START)
        ]
        for worker in workers:
            worker.start()
        seen = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
            assert worker.exitcode == 0
        mismatches += len(set(seen)) != 1
        short_keys += sum(
            len(base64.b64decode(key)) != 32 for keys in seen for key in keys
        )
        on_disk = (data_dir / "dev-jwt-secret").read_text()
        assert seen[0][0] == on_disk
        assert not list(data_dir.glob(".*.tmp")), "a temporary key file was left behind"
        assert (data_dir / "dev-jwt-secret").stat().st_mode & 0o777 == 0o600
    assert (mismatches, short_keys) == (0, 0)


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
