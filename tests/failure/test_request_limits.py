"""Request limits of a real service process (uvicorn, as `python -m heze_enrollment.main serve`
runs it): a body is counted as it streams in and cut at the limit with 413, so a chunked upload
without a length cannot fill the memory; a body to an operation that needs a token is refused
with 401 before any of it is read when the token is missing or bad; tokens valid for longer than
JWT_MAX_LIFETIME_SECONDS are refused; control characters in free text are refused with 422
naming the field; and a client that does not finish its headers in time loses its connection.

The HTTP conversations that matter here (a body still being sent when the answer comes, headers
that stop halfway) are written on a plain socket, as such a client would send them."""

from __future__ import annotations

import importlib
import json
import select
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import count, repeat
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from heze_common.auth import TokenIssuer
from heze_common.http_errors import routes_needing_a_token
from heze_common.runtime import create_app
from heze_common.testing import (
    TEST_IDENTITY_CLAIM_KEY,
    ServiceProcess,
    Tokens,
    fresh_database,
    service_process,
    service_settings,
)
from heze_contracts.enums import Role
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import Institution
from heze_enrollment.settings import EnrollmentSettings

SECRET = "request-limits-test-secret-of-32-bytes!"
CIPHER_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
HEADER_TIMEOUT = 1.5
"""HTTP_HEADER_TIMEOUT_SECONDS of the process: short, so the slow-client tests are quick."""
MB = 1024 * 1024
OFFERED = 150 * MB
"""What the oversize uploads offer to send (the process takes half a megabyte per command)."""
RSS_GROWTH_LIMIT = 50 * MB
UPC = Institution.create_id("中国石油大学(华东)")  # seeded in the directory
ID_SEQUENCES = count(201, 2)


