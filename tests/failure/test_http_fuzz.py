"""Bad HTTP input. Every operation of every service, fuzzed with schemathesis from the service's
own OpenAPI document, never answers a server error nor anything its document does not describe,
and accepts nothing its outbox relay then cannot publish. The nasty inputs people actually send
(rare characters, emoji, very long text, impossible dates, wrong ID numbers) to the main write
endpoints are refused with 422 naming the field, and valid rare-character names come back exactly.

Each service runs once for the module (as `running` serves it, in a thread of its own) on its
own PostgreSQL database, with a few real records whose ids the fuzz also puts in the paths;
schemathesis generates the requests from the document and judges the answers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from itertools import count
from typing import Any
from uuid import UUID, uuid4

import pytest
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from assessment_builders import a_candidate
from fastapi import FastAPI
from httpx import AsyncClient, Response
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from heze_assessment import main as assessment
from heze_certification import main as certification
from heze_certification.domain.case import CaseSubject, CertificateCase
from heze_common import clock
from heze_common.auth import ORGANISATION_ROLES, TokenIssuer
from heze_common.eventstore import ServiceApplication
from heze_common.runtime import ServiceDefinition, create_app
from heze_common.testing import Tokens, fresh_database, running, service_settings
from heze_contracts.enums import Field, Level, Role
from heze_enrollment import main as enrollment
from heze_enrollment.domain.counties import county_id
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import Institution
from heze_subsidy import main as subsidy
from heze_subsidy.domain.beneficiary import Beneficiary, Enrolment

# Schemathesis's own strategies draw from `random`; nothing to act on here.
pytestmark = pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")

DEFINITIONS: dict[str, Callable[..., ServiceDefinition]] = {
    "enrollment": enrollment.definition,
    "assessment": assessment.definition,
    "certification": certification.definition,
    "subsidy": subsidy.definition,
}
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
BIG_DATA, MANUFACTURING = "2-02-10-11", "2-02-07-13"
UPC = Institution.create_id("中国石油大学(华东)")  # in the seeded directory, for big data
TRAINEE_ID = UUID("5f0c2a3e-7d41-4b8e-9a61-2c3d4e5f6a7b")
"""The trainee of every world, and the subject of trainee tokens (read as the trainee id)."""
STRANGER = UUID("0b7e6d5c-4a39-4f28-8e17-d6c5b4a39281")
"""The organisation of organisation-scoped roles that own nothing in a service."""

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
GENERATION = schemathesis.Config.from_dict(
    {
        "generation": {
            # Every request carries a valid token of its own (see `fuzz`).
            "with-security-parameters": False,
            # Unknown query parameters are ignored, as HTTP APIs commonly do; not a refusal.
            "allow-extra-parameters": False,
        }
    }
)
FUZZING = settings(
    max_examples=12,  # per operation and mode: ~2,000 requests in all, about a minute here
    derandomize=True,  # the same requests on every run, so CI is reproducible
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    phases=[Phase.explicit, Phase.generate, Phase.shrink],  # explaining traces: far too slow here
)


@dataclass
class Served:
    """One running service: its OpenAPI schema, a client, and records whose ids fill paths.

    The app runs (lifespan included) on an event loop of its own, in a thread, as `running`
    serves it to async tests; requests cross to it through `portal`."""

    schema: Any
    portal: BlockingPortal
    http: AsyncClient
    tokens: Tokens
    app: FastAPI
    ids: dict[str, str] = field(default_factory=dict)
    """Path parameter name -> the id of a real record."""
    organisations: dict[Role, UUID] = field(default_factory=dict)
    """The organisation each organisation-scoped role acts for: the owner of those records."""

    def headers(self, role: Role, body: Any = None) -> dict[str, str]:
        """A token of `role`; a trainee's vouches for the ID number the body registers, as the
        identity provider's does for the person signed in."""
        subject = str(TRAINEE_ID) if role is Role.TRAINEE else None
        organisation = (
            self.organisations.get(role, STRANGER) if role in ORGANISATION_ROLES else None
        )
        registers = body.get("id_number") if isinstance(body, dict) else None
        verified = registers if role is Role.TRAINEE and isinstance(registers, str) else None
        return self.tokens(role, organisation, subject, verified_id_number=verified)

    @property
    def application(self) -> ServiceApplication:
        return self.app.state.application

    def request(self, method: str, url: str, **options: Any) -> Response:
        return self.portal.call(partial(self.http.request, method, url, **options))

    def send(self, method: str, path: str, role: Role, body: Any = None) -> Response:
        return self.request(method, path, json=body, headers=self.headers(role, body))

    def created(self, path: str, role: Role, body: Any) -> dict[str, Any]:
        response = self.send("POST", path, role, body)
        assert response.status_code == 201, response.text
        return response.json()


