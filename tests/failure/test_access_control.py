"""Access control of every HTTP operation of every service, for every role, acting on its own
records and on someone else's (the table is in `access_table`), and bearer tokens that must be
refused: expired, unsigned, signed with another key, or missing what a token must carry.

Each service runs once for the module against its own PostgreSQL database, with a few real
records (a programme, a trainee, an application, a case, a claim) whose ids fill the paths."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import jwt
import pytest
from assessment_builders import a_candidate
from fastapi import FastAPI
from httpx import AsyncClient, Response

from heze_assessment.main import definition as assessment_definition
from heze_assessment.settings import AssessmentSettings
from heze_certification.commands import ApproveCase, ConfirmCase, IssueCertificate, ReportCase
from heze_certification.domain.case import CaseSubject, CertificateCase
from heze_certification.domain.talent import TalentRecord
from heze_certification.main import definition as certification_definition
from heze_certification.settings import CertificationSettings
from heze_common import clock
from heze_common.auth import ORGANISATION_ROLES, Principal, TokenIssuer
from heze_common.eventstore import ServiceApplication
from heze_common.runtime import ServiceDefinition, create_app
from heze_common.settings import ServiceSettings
from heze_common.testing import Tokens, fresh_database, running, service_settings
from heze_contracts.enums import Field, Level, Role
from heze_enrollment.domain.counties import county_id
from heze_enrollment.domain.institution import Institution
from heze_enrollment.main import definition as enrollment_definition
from heze_enrollment.settings import EnrollmentSettings
from heze_subsidy.domain.beneficiary import Beneficiary, Enrolment
from heze_subsidy.main import definition as subsidy_definition
from heze_subsidy.settings import SubsidySettings
from tests.failure.access_table import (
    CITY,
    COUNTY,
    EMPLOYER,
    EVALUATOR,
    FROZEN_AT,
    INSTITUTION,
    OCCUPATION_BIG_DATA,
    OCCUPATION_MANUFACTURING,
    OWNERSHIP_REFUSALS,
    PROVINCE,
    SCOPED_ROLES,
    TABLES,
    TRAINEE,
    Cell,
    Expect,
    cells,
)

UPC = Institution.create_id("中国石油大学(华东)")  # big data, blockchain
OUC = Institution.create_id("中国海洋大学")  # big data
LDU = Institution.create_id("鲁东大学")  # intelligent manufacturing

SERVICES: dict[str, tuple[type[ServiceSettings], Callable[..., ServiceDefinition]]] = {
    "enrollment": (EnrollmentSettings, enrollment_definition),
    "assessment": (AssessmentSettings, assessment_definition),
    "certification": (CertificationSettings, certification_definition),
    "subsidy": (SubsidySettings, subsidy_definition),
}

Identity = UUID | str
"""An organisation id (organisation-scoped roles) or a token subject (trainees)."""


@dataclass
class Setup:
    """What a service's world holds: ids for the templates, and who owns those records."""

    ids: dict[str, str]
    owners: dict[Role, Identity]
    others: dict[Role, Identity] = field(default_factory=dict)
    """Real other parties where the service knows some; the rest get ids of their own."""


@dataclass
class World:
    app: FastAPI
    http: AsyncClient
    tokens: Tokens
    settings: ServiceSettings
    setup: Setup

    def identity(self, role: Role, owner: bool) -> Identity:
        parties = self.setup.owners if owner else self.setup.others
        return parties[role]

    def headers(self, role: Role, owner: bool | None, body: Any = None) -> dict[str, str]:
        """A token of `role`; a trainee's vouches for the ID number the body registers, as the
        identity provider's does for the person signed in."""
        if role in ORGANISATION_ROLES:
            return self.tokens(role, organisation_id=self.identity(role, bool(owner)))
        if role is TRAINEE:
            registers = body.get("id_number") if isinstance(body, dict) else None
            return self.tokens(
                role, subject=str(self.identity(role, bool(owner))), verified_id_number=registers
            )
        return self.tokens(role)

    async def call(self, cell: Cell) -> Response:
        rule = cell.rule
        body = fill(rule.body, self.setup.ids)
        return await self.http.request(
            cell.method,
            fill(cell.path, self.setup.ids),
            params=fill(rule.query, self.setup.ids),
            json=body,
            headers={} if cell.role is None else self.headers(cell.role, cell.owner, body),
        )