@dataclass
class Service:
    """The enrollment process, and tokens it accepts."""

    served: ServiceProcess
    tokens: Tokens
    issuer: TokenIssuer

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.served.process

    @property
    def port(self) -> int:
        return self.served.port

    @property
    def url(self) -> str:
        return self.served.url

    @property
    def log(self) -> Path:
        return self.served.log

    def rss(self) -> int:
        """Resident memory of the service process, in bytes."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS line")

    def post(self, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def service(
    postgres_admin_dsn: str, kafka_bootstrap_servers: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    data_dir = tmp_path_factory.mktemp("request-limits")
    with fresh_database(postgres_admin_dsn, "test_limits") as database_url:
        environment = {
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
            "KAFKA_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:10]}.",
            "DATA_DIR": str(data_dir),
            "JWT_SECRET": SECRET,
            "CIPHER_KEY": CIPHER_KEY,
            "IDENTITY_CLAIM_KEY": TEST_IDENTITY_CLAIM_KEY,
            "HTTP_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        }
        settings = service_settings(EnrollmentSettings, jwt_secret=SECRET, data_dir=data_dir)
        issuer = TokenIssuer(settings)
        with service_process(
            "enrollment",
            environment,
            data_dir / "enrollment.log",
            # The defaults are under test.
            unset=("JWT_MAX_LIFETIME_SECONDS", "JWT_PUBLIC_KEY_FILE", "ENVIRONMENT"),
        ) as served:
            yield Service(served, Tokens(issuer), issuer)


def registration(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "限额测试",
        "id_number": ResidentId.compose("371702", date(1993, 3, 3), next(ID_SEQUENCES)),
        "phone": "13800000000",
        "education": "bachelor",
        "major": "软件工程",
        "county": "曹县",
        "participant_category": "digital_worker",
    }
    return body | overrides


def registrant_token(service: Service, body: dict[str, Any], **options: Any) -> str:
    """A trainee's token vouching for the ID number `body` registers."""
    return service.issuer.mint(
        Role.TRAINEE, subject="registrant", verified_id_number=body["id_number"], **options
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- a client on a plain socket --------------------------------------------------------------


@dataclass
class Exchange:
    """What came back on one connection, and how much of the request had gone out by then."""

    status: int | None
    headers: dict[str, str]
    body: bytes
    body_bytes_sent: int
    """Bytes of the body the client had written to the socket when the answer was complete."""
    closed: bool
    """The server closed the connection (after its answer, or instead of one)."""

    def json(self) -> Any:
        return json.loads(self.body)


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *map(": ".join, headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        yield f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    yield b"0\r\n\r\n"


def parsed(received: bytes) -> tuple[int, dict[str, str], bytes] | None:
    """The answer once it is whole (it has a Content-Length), else None."""
    head, separator, body = received.partition(b"\r\n\r\n")
    if not separator:
        return None
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    length = int(headers.get("content-length", "0"))
    if len(body) < length:
        return None
    return int(status_line.split()[1]), headers, body[:length]


def exchange(
    port: int, head: bytes, body: Iterable[bytes] = (), *, timeout: float = 60
) -> Exchange:
    """Send `head`, then `body` piece by piece for as long as the server reads it, watching for
    the answer all along (as a browser does, not as clients that send everything first)."""
    deadline = time.monotonic() + timeout
    pieces, pending, sent, sending = iter(body), b"", 0, True
    received, closed, answer = bytearray(), False, None
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head)
        connection.setblocking(False)
        while not closed and time.monotonic() < deadline:
            if answer is None:
                answer = parsed(bytes(received))
            if answer is not None:
                sending = False  # answered: the rest of the body would go nowhere
                if answer[1].get("connection") != "close":
                    break  # a kept-alive connection: the exchange is over
                wait = min(deadline - time.monotonic(), 10.0)  # the close that should follow
            else:
                wait = deadline - time.monotonic()
            readable, writable, _ = select.select(
                [connection], [connection] if sending else [], [], wait
            )
            if not readable and not writable:
                break  # nothing more within the deadline
            if readable:
                try:
                    data = connection.recv(65536)
                except ConnectionResetError:
                    data = b""
                closed = not data
                received += data
                continue
            if not pending:
                pending = next(pieces, b"")
                if not pending:
                    sending = False
                    continue
            try:
                written = connection.send(pending)
            except (BrokenPipeError, ConnectionResetError):
                sending = False  # the server closed; what it answered is still to be read
                continue
            pending, sent = pending[written:], sent + written
    answer = answer or parsed(bytes(received))
    if answer is None:
        return Exchange(None, {}, bytes(received), sent, closed)
    return Exchange(*answer, body_bytes_sent=sent, closed=closed)


def a_large_chunked_upload(total: int = OFFERED, piece: int = 64 * 1024) -> Iterator[bytes]:
    return chunked(repeat(b"x" * piece, total // piece))


def chunked_post(token: str | None, path: str = "/trainees") -> bytes:
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return request_head("POST", path, headers)


# -- bodies: counted as they stream, cut at the limit ----------------------------------------


def test_a_chunked_oversize_body_is_cut_with_413_and_memory_stays_bounded(
    service: Service,
) -> None:
    first = registration()
    token = registrant_token(service, first)
    warm_up = service.post("/trainees", first, bearer(token))
    assert warm_up.status_code == 201, warm_up.text
    before = service.rss()

    answer = exchange(service.port, chunked_post(token), a_large_chunked_upload())

    growth = service.rss() - before
    assert answer.status == 413, (answer, service.log.read_text()[-2000:])
    assert answer.json()["error"]["code"] == "body_too_large"
    assert answer.json()["error"]["field"] == "body"
    assert answer.headers["connection"] == "close"
    assert answer.closed, "the rest of the body is not read: the connection is closed"
    assert answer.body_bytes_sent < OFFERED // 2, answer.body_bytes_sent
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth / MB:.1f} MB"
    assert service.process.poll() is None
    second = registration()
    after = service.post("/trainees", second, bearer(registrant_token(service, second)))
    assert after.status_code == 201, after.text


def test_a_declared_oversize_body_is_refused_before_it_is_sent(service: Service) -> None:
    token = service.issuer.mint(Role.TRAINEE, subject="uploader")
    head = request_head(
        "POST",
        "/trainees",
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Length": str(OFFERED),
        },
    )
    answer = exchange(service.port, head)  # not one byte of the body is sent
    assert answer.status == 413, answer
    assert answer.json()["error"]["code"] == "body_too_large"
    assert answer.body_bytes_sent == 0


# -- the token is checked before the body is read --------------------------------------------


BAD_TOKENS: dict[str, tuple[Callable[[TokenIssuer], str | None], str]] = {
    "missing": (lambda issuer: None, "missing_token"),
    "garbage": (lambda issuer: "not.a.token", "invalid_token"),
    "expired": (
        lambda issuer: issuer.mint(Role.TRAINEE, ttl=timedelta(seconds=-5)),
        "token_expired",
    ),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_body_without_a_sound_token_gets_401_before_any_of_it_is_sent(
    service: Service, case: str
) -> None:
    make, code = BAD_TOKENS[case]
    answer = exchange(service.port, chunked_post(make(service.issuer)))  # headers only
    assert answer.status == 401, answer
    assert answer.json()["error"]["code"] == code
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.body_bytes_sent == 0
    assert answer.closed


@pytest.mark.parametrize("case", ["missing", "garbage"])
def test_a_large_upload_without_a_sound_token_is_refused_while_most_is_unsent(
    service: Service, case: str
) -> None:
    make, code = BAD_TOKENS[case]
    before = service.rss()
    answer = exchange(service.port, chunked_post(make(service.issuer)), a_large_chunked_upload())
    growth = service.rss() - before
    assert (answer.status, answer.json()["error"]["code"]) == (401, code), answer
    assert answer.body_bytes_sent < OFFERED // 2, answer.body_bytes_sent
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth / MB:.1f} MB"


def test_public_and_operational_endpoints_need_no_token(service: Service) -> None:
    for path in ("/health/live", "/health/ready", "/metrics", "/openapi.json", "/asyncapi.json"):
        response = httpx.get(f"{service.url}{path}", timeout=30)
        assert response.status_code == 200, (path, response.text)
    # An unknown operation with a body is still a 404, not a 401.
    answer = exchange(service.port, chunked_post(None, "/no-such-operation"), chunked([b"{}"]))
    assert answer.status == 404, answer


@pytest.mark.parametrize("service_name", ["enrollment", "assessment", "certification", "subsidy"])
def test_the_operations_that_need_a_token_are_known_from_their_dependencies(
    service_name: str,
) -> None:
    """What the early 401 relies on agrees, for every operation of every service, with the
    security its OpenAPI document declares; the public and operational ones need none."""
    main = importlib.import_module(f"heze_{service_name}.main")
    settings = service_settings(
        type(main.definition().settings), kafka_bootstrap_servers="127.0.0.1:9"
    )
    app = create_app(main.definition(settings))
    paths = app.openapi()["paths"]
    secured = {id(route) for route in routes_needing_a_token(app)}
    routes = [
        context.original_route
        for context in iter_route_contexts(app.router.routes)
        if isinstance(context.original_route, APIRoute)
    ]
    for route in routes:
        for method in route.methods:
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            if "x-callers" in operation:  # a service call: its own token, and no body to guard
                assert id(route) not in secured and "requestBody" not in operation, route.path
                continue
            assert (id(route) in secured) == ("security" in operation), (method, route.path)
    public = {route.path for route in routes if id(route) not in secured}
    assert {"/health/live", "/health/ready", "/metrics", "/asyncapi.json"} <= public
    if service_name == "certification":
        assert "/public/certificates/verify" in public
    assert len(public) < len(routes) / 3


# -- token lifetime ----------------------------------------------------------------------------


def test_a_token_living_longer_than_the_maximum_is_refused(service: Service) -> None:
    for ttl in (timedelta(days=3650), timedelta(hours=12, seconds=1)):
        token = service.issuer.mint(Role.TRAINEE, subject="long-lived", ttl=ttl)
        headers = {"Authorization": f"Bearer {token}"}
        response = service.post("/trainees", registration(), headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "invalid_token"
        assert "JWT_MAX_LIFETIME_SECONDS" in response.json()["error"]["message"]
        assert response.headers["WWW-Authenticate"] == "Bearer"
        read = httpx.get(f"{service.url}/programmes", headers=headers, timeout=30)
        assert read.status_code == 401, read.text  # without a body, the dependency refuses it


def test_tokens_within_the_maximum_lifetime_work(service: Service) -> None:
    for ttl in (timedelta(hours=8), timedelta(hours=12)):  # the issuer's default, the maximum
        body = registration()
        response = service.post("/trainees", body, bearer(registrant_token(service, body, ttl=ttl)))
        assert response.status_code == 201, response.text


# -- control characters in free text -------------------------------------------------------------


CONTROL_CHARACTERS = [
    ("/trainees", Role.TRAINEE, "name", "王\x00明"),
    ("/trainees", Role.TRAINEE, "name", "王\u202e明"),
    ("/trainees", Role.TRAINEE, "major", "软件\x00工程"),
    ("/trainees", Role.TRAINEE, "major", "软件\n工程"),  # one-line text
    ("/trainees", Role.TRAINEE, "employer", "菏泽\x1b[31m公司"),
    ("/trainees", Role.TRAINEE, "county", "曹县\x7f"),
    (f"/institutions/{UPC}/suspension", Role.CITY_BUREAU, "reason", "违规\x00招生"),
    (f"/institutions/{UPC}/suspension", Role.CITY_BUREAU, "reason", "违规\u202e生招"),
    (f"/institutions/{UPC}/suspension", Role.CITY_BUREAU, "reason", "违规\x85招生"),
]


def body_for(path: str, field_name: str, value: str) -> dict[str, Any]:
    return registration(**{field_name: value}) if path == "/trainees" else {field_name: value}


@pytest.mark.parametrize(
    ("path", "role", "field_name", "value"),
    CONTROL_CHARACTERS,
    ids=[
        f"{name}-U+{ord(next(c for c in value if not c.isalnum())):04X}"
        for _, _, name, value in CONTROL_CHARACTERS
    ],
)
def test_control_characters_in_free_text_are_refused_naming_the_field(
    service: Service, path: str, role: Role, field_name: str, value: str
) -> None:
    response = service.post(path, body_for(path, field_name, value), service.tokens(role))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field_name, error
    assert error["details"]["problems"][0]["rule"] == "control_character", error


def test_a_list_of_reasons_names_the_reason_with_a_control_character() -> None:
    """The certification service's case returns (ReasonList): the item is named."""
    from pydantic import TypeAdapter, ValidationError

    from heze_common.requests import ReasonList

    with pytest.raises(ValidationError) as refused:
        TypeAdapter(ReasonList).validate_python(["照片不清晰", "姓名\x00有误"])
    (problem,) = refused.value.errors()
    assert (problem["loc"], problem["type"]) == ((1,), "control_character")


def test_chinese_text_with_rare_characters_and_line_breaks_in_reasons_round_trips(
    service: Service,
) -> None:
    body = registration(
        name="王𠀀明", major="数据科学与大数据技术（𠀀䶮方向）", employer="菏泽龘科技"
    )
    created = service.post("/trainees", body, bearer(registrant_token(service, body)))
    assert created.status_code == 201, created.text
    trainee_id = created.json()["trainee_id"]
    record = httpx.get(
        f"{service.url}/trainees/{trainee_id}", headers=service.tokens(Role.CITY_BUREAU), timeout=30
    )
    assert record.status_code == 200, record.text
    assert {name: record.json()[name] for name in ("name", "major", "employer")} == {
        name: body[name] for name in ("name", "major", "employer")
    }
    assert "王𠀀明".encode() in record.content
    reason = "第一条：招生材料不实。\n第二条：\t未按期整改𠀀。"  # tab and line breaks: kept
    path = f"/institutions/{UPC}/suspension"
    suspended = service.post(path, {"reason": reason}, service.tokens(Role.CITY_BUREAU))
    assert suspended.status_code == 200, suspended.text
    reinstated = httpx.delete(
        f"{service.url}{path}", headers=service.tokens(Role.CITY_BUREAU), timeout=30
    )
    assert reinstated.status_code == 200, reinstated.text


# -- slow headers --------------------------------------------------------------------------------


def wait_for_close(connection: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Read until the server closes; what it sent and when (monotonic)."""
    connection.settimeout(timeout)
    received = bytearray()
    while True:
        try:
            data = connection.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            return bytes(received), time.monotonic()
        received += data


def test_a_client_that_stalls_halfway_through_its_headers_is_disconnected(
    service: Service,
) -> None:
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as stalled:
        started = time.monotonic()
        stalled.sendall(b"POST /trainees HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        # Meanwhile the server answers others.
        assert httpx.get(f"{service.url}/health/live", timeout=10).status_code == 200
        received, closed_at = wait_for_close(stalled, timeout=60)
    assert closed_at - started >= HEADER_TIMEOUT * 0.9
    answer = parsed(received)
    assert answer is not None, received
    status, headers, body = answer
    assert (status, headers["connection"]) == (408, "close")
    assert json.loads(body)["error"]["code"] == "request_timeout"


def test_a_client_that_trickles_its_headers_is_disconnected_all_the_same(
    service: Service,
) -> None:
    """Slowloris: a byte at a time keeps the connection busy, but the deadline is for them all."""
    head = request_head("GET", "/health/live", {"X-Padding": "p" * 200})
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as trickling:
        started, deadline = time.monotonic(), time.monotonic() + 60
        sent = 0
        try:
            while sent < len(head) and time.monotonic() < deadline:
                trickling.sendall(head[sent : sent + 1])
                sent += 1
                readable, _, _ = select.select([trickling], [], [], 0.05)
                if readable:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        received, closed_at = wait_for_close(trickling, timeout=60)
    assert sent < len(head), "the whole request went out before the deadline"
    assert closed_at - started < 30
    assert received.startswith(b"HTTP/1.1 408"), received


def test_a_connection_that_sends_nothing_is_closed(service: Service) -> None:
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as silent:
        started = time.monotonic()
        received, closed_at = wait_for_close(silent, timeout=60)
    assert received == b""  # nothing to answer: just closed
    assert closed_at - started >= HEADER_TIMEOUT * 0.9


def test_requests_with_their_headers_in_time_are_served_and_a_slow_body_is_not_cut(
    service: Service,
) -> None:
    # Several requests on one keep-alive connection, each with its headers in one piece.
    with httpx.Client(base_url=service.url, timeout=30) as client:
        for _ in range(3):
            assert client.get("/health/live").status_code == 200
    # The header deadline is not a body deadline: a body that takes longer still arrives.
    body = json.dumps(registration()).encode()
    pieces = [body[: len(body) // 2], body[len(body) // 2 :]]

    def slowly() -> Iterator[bytes]:
        for number, piece in enumerate(chunked(pieces)):
            paused_until = time.monotonic() + (HEADER_TIMEOUT * 1.5 if number else 0)
            while time.monotonic() < paused_until:  # a client slow to send: pacing, not a check
                time.sleep(0.05)
            yield piece

    token = registrant_token(service, json.loads(body))
    answer = exchange(service.port, chunked_post(token), slowly())
    assert answer.status == 201, answer