ID_SEQUENCES = count(101, 2)  # odd: men, so no retirement group is needed


def registration(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "测试学员",
        "id_number": ResidentId.compose("371702", date(1995, 1, 1), next(ID_SEQUENCES)),
        "phone": "13800000000",
        "education": "bachelor",
        "major": "数据科学与大数据技术",
        "county": "牡丹区",
        "participant_category": "graduating_student",
    }
    return body | overrides


def programme(**overrides: Any) -> dict[str, Any]:
    body = {
        "occupation_code": BIG_DATA,
        "level": "junior",
        "title": "大数据工程技术人员（初级）第一期",
        "capacity": 30,
        "starts_on": "2026-11-01",
        "ends_on": "2027-01-31",
    }
    return body | overrides


def enrollment_records(served: Served) -> None:
    served.organisations[Role.TRAINING_INSTITUTION] = UPC
    served.organisations[Role.COUNTY_BUREAU] = county_id("牡丹区")
    programme_id = served.created("/programmes", Role.TRAINING_INSTITUTION, programme())["id"]
    person = registration()
    trainee_id = served.created("/trainees", Role.TRAINEE, person)["trainee_id"]
    path = f"/trainees/{trainee_id}/enrolments"
    served.created(path, Role.TRAINEE, {"programme_id": programme_id})
    served.ids |= {
        "institution_id": str(UPC),
        "code": BIG_DATA,
        "level": "junior",
        "programme_id": programme_id,
        "trainee_id": trainee_id,
        "aggregate_id": trainee_id,
        "id_number": person["id_number"],
    }


def assessment_records(served: Served) -> None:
    occupations = {"occupations": {MANUFACTURING: "intelligent_manufacturing"}}
    body = {"name": "山东省数字技术人才评价中心"} | occupations
    evaluator = served.created("/evaluation-institutions", Role.PROVINCIAL_DEPARTMENT, body)["id"]
    served.organisations[Role.EVALUATION_INSTITUTION] = UUID(evaluator)
    candidate = a_candidate(TRAINEE_ID)
    candidate.record_completion(MANUFACTURING, Level.JUNIOR, "HZPX2026-2020713-000001", NOW.date())
    served.application.save(candidate)
    body = application(evaluation_institution_id=evaluator)
    application_id = served.created("/applications", Role.TRAINEE, body)["application_id"]
    session = {"occupation_code": MANUFACTURING, "level": "junior"}
    session |= {"held_on": "2026-12-05", "place": "菏泽学院"}
    session_id = served.created("/sessions", Role.EVALUATION_INSTITUTION, session)["session_id"]
    served.ids |= {
        "institution_id": evaluator,
        "occupation_code": MANUFACTURING,
        "application_id": application_id,
        "session_id": session_id,
        "trainee_id": str(TRAINEE_ID),
        "aggregate_id": application_id,
    }


def application(**overrides: Any) -> dict[str, Any]:
    body = {
        "evaluation_institution_id": str(uuid4()),
        "occupation_code": MANUFACTURING,
        "level": "junior",
        "declaration": {"education": "bachelor", "major_relevant": True},
        "commitment_text": "本人承诺所填报的信息真实、准确。",
        "commitment_signed": True,
    }
    return body | overrides


def certification_records(served: Served) -> None:
    evaluator = uuid4()
    served.organisations[Role.EVALUATION_INSTITUTION] = evaluator
    subject = CaseSubject(
        trainee_id=TRAINEE_ID,
        application_id=uuid4(),
        evaluation_institution_id=evaluator,
        occupation_code=MANUFACTURING,
        field=Field.INTELLIGENT_MANUFACTURING,
        level=Level.JUNIOR,
    )
    case = CertificateCase.open(subject, "沙和尚", NOW.date())
    served.application.save(case)
    served.ids |= {
        "case_id": str(case.id),
        "aggregate_id": str(case.id),
        "trainee_id": str(TRAINEE_ID),
        "year": str(NOW.year),
    }


def subsidy_records(served: Served) -> None:
    programme_id, institution, employer = uuid4(), uuid4(), uuid4()
    served.organisations |= {Role.TRAINING_INSTITUTION: institution, Role.EMPLOYER: employer}
    beneficiary = Beneficiary.open(TRAINEE_ID)
    enrolment = Enrolment(programme_id, institution, BIG_DATA, Level.JUNIOR, True)
    beneficiary.learn_enrolment(enrolment)
    served.application.save(beneficiary)
    claim = {"programme_id": str(programme_id), "occupation_code": BIG_DATA, "level": "junior"}
    claim_id = served.created("/claims", Role.TRAINEE, claim)["claim_id"]
    served.ids |= {
        "claim_id": claim_id,
        "aggregate_id": claim_id,
        "trainee_id": str(TRAINEE_ID),
        "employer_id": str(employer),
        "month": NOW.strftime("%Y-%m"),
    }


