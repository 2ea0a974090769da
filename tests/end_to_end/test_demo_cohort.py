"""End to end: the four services as separate processes against PostgreSQL and the broker, the
demo cohort (smaller) driven through them, every trainee checked in every service.

Marker `soak`: CI drives 60 trainees; `HEZE_E2E_TRAINEES=1000` drives a larger cohort."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import zxingcpp
from aiokafka import AIOKafkaConsumer
from joserfc import jws
from joserfc.jwk import OKPKey
from PIL import Image
from typer.testing import CliRunner
from rich.console import Console

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from heze_common.auth import TokenIssuer, identity_claim
from heze_common.settings import ServiceSettings
from heze_common.certificate_pdf import attached_credential
from heze_common.credentials import unverified_parts
from heze_common.testing import READY_SECONDS, eventually, read_topic, with_attached_credential
from heze_contracts.enums import Role
from heze_system.bench import service_application
from heze_system.demo.cohort import cohort
from heze_system.launcher import cli
from heze_system.demo.run import drive
from heze_system.system import SERVICES, RunningSystem, postgres_databases
from heze_system.trail import collect, find_trainee, to_html
from tests.end_to_end.expectations import expected_counts

COHORT = int(os.environ.get("HEZE_E2E_TRAINEES", "60"))
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "certificates"
# The cohort is driven in the first test's setup: a larger one needs longer than the default.
pytestmark = [pytest.mark.soak, pytest.mark.timeout(max(300, COHORT * 3))]


@pytest.fixture(scope="module")
def system(
    tmp_path_factory: pytest.TempPathFactory, postgres_admin_dsn: str, kafka_bootstrap_servers: str
) -> Iterator[RunningSystem]:
    prefix = f"e2e_{uuid.uuid4().hex[:8]}"
    with postgres_databases(postgres_admin_dsn, prefix) as template:
        running = RunningSystem(
            data_dir=tmp_path_factory.mktemp("e2e"),
            base_port=18301,
            database_url_template=template,
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            environment={
                "KAFKA_TOPIC_PREFIX": f"{prefix}.",
                "KAFKA_SESSION_TIMEOUT_MS": "3000",
                "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            },
        ).start(ready_timeout=READY_SECONDS)
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="module")
def demo(system: RunningSystem) -> tuple:
    """The demo cohort driven once through the running system, for every test below."""
    return asyncio.run(drive(system, COHORT, Console(quiet=True)))


def test_the_demo_cohort_reaches_its_expected_state_in_every_service(
    system: RunningSystem, demo: tuple
) -> None:
    world, problems, overdue = demo
    assert problems == []
    expected = expected_counts(COHORT)
    for stage in (
        "registered",
        "enrolled",
        "withdrawn",
        "completed",
        "applied",
        "assessed",
        "passed",
        "issued",
    ):
        assert world.count(stage) == expected[stage], stage
    assert world.count("subsidy paid") == sum(
        1 for j in world.journeys if "issued" in j.stages and j.plan and j.plan.subsidised
    )
    assert world.repeat_claim_refused
    assert world.refusals["invalid_id_number"] == sum(
        p.flaw == "invalid_id_number" for p in cohort(COHORT)
    )
    assert world.refusals["retired"] == sum(p.flaw == "retired" for p in cohort(COHORT))
    assert world.refusals["outside_scope"] == 1
    assert overdue == []
    assert not system.exited()


def auditor(system: RunningSystem) -> dict[str, str]:
    issuer = TokenIssuer(ServiceSettings(service_name="auditor", data_dir=system.data_dir))
    return {"Authorization": f"Bearer {issuer.mint(Role.AUDITOR, subject='auditor')}"}


def flipped_byte(compact: str) -> str:
    """The credential with one character of its payload (the middle part) changed."""
    at = compact.index(".") + 20
    return compact[:at] + ("A" if compact[at] != "A" else "B") + compact[at + 1 :]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def followed_trainee(world: Any) -> Any:
    return next(j for j in world.journeys if "subsidy paid" in j.stages)


def test_the_trail_of_a_trainee_crosses_all_four_services_in_causal_order(
    system: RunningSystem, demo: tuple
) -> None:
    journey = followed_trainee(demo[0])
    urls = {service: system.url(service) for service in SERVICES}
    token = auditor(system)["Authorization"].removeprefix("Bearer ")
    assert find_trainee(urls, token, journey.certificate, None) == journey.trainee_id
    assert find_trainee(urls, token, None, journey.person.id_number) == journey.trainee_id
    events = collect(urls, token, journey.trainee_id)
    topics = [event["topic"] for event in events]
    assert {event["service"] for event in events} == set(SERVICES)
    for earlier, later in [
        ("enrollment.Trainee.Registered.v1", "enrollment.Trainee.Completed.v1"),
        ("enrollment.Trainee.Completed.v1", "assessment.Application.Accepted.v1"),
        ("assessment.Application.Scored.v1", "certification.CertificateCase.Opened.v1"),
        ("certification.CertificateCase.Issued.v1", "subsidy.Claim.Approved.v1"),
        ("subsidy.Claim.Approved.v1", "subsidy.Claim.Paid.v1"),
    ]:
        assert topics.index(earlier) < topics.index(later), (earlier, later)
    effects = [event for event in events if event["causation_id"]]
    assert effects and all(event["actor"] for event in events)
    page = to_html(journey.trainee_id, events)
    rendered = render_in_browser(page, system.data_dir)
    assert journey.person.name in rendered and "subsidy.Claim.Paid.v1" in rendered
    assert rendered.count("<tr>") == len(events) + 1  # a row per event, and the heading


def render_in_browser(page: str, folder: Path) -> str:
    """The DOM headless Chromium builds from the report (installed by `./heze test`)."""
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed (./heze test installs it with apt-get)"
    report = folder / "trail.html"
    report.write_text(page, encoding="utf-8")
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={folder / 'chromium'}",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def test_time_travel_shows_a_trainee_before_and_after_completion(
    system: RunningSystem, demo: tuple
) -> None:
    journey = followed_trainee(demo[0])
    url, headers = system.url("enrollment"), auditor(system)
    trail = httpx.get(f"{url}/audit/trail/{journey.trainee_id}", headers=headers).json()
    completed_at = next(
        e["timestamp"] for e in trail if e["topic"] == "enrollment.Trainee.Completed.v1"
    )
    before_completion = next(e for e in reversed(trail) if e["timestamp"] < completed_at)[
        "timestamp"
    ]
    first = httpx.get(
        f"{url}/audit/aggregates/{journey.trainee_id}", params={"version": 1}, headers=headers
    ).json()
    assert (first["version"], first["state"]["enrolments"]) == (1, {})
    then = httpx.get(
        f"{url}/audit/aggregates/{journey.trainee_id}",
        params={"as_of": before_completion},
        headers=headers,
    ).json()
    now = httpx.get(f"{url}/audit/aggregates/{journey.trainee_id}", headers=headers).json()
    (then_record,), (now_record,) = (
        then["state"]["enrolments"].values(),
        now["state"]["enrolments"].values(),
    )
    assert (then_record["status"], now_record["status"]) == ("enrolled", "completed")
    changes = httpx.get(
        f"{url}/audit/aggregates/{journey.trainee_id}/difference",
        params={
            "before": before_completion,
            "after": now["state"].get("_modified_on") or completed_at,
        },
        headers=headers,
    ).json()
    assert [change["field"] for change in changes] == ["enrolments"]


def test_rebuilt_read_models_equal_the_live_ones_after_the_demo(
    system: RunningSystem, demo: tuple
) -> None:
    city = {"Authorization": auditor(system)["Authorization"]}
    pool = f"{system.url('certification')}/talent-pool?limit=500"
    pool_before = httpx.get(pool, headers=city).json()
    for service in SERVICES:
        report = httpx.post(
            f"{system.url(service)}/audit/read-models/rebuild", headers=auditor(system), timeout=120
        ).json()
        assert report["differences"] == [], (service, report)
        assert report["events_replayed"] > 0 and report["switched"], (service, report)
    pool_after = httpx.get(pool, headers=city).json()
    assert pool_after == pool_before  # the switched-to read models answer as the old ones did


def test_auditor_credentials_cannot_change_anything(system: RunningSystem, demo: tuple) -> None:
    headers = auditor(system)
    for service in SERVICES:
        document = httpx.get(f"{system.url(service)}/openapi.json").json()
        for path, operations in document["paths"].items():
            for method in operations:
                if method == "get" or path in ("/audit/read-models/rebuild", "/audit/verification"):
                    # Reads; the rebuild recomputes derived read models from the log, and the
                    # verification recomputes the log's hash chain: neither writes an event.
                    continue
                concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path.replace("{year}", "2027"))
                response = httpx.request(
                    method.upper(), f"{system.url(service)}{concrete}", json={}, headers=headers
                )
                assert response.status_code == 403, (service, method, path, response.status_code)


async def every_message_of(bootstrap_servers: str, prefix: str) -> dict[str, list[bytes]]:
    """Each topic of the system (its events and its dead-letter queues), with every message's
    key, headers and body as bytes."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers)
    await consumer.start()
    try:
        topics = sorted(topic for topic in await consumer.topics() if topic.startswith(prefix))
    finally:
        await consumer.stop()
    return {
        topic: [
            b"".join([record.key or b"", record.value or b"", *(v for _, v in record.headers)])
            for record in await read_topic(bootstrap_servers, topic)
        ]
        for topic in topics
    }


