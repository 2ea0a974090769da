"""Measuring a service on its built log: restart, memory, every read endpoint, one write,
the rebuild against the raw decode; and printing the figures."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID, uuid4

import httpx
from rich.console import Console

from heze_common.auth import TokenIssuer
from heze_common.settings import ServiceSettings
from heze_contracts.enums import (
    Role,
)
from heze_system.bench import figures_table, percentiles, replay_service
from heze_system.scale.base import (
    LogBuilder,
    Write,
)
from heze_system.scale.logs import build_log
from heze_system.system import RunningSystem

# Measuring ------------------------------------------------------------------------------------

EXCLUDED_PATHS = ("/health/", "/metrics", "/docs", "/redoc", "/openapi.json", "/asyncapi.json")
SCANS = ("/audit/orphans",)
"""Audit reads of the whole topic and log: not a request to time per endpoint."""
NOT_FILTERS = frozenset({"limit", "offset", "after", "format", "on", "as_of", "version"})
"""Query parameters that page, format or date a list rather than narrow it."""
READERS = (Role.CITY_BUREAU, Role.PROVINCIAL_DEPARTMENT, Role.NATIONAL_OFFICE, Role.AUDITOR)
BUDGET_SECONDS = 30.0
"""Time allowed per endpoint: one that takes seconds at this size is timed fewer times."""
SCALE_ENVIRONMENT = {"VERIFY_REQUESTS_PER_MINUTE": "1000000"}
"""The public verification's limit (30 a minute per client) would refuse the timed requests."""


@dataclass(frozen=True)
class Endpoint:
    label: str
    path: str
    path_parameters: tuple[str, ...]
    query: tuple[str, ...]
    """Query parameters filled from the samples: the required ones, and the filter timed."""
    role: Role | None
    download: bool = False
    """A report that also answers CSV, streamed as its rows arrive: its first byte is timed
    as well as the whole body."""


def read_endpoints(
    document: dict[str, Any], samples: dict[str, list[str]]
) -> tuple[list[Endpoint], dict[str, str]]:
    """Every GET of an OpenAPI document worth timing: each with its parameters filled from the
    log, and each list also with every filter there are samples for; and those not timed, why."""
    endpoints, skipped = [], {}
    for path, operations in document["paths"].items():
        operation = operations.get("get")
        label = f"GET {path}"
        if operation is None or path.startswith(EXCLUDED_PATHS):
            continue
        if path in SCANS:
            skipped[label] = "reads the whole topic and log"
            continue
        roles = operation.get("x-roles", [])
        role = next((reader for reader in READERS if reader.value in roles or not roles), None)
        if roles and role is None:
            skipped[label] = f"only {', '.join(roles)} may read it"
            continue
        if "security" not in operation:
            role = None  # public: no token
        parameters = operation.get("parameters", [])
        in_path = tuple(p["name"] for p in parameters if p["in"] == "path")
        required = tuple(p["name"] for p in parameters if p["in"] == "query" and p.get("required"))
        missing = [name for name in (*in_path, *required) if name not in samples]
        if missing:
            skipped[label] = f"no value from the log for {', '.join(missing)}"
            continue
        download = "text/csv" in operation.get("responses", {}).get("200", {}).get("content", {})
        endpoints.append(Endpoint(label, path, in_path, required, role, download))
        if in_path:
            continue
        for parameter in parameters:
            name = parameter["name"]
            if parameter["in"] != "query" or parameter.get("required") or name in NOT_FILTERS:
                continue
            if name in samples:
                endpoints.append(
                    Endpoint(f"{label}?{name}", path, (), (*required, name), role, download)
                )
            else:
                skipped[f"{label}?{name}"] = "no value from the log"
    return endpoints, skipped