RECORDS: dict[str, Callable[[Served], None]] = {
    "enrollment": enrollment_records,
    "assessment": assessment_records,
    "certification": certification_records,
    "subsidy": subsidy_records,
}


@pytest.fixture(scope="module", autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


class Services:
    """Starts each service a test asks for, with its records, on a database of its own (for the
    module: `new_database` is per test); the one before stops, so one runs at a time."""

    def __init__(self, admin_dsn: str, kafka_bootstrap_servers: str):
        self.admin_dsn = admin_dsn
        self.kafka_bootstrap_servers = kafka_bootstrap_servers
        self.running: tuple[str, Served] | None = None
        self.stack = ExitStack()

    def __call__(self, service: str) -> Served:
        if self.running is None or self.running[0] != service:
            self.stop()
            self.running = service, self.stack.enter_context(self.started(service))
        return self.running[1]

    def stop(self) -> None:
        self.stack.close()
        self.running = None

    @contextmanager
    def started(self, service: str) -> Iterator[Served]:
        definition = DEFINITIONS[service]
        with fresh_database(self.admin_dsn, "test_fuzz") as database_url:
            app_settings = service_settings(
                type(definition().settings),
                database_url=database_url,
                kafka_bootstrap_servers=self.kafka_bootstrap_servers,
                kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
                **({"verify_requests_per_minute": 1_000_000} if service == "certification" else {}),
            )
            app = create_app(definition(app_settings))
            schema = schemathesis.openapi.from_dict(app.openapi(), config=GENERATION)
            tokens = Tokens(TokenIssuer(app_settings))
            with (
                start_blocking_portal() as portal,
                portal.wrap_async_context_manager(running(app)) as http,
            ):
                served = Served(schema, portal, http, tokens, app)
                RECORDS[service](served)
                yield served


@pytest.fixture(scope="module")
def services(postgres_admin_dsn: str, kafka_bootstrap_servers: str) -> Iterator[Services]:
    started = Services(postgres_admin_dsn, kafka_bootstrap_servers)
    yield started
    started.stop()


def has_inputs(operation: Any) -> bool:
    parameters = (operation.path_parameters, operation.query, operation.headers, operation.body)
    return any(len(inputs) for inputs in parameters)


def fuzz(served: Served, operation: Any, mode: GenerationMode) -> str | None:
    """Send the operation's generated requests, each with a token of a role that may call it
    (positive ones also on the real records); the minimal failing request and what it broke."""
    roles = [Role(name) for name in operation.definition.raw.get("x-roles", [])] or list(Role)
    cases = operation.as_strategy(generation_mode=mode)
    known = {p.name: served.ids[p.name] for p in operation.path_parameters if p.name in served.ids}
    if known and mode.is_positive:
        cases |= operation.as_strategy(generation_mode=mode, path_parameters=known)

    @FUZZING
    @given(case=cases, role=st.sampled_from(roles))
    def requests_to_operation(case: schemathesis.Case, role: Role) -> None:
        sent = case.as_transport_kwargs(base_url=str(served.http.base_url))
        sent["headers"].update(served.headers(role))
        content = {"content": sent["data"]} if "data" in sent else {"json": sent.get("json")}
        response = served.request(
            sent["method"], sent["url"], params=sent["params"], headers=sent["headers"], **content
        )
        case.validate_response(response, checks=CHECKS, headers=sent["headers"])

    try:
        requests_to_operation()
    # Failures are exception groups; every operation is fuzzed and the report names all that fail.
    except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001
        return f"{mode.value} {operation.label}: {failure}"
    return None


def unpublished(served: Served) -> int:
    """Public events the outbox relay has not published: one it cannot publish blocks the rest."""
    relay = served.app.state.relay
    position, _ = relay.positions.load_with_cluster(relay.topic)
    recorder, topics = served.application.recorder, relay.mapper.domain_topics
    return len(recorder.select_notifications(position + 1, 1000, None, topics))


@dataclass(frozen=True)
class Write:
    service: str
    path: str
    role: Role
    body: Callable[..., dict[str, Any]]
    """A valid body, with the given fields replaced."""


def session(**overrides: Any) -> dict[str, Any]:
    body = {"occupation_code": MANUFACTURING, "level": "junior", "held_on": "2026-12-05"}
    return body | {"place": "菏泽学院"} | overrides


def claim(**overrides: Any) -> dict[str, Any]:
    body = {"programme_id": str(uuid4()), "occupation_code": BIG_DATA, "level": "junior"}
    return body | overrides


WRITES = {
    "registration": Write("enrollment", "/trainees", Role.TRAINEE, registration),
    "programme": Write("enrollment", "/programmes", Role.TRAINING_INSTITUTION, programme),
    "application": Write("assessment", "/applications", Role.TRAINEE, application),
    "session": Write("assessment", "/sessions", Role.EVALUATION_INSTITUTION, session),
    "claim": Write("subsidy", "/claims", Role.TRAINEE, claim),
}
LONG = 10_000
EMOJI = "😀"
NASTY_INPUTS = [  # grouped by service, so each service starts once for them
    ("registration", "name", f"张{EMOJI}"),
    ("registration", "name", "👨‍👩‍👧"),  # a family: emoji joined by zero-width joiners
    ("registration", "name", "王" * LONG),
    ("registration", "name", " "),
    ("registration", "major", "数" * LONG),
    ("registration", "employer", "菏" * LONG),
    ("registration", "birth_date", "2026-02-30"),
    ("registration", "birth_date", "2026-13-01"),
    ("registration", "birth_date", ""),
    ("registration", "birth_date", 0),
    ("registration", "id_number", "371702199501011018"),  # the check character should be 2
    ("registration", "id_number", "37170219950101101"),  # 17 characters
    ("registration", "id_number", "3717021995O1011012"),  # a letter O for a zero
    ("registration", "id_number", "ABCDEFGHIJKLMNOPQR"),
    ("registration", "id_number", "1" * LONG),
    ("programme", "title", "大" * LONG),
    ("programme", "starts_on", "2026-02-30"),
    ("programme", "ends_on", "2026-13-01"),
    ("programme", "starts_on", ""),
    ("programme", "occupation_code", "２-02-10-11"),  # a full-width digit
    ("programme", "occupation_code", f"2-02-10-11{EMOJI}"),
    ("application", "commitment_text", "承" * LONG),
    ("application", "evaluation_institution_id", "not-a-uuid"),
    ("application", "occupation_code", f"2-02-07-13{EMOJI}"),
    ("application", "declaration.education", "超级博士"),
    ("session", "held_on", "2026-02-30"),
    ("session", "held_on", "2026-13-01"),
    ("session", "held_on", ""),
    ("session", "place", "菏" * LONG),
    ("claim", "programme_id", "12345"),
    ("claim", "occupation_code", "２-02-10-11"),
    ("claim", "level", "大师"),
    ("claim", "trainee_id", EMOJI),
]
RARE_NAMES = ["王𠀀明", "李䶮", "龘", "𠀀", "欧阳𪚥", "买买提·艾力"]
"""𠀀 U+20000 and 𪚥 U+2A6A5 (extension B, four bytes in UTF-8), 䶮 U+4DAE (extension A)."""


def replaced(body: dict[str, Any], dotted_field: str, value: Any) -> dict[str, Any]:
    name, _, rest = dotted_field.partition(".")
    return body | {name: replaced(body[name], rest, value) if rest else value}


@pytest.mark.parametrize("name", RARE_NAMES)
def test_rare_character_names_round_trip_exactly_in_utf8(services: Services, name: str) -> None:
    served = services("enrollment")
    trainee_id = served.created("/trainees", Role.TRAINEE, registration(name=name))["trainee_id"]
    response = served.send("GET", f"/trainees/{trainee_id}", Role.CITY_BUREAU)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == name
    assert name.encode() in response.content


def test_free_text_keeps_emoji_and_rare_characters_exactly(services: Services) -> None:
    served = services("enrollment")
    title = f"大数据{EMOJI}𠀀䶮班"
    created = served.created("/programmes", Role.TRAINING_INSTITUTION, programme(title=title))
    response = served.send("GET", f"/programmes/{created['id']}", Role.CITY_BUREAU)
    assert response.json()["title"] == title


@pytest.mark.parametrize(
    ("write", "field_name", "value"),
    NASTY_INPUTS,
    ids=[f"{write}-{name}-{str(value)[:12]}" for write, name, value in NASTY_INPUTS],
)
def test_bad_input_is_refused_with_422_naming_the_field(
    services: Services, write: str, field_name: str, value: Any
) -> None:
    target = WRITES[write]
    body = replaced(target.body(), field_name, value)
    response = services(target.service).send("POST", target.path, target.role, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field_name, response.text


@pytest.mark.parametrize("service", ["subsidy", "certification", "enrollment", "assessment"])
def test_no_operation_answers_a_server_error_or_breaks_its_documented_schema(
    services: Services, service: str
) -> None:
    served = services(service)
    operations = [result.ok() for result in served.schema.get_all_operations()]
    failures = [
        failure
        for operation in operations
        for mode in GenerationMode
        if (mode.is_positive or has_inputs(operation))  # else no request could be invalid
        and (failure := fuzz(served, operation, mode))
    ]
    assert len(operations) > 15
    assert not failures, "\n\n".join(failures)
    deadline = time.monotonic() + 10
    while unpublished(served) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert unpublished(served) == 0, "an accepted command left an event the relay cannot publish"