def test_no_topic_or_dead_letter_queue_holds_a_cohort_members_name_id_number_or_phone(
    system: RunningSystem, demo: tuple
) -> None:
    prefix = system.environment["KAFKA_TOPIC_PREFIX"]
    messages = asyncio.run(every_message_of(system.kafka_bootstrap_servers or "", prefix))
    events = [f"{prefix}{service}.events.v1" for service in SERVICES]
    assert set(events) <= set(messages) and all(messages[topic] for topic in events)
    people = cohort(COHORT)
    secrets = {
        **{person.name: f"the name of person {person.number}" for person in people},
        **{person.id_number: f"the ID number of person {person.number}" for person in people},
        # The demo registers person n with the phone 139 followed by n in 8 digits.
        **{f"139{person.number:08d}": f"the phone of person {person.number}" for person in people},
    }
    found = [
        f"{what} on {topic}"
        for topic, bodies in messages.items()
        for body in bodies
        for value, what in secrets.items()
        if value.encode() in body
    ]
    assert found == []
    # The values looked for are the ones the demo registered.
    assert {j.person.id_number for j in demo[0].journeys} == {p.id_number for p in people}
    assert demo[0].count("registered") > 0


def test_a_certificate_verifies_from_its_pdf_and_qr_code_and_its_revocation_shows(
    system: RunningSystem, demo: tuple, tmp_path: Path
) -> None:
    """Runs last: it revokes the followed trainee's certificate."""
    world = demo[0]
    journey = followed_trainee(world)
    certification = system.url("certification")
    tokens = TokenIssuer(ServiceSettings(service_name="tester", data_dir=system.data_dir))
    holder = bearer(tokens.mint(Role.TRAINEE, subject=journey.trainee_id))
    stranger = bearer(tokens.mint(Role.TRAINEE, subject=str(uuid.uuid4())))
    pdf_url = f"{certification}/certificates/{journey.certificate}/pdf"
    assert httpx.get(pdf_url, headers=stranger).json()["error"]["code"] == "not_your_certificate"
    pdf = httpx.get(pdf_url, headers=holder, timeout=30)
    assert pdf.headers["content-type"] == "application/pdf"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pdf_file = ARTEFACTS / "level-certificate.pdf"
    pdf_file.write_bytes(pdf.content)

    # The QR code, read off the rendered page, is the certificate's verification link.
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", pdf_file, ARTEFACTS / "level-certificate"],
        check=True,
    )
    (code,) = zxingcpp.read_barcodes(Image.open(ARTEFACTS / "level-certificate.png"))
    link = code.text
    assert link.startswith(
        f"{certification}/public/certificates/{journey.certificate}/verification"
    )
    by_link = httpx.get(link).json()
    assert (by_link["status"], by_link["holder_name"]) == ("valid", journey.person.name)
    wrong_code = httpx.get(link.rsplit("=", 1)[0] + "=guessed").json()
    assert wrong_code == {**dict.fromkeys(by_link), "status": "unknown"}

    # An independent verifier (joserfc) checks the attached credential with the issuer's key.
    compact = attached_credential(pdf.content)
    assert compact == httpx.get(f"{pdf_url[:-4]}/credential", headers=holder).text
    _, claimed = unverified_parts(compact)
    published = httpx.get(claimed["issuer"]).json()["keys"][0]
    key = OKPKey.import_key({name: published[name] for name in ("kty", "crv", "x")})
    verified = jws.deserialize_compact(compact, key, algorithms=["EdDSA"])
    credential = json.loads(verified.payload)
    subject = credential["credentialSubject"]
    identity_key = ServiceSettings(service_name="x", data_dir=system.data_dir)
    assert subject["name"] == journey.person.name
    assert subject["idh"] == identity_claim(
        identity_key.resolved_identity_claim_key(), journey.person.id_number
    )
    assert journey.person.id_number not in verified.payload.decode()
    assert subject["certificate"]["number"] == journey.certificate
    assert {"provinceConfirmation", "nationalApproval"} <= set(subject["certificate"])

    def check(source: str, *extra: str) -> tuple[int, str]:
        result = CliRunner().invoke(
            cli,
            [
                "certificate",
                "verify",
                source,
                "--trust",
                certification,
                "--cache-dir",
                str(tmp_path / "cache"),
                *extra,
            ],
        )
        return result.exit_code, result.output

    from_pdf, from_link = check(str(pdf_file)), check(link)
    assert from_pdf[0] == 0 and "VALID" in from_pdf[1] and journey.person.name in from_pdf[1]
    assert from_link == from_pdf
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(with_attached_credential(pdf.content, flipped_byte(compact)))
    assert check(str(tampered))[0] == 1 and "TAMPERED" in check(str(tampered))[1]
    elsewhere = CliRunner().invoke(
        cli,
        [
            "certificate",
            "verify",
            str(pdf_file),
            "--trust",
            "https://elsewhere.example",
            "--cache-dir",
            str(tmp_path / "other"),
        ],
    )
    assert elsewhere.exit_code == 1 and "UNTRUSTED" in elsewhere.output

    # Revocation: the evaluation institution voids the result (a false commitment).
    evaluator = bearer(
        tokens.mint(
            Role.EVALUATION_INSTITUTION,
            subject="evaluator",
            organisation_id=uuid.UUID(world.evaluation_institution),
        )
    )
    voided = httpx.post(
        f"{system.url('assessment')}/applications/{journey.application_id}/voiding",
        json={"reason": "承诺事项核查不实", "false_commitment": True},
        headers=evaluator,
    )
    assert voided.status_code == 200, voided.text

    def revoked() -> bool:
        return check(str(pdf_file))[0] == 1

    asyncio.run(eventually(revoked))
    exit_code, output = check(str(pdf_file))
    assert "REVOKED" in output and "the revocation list sets entry" in output
    assert "REVOKED" in check(str(pdf_file), "--offline")[1]  # from the cached list
    assert httpx.get(link).json()["status"] == "revoked"