def spread(values: Sequence[str], n: int, count: int) -> str:
    """The `n`-th of `count` values picked evenly across `values` (lists filled side by side
    stay paired)."""
    return values[n * len(values) // count % len(values)]


class Tokens:
    def __init__(self, system: RunningSystem) -> None:
        self.issuer = TokenIssuer(ServiceSettings(service_name="bench", data_dir=system.data_dir))
        self.minted: dict[tuple[Role, UUID | None], dict[str, str]] = {}

    def headers(self, role: Role | None, organisation: UUID | None = None) -> dict[str, str]:
        if role is None:
            return {}
        if (role, organisation) not in self.minted:
            token = self.issuer.mint(role, organisation_id=organisation)
            self.minted[role, organisation] = {"Authorization": f"Bearer {token}"}
        return self.minted[role, organisation]


class Sent(NamedTuple):
    status: int
    first_byte: float | None = None
    """When the body's first bytes arrived (`perf_counter`), for a streamed download."""


def timed(count: int, send: Callable[[int], Sent]) -> dict[str, Any]:
    """`count` requests one after another (fewer if they pass the budget): p50/p99 of the
    whole response (and of its first byte, for downloads) and the failures by status."""
    seconds: list[float] = []
    first_bytes: list[float] = []
    failures: Counter[str] = Counter()
    deadline = time.monotonic() + BUDGET_SECONDS
    for n in range(count):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        try:
            sent = send(n)
            status = str(sent.status)
        except httpx.HTTPError as error:
            sent, status = Sent(0), type(error).__name__
        seconds.append(time.perf_counter() - started)
        if sent.first_byte is not None:
            first_bytes.append(sent.first_byte - started)
        if not status.startswith(("2", "3")):
            failures[status] += 1
    first_byte = {"first_byte": percentiles(first_bytes)} if first_bytes else {}
    return {**percentiles(seconds), **first_byte, "failures": dict(failures)}


def downloaded(client: httpx.Client, path: str, **options: Any) -> Sent:
    """GET a streamed download to its end, noting when its first bytes came."""
    with client.stream("GET", path, **options) as response:
        first_byte = None
        for _ in response.iter_raw():
            first_byte = first_byte or time.perf_counter()
        return Sent(response.status_code, first_byte)


def time_reads(
    client: httpx.Client,
    endpoints: list[Endpoint],
    samples: dict[str, list[str]],
    tokens: Tokens,
    requests: int,
) -> dict[str, dict[str, Any]]:
    def send(endpoint: Endpoint, n: int) -> Sent:
        value = {
            name: spread(samples[name], n, requests)
            for name in (*endpoint.path_parameters, *endpoint.query)
        }
        path = endpoint.path.format(**value)
        params = {name: value[name] for name in endpoint.query}
        headers = tokens.headers(endpoint.role)
        if endpoint.download:
            return downloaded(client, path, params=params, headers=headers)
        return Sent(client.get(path, params=params, headers=headers).status_code)

    return {
        endpoint.label: timed(requests, lambda n, endpoint=endpoint: send(endpoint, n))
        for endpoint in endpoints
    }


def time_write(
    client: httpx.Client, document: dict[str, Any], write: Write, tokens: Tokens
) -> dict[str, Any]:
    if write.method.lower() not in document["paths"].get(write.path, {}):
        return {"label": write.label, "skipped": "not in the OpenAPI document"}

    def send(n: int) -> Sent:
        request = write.requests[n]
        headers = {
            **tokens.headers(write.role, request.organisation),
            "Idempotency-Key": str(uuid4()),
        }
        response = client.request(
            write.method,
            write.path.format(**request.path_parameters),
            json=request.body,
            headers=headers,
        )
        return Sent(response.status_code)

    return {"label": write.label, **timed(len(write.requests), send)}


def memory(pid: int) -> dict[str, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM), in MB."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )

    def megabytes(name: str) -> float:
        return int(status[name].split()[0]) / 1024

    return {"rss_mb": megabytes("VmRSS"), "peak_rss_mb": megabytes("VmHWM")}


def restart(system: RunningSystem, service: str) -> dict[str, float]:
    """Stop the service (SIGTERM, as a rolling restart does) and start it again: seconds from
    spawn to `/health/ready` 200, and its memory then. A SIGKILL would also time the broker's
    wait for the dead consumer's session to expire (about 10 s per consumer group)."""
    process = system.processes[service]
    process.terminate()
    process.wait(timeout=60)
    started = time.perf_counter()
    system.spawn(service)
    system.wait_ready(service, timeout=600)
    ready = time.perf_counter() - started
    return {"ready_seconds": ready, **memory(system.processes[service].pid)}


def measure(
    system: RunningSystem, service: str, builder: LogBuilder, tokens: Tokens, requests: int
) -> dict[str, Any]:
    # Twice: the first stop of a process the system started leaves its consumer group to
    # expire on the broker, the second stops one that left it.
    figures: dict[str, Any] = {"restarts": [restart(system, service) for _ in range(2)]}
    with httpx.Client(base_url=system.url(service), timeout=4 * BUDGET_SECONDS) as client:
        document = client.get("/openapi.json").json()
        endpoints, figures["not_timed"] = read_endpoints(document, builder.samples)
        figures["reads"] = time_reads(client, endpoints, builder.samples, tokens, requests)
        figures["write"] = time_write(client, document, builder.write, tokens)
    figures["memory_after_requests"] = memory(system.processes[service].pid)
    return figures


# The run --------------------------------------------------------------------------------------


def run_scale(
    system: RunningSystem,
    target: int,
    services: Sequence[str],
    requests: int,
    output: Path,
    console: Console,
) -> dict[str, Any]:
    system.data_dir = system.data_dir.resolve()
    system.environment.update(SCALE_ENVIRONMENT)
    figures: dict[str, Any] = {
        "events_per_service": target,
        "cores": os.cpu_count(),
        "requests_per_endpoint": requests,
        "budget_seconds_per_endpoint": BUDGET_SECONDS,
        "load_average_before": os.getloadavg(),
        "services": {},
    }
    builders = {}
    for service in services:
        console.print(f"building {service}'s log ({target:,} events)…")
        builders[service], figures["services"][service] = build_log(
            system, service, target, requests, console
        )
    console.print("starting the system…")
    system.start()
    tokens = Tokens(system)
    for service in services:
        console.print(f"restarting {service} and timing its endpoints…")
        figures["services"][service].update(
            measure(system, service, builders[service], tokens, requests)
        )
    for service in services:
        console.print(f"rebuilding {service}'s read models…")
        figures["services"][service]["rebuild"] = replay_service(system, service)
    figures["load_average_after"] = os.getloadavg()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(figures, indent=2))
    for service in services:
        print_service(console, service, figures["services"][service], figures["cores"])
    console.print(f"figures written to {output}")
    return figures