def fill(template: Any, ids: Mapping[str, str]) -> Any:
    if isinstance(template, str):
        return template.format_map(ids)
    if isinstance(template, list):
        return [fill(item, ids) for item in template]
    if isinstance(template, dict):
        return {key: fill(value, ids) for key, value in template.items()}
    return template


def body_of(response: Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


async def saved(application: ServiceApplication, *aggregates: Any) -> None:
    """Records the services learn from upstream events, stored without going through Kafka."""
    await asyncio.to_thread(application.save, *aggregates)


async def enrollment_world(
    http: AsyncClient, tokens: Tokens, application: ServiceApplication
) -> Setup:
    account, county = "account-own", "曹县"
    programme = body_of(
        await http.post(
            "/programmes",
            json={
                "occupation_code": OCCUPATION_BIG_DATA,
                "level": "junior",
                "title": "大数据工程技术人员（初级）第一期",
                "capacity": 30,
                "starts_on": "2026-11-01",
                "ends_on": "2027-01-31",
            },
            headers=tokens(INSTITUTION, UPC),
        ),
        201,
    )["id"]
    id_number = "371702199501011012"
    person = {
        "name": "测试学员一",
        "id_number": id_number,
        "phone": "13800000001",
        "education": "bachelor",
        "major": "数据科学与大数据技术",
        "county": county,
        "participant_category": "graduating_student",
    }
    trainee = body_of(
        await http.post(
            "/trainees",
            json=person,
            headers=tokens.trainee_verified_as(id_number, subject=account),
        ),
        201,
    )["trainee_id"]
    # The owner institution registers the person too, with their consent: it may enrol them.
    again = await http.post(
        "/trainees", json={**person, "person_consents": True}, headers=tokens(INSTITUTION, UPC)
    )
    assert body_of(again, 201) == {"trainee_id": trainee}
    body_of(
        await http.post(
            f"/trainees/{trainee}/enrolments",
            json={"programme_id": programme},
            headers=tokens(TRAINEE, subject=account),
        ),
        201,
    )
    return Setup(
        ids={
            "institution_id": str(OUC),  # the directory's changes leave the world's owner alone
            "code": OCCUPATION_BIG_DATA,
            "level": "junior",
            "programme_id": programme,
            "trainee_id": trainee,
            "aggregate_id": trainee,
            "id_number": id_number,
            "county": county,
        },
        owners={INSTITUTION: UPC, COUNTY: county_id(county), TRAINEE: account},
        others={INSTITUTION: LDU, COUNTY: county_id("单县"), TRAINEE: "account-other"},
    )


async def assessment_world(
    http: AsyncClient, tokens: Tokens, application: ServiceApplication
) -> Setup:
    async def evaluation_institution(name: str) -> str:
        response = await http.post(
            "/evaluation-institutions",
            json={
                "name": name,
                "occupations": {OCCUPATION_MANUFACTURING: "intelligent_manufacturing"},
            },
            headers=tokens(PROVINCE),
        )
        return body_of(response, 201)["id"]

    own, other, spare = [
        await evaluation_institution(name) for name in ("评价中心甲", "评价中心乙", "评价中心丙")
    ]
    trainee = uuid4()
    candidate = a_candidate(trainee)
    candidate.record_completion(
        OCCUPATION_MANUFACTURING, Level.JUNIOR, "HZPX2026-2020713-000001", date(2026, 11, 20)
    )
    await saved(application, candidate)
    application_id = body_of(
        await http.post(
            "/applications",
            json={
                "evaluation_institution_id": own,
                "occupation_code": OCCUPATION_MANUFACTURING,
                "level": "junior",
                "declaration": {"education": "bachelor", "major_relevant": True},
                "commitment_text": "本人承诺所填报的信息真实、准确。",
                "commitment_signed": True,
            },
            headers=tokens(TRAINEE, subject=str(trainee)),
        ),
        201,
    )["application_id"]
    session = body_of(
        await http.post(
            "/sessions",
            json={
                "occupation_code": OCCUPATION_MANUFACTURING,
                "level": "junior",
                "held_on": "2026-12-05",
                "place": "菏泽学院",
            },
            headers=tokens(EVALUATOR, UUID(own)),
        ),
        201,
    )["session_id"]
    return Setup(
        ids={
            "institution_id": spare,  # suspensions leave the world's evaluation institution alone
            "evaluation_institution_id": own,
            "occupation_code": OCCUPATION_MANUFACTURING,
            "application_id": application_id,
            "session_id": session,
            "trainee_id": str(trainee),
            "aggregate_id": application_id,
        },
        owners={EVALUATOR: UUID(own), TRAINEE: str(trainee)},
        others={EVALUATOR: UUID(other)},
    )


async def certification_world(
    http: AsyncClient, tokens: Tokens, application: ServiceApplication
) -> Setup:
    evaluator, trainee = uuid4(), uuid4()

    def a_case() -> CertificateCase:
        subject = CaseSubject(
            trainee_id=trainee,
            application_id=uuid4(),
            evaluation_institution_id=evaluator,
            occupation_code=OCCUPATION_MANUFACTURING,
            field=Field.INTELLIGENT_MANUFACTURING,
            level=Level.JUNIOR,
        )
        return CertificateCase.open(subject, "沙和尚", date(2026, 11, 20))

    open_case, issued_case = a_case(), a_case()
    holder = TalentRecord.open(trainee)  # whose name and ID number the certificate carries
    holder.learn_person("沙和尚", "11010519491231002X", "东明县", True, date(2026, 11, 20))
    await saved(application, open_case, issued_case, holder)

    def issue() -> str:
        assessor = Principal(
            subject="assessor", role=Role.EVALUATION_INSTITUTION, organisation_id=evaluator
        )
        case_id = issued_case.id
        application.handle(ReportCase(principal=assessor, case_id=case_id))
        province = Principal(subject="province-officer", role=Role.PROVINCIAL_DEPARTMENT)
        application.handle(ConfirmCase(principal=province, case_id=case_id))
        national = Principal(subject="national-officer", role=Role.NATIONAL_OFFICE)
        application.handle(ApproveCase(principal=national, case_id=case_id))
        issued = application.handle(IssueCertificate(principal=assessor, case_id=case_id))
        return issued.certificate_number

    number = await asyncio.to_thread(issue)
    return Setup(
        ids={
            "case_id": str(open_case.id),
            "aggregate_id": str(open_case.id),
            "trainee_id": str(trainee),
            "evaluation_institution_id": str(evaluator),
            "number": number,
            "year": "2030",
            "body_id": str(evaluator),
            "purpose": "revocation",
            "list_name": "2026-0",
        },
        owners={EVALUATOR: evaluator, TRAINEE: str(trainee)},
    )


async def subsidy_world(
    http: AsyncClient, tokens: Tokens, application: ServiceApplication
) -> Setup:
    trainee, programme, institution, employer = uuid4(), uuid4(), uuid4(), uuid4()
    policy = {"policy": {"institutions_may_claim": True}, "effective_from": "2026-01-01"}
    body_of(await http.put("/policy", json=policy, headers=tokens(CITY)), 200)
    beneficiary = Beneficiary.open(trainee)
    beneficiary.learn_enrolment(
        Enrolment(programme, institution, OCCUPATION_BIG_DATA, Level.JUNIOR, True)
    )
    await saved(application, beneficiary)
    claim = body_of(
        await http.post(
            "/claims",
            json={
                "programme_id": str(programme),
                "occupation_code": OCCUPATION_BIG_DATA,
                "level": "junior",
            },
            headers=tokens(TRAINEE, subject=str(trainee)),
        ),
        201,
    )["claim_id"]
    body_of(
        await http.post(
            "/reimbursements",
            json={"trainee_id": str(trainee), "programme_id": str(programme), "amount_fen": 1},
            headers=tokens(EMPLOYER, employer),
        ),
        201,
    )
    return Setup(
        ids={
            "claim_id": claim,
            "aggregate_id": claim,
            "trainee_id": str(trainee),
            "programme_id": str(programme),
            "institution_id": str(institution),
            "employer_id": str(employer),
            "month": "2026-11",
        },
        owners={INSTITUTION: institution, EMPLOYER: employer, TRAINEE: str(trainee)},
    )


WORLDS: dict[str, Callable[[AsyncClient, Tokens, ServiceApplication], Awaitable[Setup]]] = {
    "enrollment": enrollment_world,
    "assessment": assessment_world,
    "certification": certification_world,
    "subsidy": subsidy_world,
}


@pytest.fixture(scope="module", autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen_at(FROZEN_AT):
        yield


class Worlds:
    """The services, each started on first use and kept running for the rest of the module."""

    def __init__(self, admin_dsn: str, bootstrap_servers: str, stack: contextlib.AsyncExitStack):
        self.admin_dsn = admin_dsn
        self.bootstrap_servers = bootstrap_servers
        self.stack = stack
        self.started: dict[str, World] = {}

    async def __call__(self, service: str) -> World:
        if service not in self.started:
            self.started[service] = await self.start(service)
        return self.started[service]

    async def start(self, service: str) -> World:
        settings_class, definition = SERVICES[service]
        settings = service_settings(
            settings_class,
            database_url=self.stack.enter_context(fresh_database(self.admin_dsn, "test_access")),
            kafka_bootstrap_servers=self.bootstrap_servers,
            kafka_topic_prefix=f"t{uuid4().hex[:10]}.",
        )
        app = create_app(definition(settings))
        http = await self.stack.enter_async_context(running(app))
        tokens = Tokens(TokenIssuer(settings))
        setup = await WORLDS[service](http, tokens, app.state.application)
        for role in SCOPED_ROLES:  # parties that own nothing here are strangers both ways
            setup.owners.setdefault(role, uuid4())
            setup.others.setdefault(role, uuid4())
        return World(app, http, tokens, settings, setup)


@pytest.fixture(scope="module")
async def worlds(postgres_admin_dsn: str, kafka_bootstrap_servers: str) -> AsyncIterator[Worlds]:
    # One fixture for all services: a parametrized module fixture would restart per cell.
    async with contextlib.AsyncExitStack() as stack:
        yield Worlds(postgres_admin_dsn, kafka_bootstrap_servers, stack)


ALL_CELLS = list(cells())


@pytest.mark.parametrize("cell", ALL_CELLS, ids=str)
async def test_only_the_allowed_cells_get_through(worlds: Worlds, cell: Cell) -> None:
    world = await worlds(cell.service)
    response = await world.call(cell)
    status, text = response.status_code, response.text
    match cell.expect:
        case Expect.REFUSED_ROLE:
            assert status == 403, text
            assert response.json()["error"]["code"] == "role_not_allowed", text
        case Expect.REFUSED_CALLER:
            assert status == 401, text
            assert response.json()["error"]["code"] == "invalid_call_token", text
        case Expect.REFUSED_OWNER:
            assert status == 403, text
            assert response.json()["error"]["code"] in OWNERSHIP_REFUSALS, text
        case Expect.LISTED_WITHOUT_RECORD:
            assert 200 <= status < 300, text
            assert world.setup.ids[cell.rule.listed_record] not in text
        case Expect.ALLOWED:
            assert status not in (401, 403) and status < 500, text
            if cell.rule.public:
                assert status == 200, text


HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.mark.parametrize("service", list(TABLES))
async def test_the_table_lists_exactly_the_operations_the_service_documents(
    worlds: Worlds, service: str
) -> None:
    world = await worlds(service)
    documented = {
        (method.upper(), path)
        for path, item in world.app.openapi()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    listed = {operation for operation, rule in TABLES[service].items() if rule.documented}
    assert sorted(documented - listed) == [], "operations the access table does not list"
    assert sorted(listed - documented) == [], "operations the service no longer has"


REPRESENTATIVE = {
    "enrollment": ("/registrations", CITY),
    "assessment": ("/applications", PROVINCE),
    "certification": ("/cases", PROVINCE),
    "subsidy": ("/claims", CITY),
}
"""One protected operation of each service, and a role it admits."""


def a_token(
    settings: ServiceSettings,
    role: str = CITY,
    *,
    secret: str | None = None,
    algorithm: str = "HS256",
    without: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    """A token like the services' issuer mints, changed as the case needs."""
    issued = datetime.now(UTC)
    content: dict[str, Any] = {
        "sub": "tester",
        "role": str(role),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "exp": issued + timedelta(minutes=5),
        **claims,
    }
    for name in without:
        del content[name]
    key = None if algorithm == "none" else secret or settings.resolved_jwt_secret()
    return jwt.encode(content, key, algorithm=algorithm)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def expired(settings: ServiceSettings) -> str:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    return a_token(settings, iat=an_hour_ago, exp=an_hour_ago + timedelta(minutes=5))


REFUSED_CREDENTIALS: dict[str, tuple[Callable[[ServiceSettings], str | None], str]] = {
    "no-authorization-header": (lambda s: None, "missing_token"),
    "basic-scheme": (lambda s: "Basic dGVzdGVyOnNlY3JldA==", "missing_token"),
    "garbage": (lambda s: bearer("not.a.token"), "invalid_token"),
    "expired": (lambda s: bearer(expired(s)), "token_expired"),
    "unsigned-alg-none": (lambda s: bearer(a_token(s, algorithm="none")), "invalid_token"),
    "another-secret": (
        lambda s: bearer(a_token(s, secret="another-secret-of-at-least-32-bytes!!")),
        "invalid_token",
    ),
    "same-secret-other-algorithm": (
        lambda s: bearer(a_token(s, algorithm="HS512")),
        "invalid_token",
    ),
    "missing-role": (lambda s: bearer(a_token(s, without=("role",))), "invalid_token"),
    "missing-sub": (lambda s: bearer(a_token(s, without=("sub",))), "invalid_token"),
    "missing-exp": (lambda s: bearer(a_token(s, without=("exp",))), "invalid_token"),
    "missing-iat": (lambda s: bearer(a_token(s, without=("iat",))), "invalid_token"),
    "unknown-role": (lambda s: bearer(a_token(s, role="mayor")), "invalid_token"),
    "wrong-audience": (lambda s: bearer(a_token(s, aud="another-audience")), "invalid_token"),
    "wrong-issuer": (lambda s: bearer(a_token(s, iss="another-issuer")), "invalid_token"),
    "not-yet-valid": (
        lambda s: bearer(a_token(s, nbf=datetime.now(UTC) + timedelta(hours=1))),
        "invalid_token",
    ),
    "organisation-role-without-org": (
        lambda s: bearer(a_token(s, INSTITUTION)),
        "invalid_token",
    ),
    "malformed-org": (lambda s: bearer(a_token(s, INSTITUTION, org="UPC")), "invalid_token"),
}


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512 on purpose
@pytest.mark.parametrize("credentials", list(REFUSED_CREDENTIALS))
@pytest.mark.parametrize("service", list(REPRESENTATIVE))
async def test_bad_credentials_are_401_with_a_precise_code(
    worlds: Worlds, service: str, credentials: str
) -> None:
    world = await worlds(service)
    path, role = REPRESENTATIVE[service]
    valid = await world.http.get(
        path, headers={"Authorization": bearer(a_token(world.settings, role))}
    )
    assert valid.status_code == 200, valid.text  # the same request with a sound token passes
    make, code = REFUSED_CREDENTIALS[credentials]
    authorization = make(world.settings)
    response = await world.http.get(
        path, headers={} if authorization is None else {"Authorization": authorization}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (401, code), response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_trainee_token_that_names_no_trainee_lists_no_claims(worlds: Worlds) -> None:
    world = await worlds("subsidy")
    response = await world.http.get("/claims", headers=world.tokens(TRAINEE, subject="account-7"))
    assert (response.status_code, response.json()["error"]["code"]) == (403, "no_trainee_id")


async def test_a_county_bureau_token_of_no_county_reads_no_registrations(worlds: Worlds) -> None:
    world = await worlds("enrollment")
    response = await world.http.get("/registrations", headers=world.tokens(COUNTY, uuid4()))
    assert (response.status_code, response.json()["error"]["code"]) == (403, "not_a_county")
