"""The embedded mode's PostgreSQL server (heze_common.postgres_server): made once under the data
folder, kept across starts, reachable only with its password, gone with its parent, and good
enough for the test suite itself on a machine with no PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from heze_common.postgres_server import EmbeddedPostgres, running_server

pytestmark = pytest.mark.infrastructure  # starts servers of its own

ROOT = Path(__file__).resolve().parents[2]
NAME = "孔繁星"


def test_a_cluster_is_made_once_and_keeps_its_data_across_starts(tmp_path: Path) -> None:
    directory = tmp_path / "postgres"
    with EmbeddedPostgres(directory, ["heze_enrollment"]) as server:
        with psycopg.connect(server.url("heze_enrollment"), autocommit=True) as connection:
            connection.execute("CREATE TABLE people (name TEXT)")
            connection.execute("INSERT INTO people VALUES (%s)", (NAME,))
        first_port = server.port
    assert (directory / "pgdata" / "PG_VERSION").read_text().strip() == "18"
    assert oct((directory / "password").stat().st_mode & 0o777) == "0o600"

    with EmbeddedPostgres(directory, ["heze_enrollment"]) as server:
        with psycopg.connect(server.url("heze_enrollment")) as connection:
            (stored,) = connection.execute("SELECT name FROM people").fetchone()  # type: ignore[misc]
            encoding = connection.execute("SHOW server_encoding").fetchone()
    assert stored.encode() == NAME.encode()  # byte-exact UTF-8
    assert encoding == ("UTF8",)
    assert server.port is not None and first_port is not None
    assert "password" not in server.display_url() and server.password not in server.display_url()


def test_it_asks_for_its_password_and_listens_on_loopback_only(tmp_path: Path) -> None:
    with EmbeddedPostgres(tmp_path / "postgres") as server:
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(f"postgresql://heze@127.0.0.1:{server.port}/postgres").close()
        with psycopg.connect(server.url()) as connection:
            assert connection.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)


def test_audit_commands_attach_to_the_running_server_or_start_their_own(tmp_path: Path) -> None:
    directory = tmp_path / "postgres"
    with EmbeddedPostgres(directory) as running:
        with running_server(directory) as attached:
            assert attached.port == running.port
            assert attached.process is None  # not ours to stop
    with running_server(directory) as started:
        assert started.process is not None and started.process.poll() is None
        with psycopg.connect(started.url()):
            pass
    assert started.process.poll() is not None  # stopped with the block


def test_heze_psql_opens_a_session_on_a_service_database(tmp_path: Path) -> None:
    EmbeddedPostgres(tmp_path / "postgres", ["heze_enrollment"]).start().stop()
    session = subprocess.run(
        [sys.executable, "-m", "heze_system.launcher", "psql", "enrollment"]
        + ["--data-dir", str(tmp_path)],
        input=f"SELECT current_database() || '{NAME}';",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert session.returncode == 0, session.stderr
    assert f"heze_enrollment{NAME}" in session.stdout


def test_a_killed_parent_leaves_no_server(tmp_path: Path) -> None:
    directory = tmp_path / "postgres"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from heze_common.postgres_server import EmbeddedPostgres\n"
            "server = EmbeddedPostgres(Path(sys.argv[1])).start()\n"
            "print(server.process.pid, flush=True)\n"
            "time.sleep(600)\n",
            str(directory),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    pid = int(parent.stdout.readline())  # type: ignore[union-attr]
    assert Path(f"/proc/{pid}").exists()
    parent.kill()  # SIGKILL: no clean-up code runs in the parent
    parent.wait()
    deadline = time.monotonic() + 60
    while server_alive(pid):
        assert time.monotonic() < deadline, "the server outlived its killed parent"
        time.sleep(0.2)


def server_alive(pid: int) -> bool:
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False


def test_the_test_suite_runs_on_the_embedded_server_where_no_postgresql_is_installed() -> None:
    """`TEST_POSTGRES_DSN=embedded` is what a machine with no local server and no Docker gets;
    a test that makes databases and stores encrypted events passes on it."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/foundation/test_encryption.py",
        ],
        cwd=ROOT,
        env={**os.environ, "TEST_POSTGRES_DSN": "embedded"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "skipped" not in result.stdout