def latency(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return result["skipped"]
    text = f"{result['p50'] * 1000:.1f} / {result['p99'] * 1000:.1f} ms ×{result['count']}"
    if first_byte := result.get("first_byte"):
        text = (
            f"first byte {first_byte['p50'] * 1000:.1f} / {first_byte['p99'] * 1000:.1f} ms,"
            f" whole {text}"
        )
    failures = ", ".join(f"{status}×{n}" for status, n in result["failures"].items())
    return f"{text}, failed: {failures}" if failures else text


def print_service(console: Console, service: str, figures: dict[str, Any], cores: int) -> None:
    restarts, after, rebuild = (
        figures["restarts"],
        figures["memory_after_requests"],
        figures["rebuild"],
    )
    ready = restarts[-1]
    rows = [
        ("log events (people)", f"{figures['events']:,} ({figures['people']:,})"),
        ("built through the aggregates, events/s", f"{figures['build_events_per_second']:,.0f}"),
        *(
            [("table views caught up from empty", f"{figures['views_catch_up_seconds']:.1f} s")]
            if "views_catch_up_seconds" in figures
            else []
        ),
        (
            "time to ready after a restart (twice)",
            ", ".join(f"{restart['ready_seconds']:.1f} s" for restart in restarts),
        ),
        ("RSS at ready / peak", f"{ready['rss_mb']:.0f} / {ready['peak_rss_mb']:.0f} MB"),
        ("RSS after the requests / peak", f"{after['rss_mb']:.0f} / {after['peak_rss_mb']:.0f} MB"),
        *((label, latency(result)) for label, result in figures["reads"].items()),
        (figures["write"]["label"], latency(figures["write"])),
        (
            "rebuild of the read models (tables), events/s",
            f"{rebuild['rebuild_events_per_second']:,.0f}"
            f" ({rebuild['events_replayed']:,} in {rebuild['rebuild_seconds']:.1f} s)",
        ),
        (
            "raw select-and-decode of the log, events/s",
            f"{rebuild['raw_events_per_second']:,.0f}"
            f" ({rebuild['events']:,} in {rebuild['raw_seconds']:.1f} s)",
        ),
        ("  rebuild ÷ raw, per event replayed", f"{rebuild['vs_raw_select_and_decode']:.0%}"),
        (
            "  rebuild ÷ raw, through the whole log",
            f"{rebuild['whole_log_vs_raw_select_and_decode']:.0%}",
        ),
    ]
    table = figures_table(f"{service} at {figures['events']:,} events ({cores} cores)", rows)
    table.caption = (
        "requests: p50 / p99 ×count, one at a time from one client; a shared machine, so the"
        " figures are noisy"
    )
    console.print(table)
    for label, reason in figures["not_timed"].items():
        console.print(f"  not timed: {label} ({reason})")