def stored_events_as_the_service_reads_them(system: RunningSystem, service: str) -> list[str]:
    """Every stored event of the service as the service itself decodes it, with every key it
    holds (its cipher key, its person master key and every person's key left): what an insider
    with the service's keys could read."""
    app = service_application(system, service)
    try:
        notifications = app.recorder.select_notifications(start=1, limit=10**9)
        return [app.mapper.to_domain_event(n).model_dump_json() for n in notifications]
    finally:
        app.close()


def audit_verifies(system: RunningSystem, service: str) -> tuple[int, str]:
    raw = base64.b64decode((system.data_dir / f"{service}.audit-key").read_text().strip())
    public = Ed25519PrivateKey.from_private_bytes(raw).public_key()
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "verify",
            service,
            "--public-key",
            base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode(),
            "--kafka",
            system.kafka_bootstrap_servers or "",
            "--topic-prefix",
            system.environment["KAFKA_TOPIC_PREFIX"],
            "--data-dir",
            str(system.data_dir),
            "--database-url",
            system.database_url(service),
        ],
        env={"COLUMNS": "250"},
    )
    return result.exit_code, result.output


def test_an_erased_person_is_found_nowhere_and_every_log_still_verifies(
    system: RunningSystem, demo: tuple
) -> None:
    """Runs after the others: the city bureau erases a trainee who holds a certificate and was
    paid a subsidy; afterwards no endpoint, topic, event store or dump of any of the four
    databases yields their name, ID number or phone, while everyone else is untouched."""
    world = demo[0]
    followed = followed_trainee(world)
    journey = next(j for j in world.journeys if "subsidy paid" in j.stages and j is not followed)
    kept = followed
    person = journey.person
    secrets = {
        person.name: "name",
        person.id_number: "ID number",
        f"139{person.number:08d}": "phone",
    }
    tokens = TokenIssuer(ServiceSettings(service_name="tester", data_dir=system.data_dir))
    city = bearer(tokens.mint(Role.CITY_BUREAU, subject="city-officer"))
    enrollment, certification = system.url("enrollment"), system.url("certification")

    erased = httpx.post(
        f"{enrollment}/trainees/{journey.trainee_id}/erasure",
        json={"reason": "本人书面申请删除个人信息"},
        headers=city,
    )
    assert erased.status_code == 200, erased.text

    def certification_erased() -> bool:
        trail = httpx.get(
            f"{certification}/audit/trail/{journey.trainee_id}", headers=auditor(system)
        ).json()
        return "certification.TalentRecord.Erased.v1" in {event["topic"] for event in trail}

    asyncio.run(eventually(certification_erased))

    # Endpoints: the record is refused, the certificate still verifies by number and name,
    # and no service's trail (or any other answer here) carries the person's data.
    record = httpx.get(f"{enrollment}/trainees/{journey.trainee_id}", headers=city).json()
    assert record["error"]["code"] == "person_erased"
    holder = bearer(tokens.mint(Role.TRAINEE, subject=journey.trainee_id))
    pdf = httpx.get(f"{certification}/certificates/{journey.certificate}/pdf", headers=holder)
    assert pdf.json()["error"]["code"] == "person_erased"
    verified = httpx.get(
        f"{certification}/public/certificates/verify",
        params={"number": journey.certificate, "name": person.name},
    ).json()
    assert verified["status"] == "valid"
    answers = [
        httpx.get(
            f"{system.url(service)}/audit/trail/{journey.trainee_id}", headers=auditor(system)
        ).text
        for service in SERVICES
    ]
    answers.append(httpx.get(f"{enrollment}/registrations?limit=500", headers=city).text)
    answers += [
        httpx.get(f"{certification}/continuing-education/{year}", headers=city).text
        for year in range(2023, 2028)
    ]
    for answer in answers:
        for value, what in secrets.items():
            assert value not in answer, what

    # Topics and dead-letter queues; event stores read with each service's own keys; a dump
    # of each of the four databases.
    prefix = system.environment["KAFKA_TOPIC_PREFIX"]
    messages = asyncio.run(every_message_of(system.kafka_bootstrap_servers or "", prefix))
    assert any(b"PersonErased" in body for body in messages[f"{prefix}enrollment.events.v1"])
    for service in SERVICES:
        stored = stored_events_as_the_service_reads_them(system, service)
        if service in ("enrollment", "certification"):  # they read everyone else's data
            assert any(kept.person.name in event for event in stored), service
        dump = subprocess.run(
            ["pg_dump", "--no-owner", system.database_url(service)],
            check=True,
            capture_output=True,
            timeout=600,
        ).stdout
        places = {
            "topics": [body for bodies in messages.values() for body in bodies],
            "event store": [event.encode() for event in stored],
            "pg_dump": [dump],
        }
        for place, contents in places.items():
            for value, what in secrets.items():
                assert not any(
                    value.encode() in content for content in contents
                ), f"{person.number}'s {what} in {service}'s {place}"

    # Everyone else is untouched; the trail shows the erasure; every log verifies.
    other = httpx.get(f"{enrollment}/trainees/{kept.trainee_id}", headers=city).json()
    assert other["name"] == kept.person.name
    trail = collect(
        {s: system.url(s) for s in SERVICES},
        auditor(system)["Authorization"][7:],
        journey.trainee_id,
    )
    topics = [event["topic"] for event in trail]
    assert "enrollment.Trainee.Erased.v1" in topics
    assert "certification.CertificateCase.HolderErased.v1" in topics
    assert {"assessment", "subsidy"} <= {event["service"] for event in trail}
    for service in SERVICES:
        exit_code, output = audit_verifies(system, service)
        assert exit_code == 0 and "verifies clean" in output, (service, output)
