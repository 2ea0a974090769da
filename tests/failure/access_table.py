"""Who may call every HTTP operation of every service: the table the access-control test checks.

Each operation names the roles allowed on any record (`anyone`), the roles allowed only on
their own records (`own`: another organisation's, or another trainee's, is refused with 403)
and the roles whose listing shows only their own records (`own_listed`). Every other role is
refused with 403 `role_not_allowed`. Path parameters, query values and bodies are templates
filled with the ids of the records each service's test world sets up (`{trainee_id}`, ...).
Cells run in table order, so commands that end a record's active life (withdrawal, voiding)
come after those that need it active: most allowed cells then succeed rather than answer 409.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from heze_common.auth import ORGANISATION_ROLES
from heze_contracts.enums import Role

CITY = Role.CITY_BUREAU
COUNTY = Role.COUNTY_BUREAU
INSTITUTION = Role.TRAINING_INSTITUTION
TRAINEE = Role.TRAINEE
EVALUATOR = Role.EVALUATION_INSTITUTION
PROVINCE = Role.PROVINCIAL_DEPARTMENT
NATIONAL = Role.NATIONAL_OFFICE
EMPLOYER = Role.EMPLOYER
AUDITOR = Role.AUDITOR
EVERY_ROLE = tuple(Role)

SCOPED_ROLES = ORGANISATION_ROLES | {TRAINEE}
"""Roles whose records belong to someone: each is tried as the record's owner and as another."""

OWNERSHIP_REFUSALS = frozenset(
    {
        "other_organisation",
        "other_county",
        "not_your_trainee",
        "not_your_application",
        "not_your_claim",
        "not_your_record",
        "not_your_certificate",
    }
)
"""The codes of a 403 for a record (or a listing) that belongs to someone else."""

OCCUPATION_BIG_DATA = "2-02-10-11"
OCCUPATION_MANUFACTURING = "2-02-07-13"
FROZEN_AT = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
"""The services' clock during the test: every record of the worlds is stamped with it."""


@dataclass(frozen=True)
class Rule:
    anyone: frozenset[Role] = frozenset()
    own: frozenset[Role] = frozenset()
    own_listed: frozenset[Role] = frozenset()
    listed_record: str | None = None
    """The id (a template name) a listing for another owner must not contain."""
    public: bool = False
    documented: bool = True
    """False for what FastAPI serves outside the OpenAPI document (docs, metrics)."""
    service_call: bool = False
    """Another service's call (`heze_common.service_calls`): no person's token is believed."""
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None


def allowed(
    *anyone: Role,
    own: tuple[Role, ...] = (),
    own_listed: tuple[Role, ...] = (),
    listed_record: str | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
) -> Rule:
    return Rule(
        anyone=frozenset(anyone),
        own=frozenset(own),
        own_listed=frozenset(own_listed),
        listed_record=listed_record,
        query=query or {},
        body=body,
    )


def service_call() -> Rule:
    return Rule(service_call=True)


def public(*, documented: bool = True, query: dict[str, str] | None = None) -> Rule:
    return Rule(public=True, documented=documented, query=query or {})


Table = dict[tuple[str, str], Rule]

EVERY_SERVICE: Table = {
    ("GET", "/health/live"): public(),
    ("GET", "/health/ready"): public(),
    ("GET", "/asyncapi.json"): public(),
    ("GET", "/metrics"): public(documented=False),
    ("GET", "/openapi.json"): public(documented=False),
    ("GET", "/docs"): public(documented=False),
    ("GET", "/docs/oauth2-redirect"): public(documented=False),
    ("GET", "/redoc"): public(documented=False),
    ("GET", "/audit/checkpoints"): allowed(AUDITOR),
    ("GET", "/audit/trail/{trainee_id}"): allowed(AUDITOR),
    ("GET", "/audit/orphans"): allowed(AUDITOR),
    ("GET", "/audit/aggregates/{aggregate_id}"): allowed(AUDITOR),
    ("GET", "/audit/aggregates/{aggregate_id}/difference"): allowed(
        AUDITOR, query={"before": FROZEN_AT.isoformat(), "after": "2026-12-31T00:00:00+00:00"}
    ),
    ("POST", "/audit/read-models/rebuild"): allowed(AUDITOR),
    ("POST", "/audit/verification"): allowed(AUDITOR),
}


ENROLLMENT: Table = {
    **EVERY_SERVICE,
    ("GET", "/institutions"): allowed(*EVERY_ROLE),
    ("POST", "/institutions"): allowed(
        CITY,
        body={
            "name": "菏泽学院",
            "fields": ["big_data"],
            "contact_name": "甲",
            "contact_phone": "0530-1234567",
        },
    ),
    ("GET", "/institutions/{institution_id}"): allowed(*EVERY_ROLE),
    ("PUT", "/institutions/{institution_id}/scope"): allowed(CITY, body={"fields": ["big_data"]}),
    ("POST", "/institutions/{institution_id}/suspension"): allowed(
        CITY, body={"reason": "年度检查不合格"}
    ),
    ("DELETE", "/institutions/{institution_id}/suspension"): allowed(CITY),
    ("PUT", "/institutions/{institution_id}/city-directory"): allowed(CITY, body={"listed": True}),
    ("GET", "/occupations"): allowed(*EVERY_ROLE),
    ("PUT", "/occupations/{code}"): allowed(
        CITY,
        body={"field": "big_data", "name": "大数据工程技术人员", "effective_from": "2026-01-01"},
    ),
    ("PUT", "/occupations/{code}/hour-requirements/{level}"): allowed(
        CITY, body={"hours": {"theory": 8, "practice": 4}, "effective_from": "2026-01-01"}
    ),
    # An institution publishes for itself: the token's organisation is the owner by construction.
    ("POST", "/programmes"): allowed(
        INSTITUTION,
        body={
            "occupation_code": OCCUPATION_BIG_DATA,
            "level": "junior",
            "title": "大数据工程技术人员（初级）第二期",
            "capacity": 30,
            "starts_on": "2026-11-01",
            "ends_on": "2027-01-31",
        },
    ),
    ("GET", "/programmes"): allowed(*EVERY_ROLE),
    ("GET", "/programmes/{programme_id}"): allowed(*EVERY_ROLE),
    ("POST", "/programmes/{programme_id}/closure"): allowed(own=(INSTITUTION,)),
    ("PUT", "/programmes/{programme_id}/city-plan"): allowed(
        CITY, body={"subsidised_plan": True, "in_city_training_directory": True}
    ),
    ("GET", "/programmes/{programme_id}/roster"): allowed(CITY, AUDITOR, own=(INSTITUTION,)),
    ("POST", "/trainees"): allowed(
        TRAINEE,
        INSTITUTION,
        body={
            "name": "测试学员二",
            "id_number": "371702199501011055",
            "phone": "13800000002",
            "education": "bachelor",
            "major": "数据科学与大数据技术",
            "county": "曹县",
            "participant_category": "graduating_student",
            "person_consents": True,
        },
    ),
    ("GET", "/trainees/{trainee_id}"): allowed(CITY, AUDITOR, own=(COUNTY, INSTITUTION, TRAINEE)),
    ("GET", "/internal/holders/{trainee_id}"): service_call(),
    ("GET", "/trainees/{trainee_id}/enrolments/{programme_id}/credential"): allowed(
        CITY, AUDITOR, own=(COUNTY, INSTITUTION, TRAINEE)
    ),
    ("GET", "/public/issuers/{institution_id}"): public(),
    ("POST", "/trainees/{trainee_id}/enrolments"): allowed(
        own=(TRAINEE, INSTITUTION), body={"programme_id": "{programme_id}"}
    ),
    ("POST", "/programmes/{programme_id}/trainees/{trainee_id}/sessions"): allowed(
        own=(INSTITUTION,),
        body={"date": "2026-11-20", "hours": 4, "kind": "theory", "mode": "online"},
    ),
    ("PUT", "/programmes/{programme_id}/trainees/{trainee_id}/exam"): allowed(
        own=(INSTITUTION,), body={"score": 80}
    ),
    ("POST", "/programmes/{programme_id}/trainees/{trainee_id}/completion"): allowed(
        own=(INSTITUTION,)
    ),
    ("POST", "/trainees/{trainee_id}/enrolments/{programme_id}/withdrawal"): allowed(
        own=(TRAINEE, INSTITUTION), body={"reason": "工作调动"}
    ),
    ("GET", "/registrations"): allowed(CITY, AUDITOR, own=(COUNTY,), query={"county": "{county}"}),
    ("GET", "/audit/lookup/id-number/{id_number}"): allowed(AUDITOR, CITY),
    ("GET", "/personal-data/retention"): allowed(*EVERY_ROLE),
    ("PUT", "/personal-data/retention"): allowed(
        CITY, body={"days": 730, "effective_from": "2030-01-01"}
    ),
    ("GET", "/erasures"): allowed(CITY, AUDITOR),
    # Last: it ends the trainee's record (later cells of it would answer person_erased).
    ("POST", "/trainees/{trainee_id}/erasure"): allowed(CITY, body={"reason": "本人书面申请删除"}),
}

ASSESSMENT: Table = {
    **EVERY_SERVICE,
    ("GET", "/evaluation-institutions"): allowed(*EVERY_ROLE),
    ("POST", "/evaluation-institutions"): allowed(
        PROVINCE,
        body={
            "name": "菏泽市数字技术评价中心",
            "occupations": {OCCUPATION_MANUFACTURING: "intelligent_manufacturing"},
        },
    ),
    ("POST", "/evaluation-institutions/{institution_id}/suspension"): allowed(
        PROVINCE, body={"reason": "评价质量不合格"}
    ),
    ("DELETE", "/evaluation-institutions/{institution_id}/suspension"): allowed(PROVINCE),
    ("PUT", "/rules/{occupation_code}"): allowed(
        PROVINCE,
        body={
            "name": "智能制造工程技术人员国家职业技术技能标准",
            "routes": {"junior": [{"name": "junior.bachelor", "education_at_least": "bachelor"}]},
            "effective_from": "2026-01-01",
        },
    ),
    ("GET", "/rules/{occupation_code}"): allowed(*EVERY_ROLE),
    # A trainee applies for themself: the token's subject is the applicant by construction.
    ("POST", "/applications"): allowed(
        TRAINEE,
        body={
            "evaluation_institution_id": "{evaluation_institution_id}",
            "occupation_code": OCCUPATION_MANUFACTURING,
            "level": "junior",
            "declaration": {"education": "bachelor", "major_relevant": True},
            "commitment_text": "本人承诺所填报的信息真实、准确。",
            "commitment_signed": True,
        },
    ),
    ("GET", "/applications"): allowed(
        PROVINCE,
        AUDITOR,
        own=(EVALUATOR,),
        own_listed=(TRAINEE,),
        listed_record="application_id",
        query={"evaluation_institution_id": "{evaluation_institution_id}"},
    ),
    ("GET", "/applications/{application_id}"): allowed(PROVINCE, AUDITOR, own=(TRAINEE, EVALUATOR)),
    ("POST", "/applications/{application_id}/qualification"): allowed(
        own=(EVALUATOR,), body={"confirm": True}
    ),
    ("POST", "/sessions"): allowed(
        EVALUATOR,
        body={
            "occupation_code": OCCUPATION_MANUFACTURING,
            "level": "junior",
            "held_on": "2026-12-12",
            "place": "菏泽学院",
        },
    ),
    ("GET", "/sessions"): allowed(
        PROVINCE,
        AUDITOR,
        own=(EVALUATOR,),
        query={"evaluation_institution_id": "{evaluation_institution_id}"},
    ),
    ("GET", "/sessions/{session_id}"): allowed(PROVINCE, AUDITOR, own=(EVALUATOR,)),
    ("POST", "/sessions/{session_id}/assignments"): allowed(
        own=(EVALUATOR,), body={"application_ids": ["{application_id}"]}
    ),
    ("PUT", "/sessions/{session_id}/applications/{application_id}/scores"): allowed(
        own=(EVALUATOR,), body={"theory_score": 80, "practical_score": 75}
    ),
    ("POST", "/sessions/{session_id}/applications/{application_id}/score-corrections"): allowed(
        own=(EVALUATOR,),
        body={"theory_score": 82, "practical_score": 75, "reason": "复核加分"},
    ),
    ("POST", "/applications/{application_id}/voiding"): allowed(
        PROVINCE, own=(EVALUATOR,), body={"reason": "学历证书核查不实"}
    ),
}

CERTIFICATION: Table = {
    **EVERY_SERVICE,
    ("GET", "/public/certificates/verify"): public(query={"number": "{number}", "name": "沙和尚"}),
    ("GET", "/public/certificates/{number}/verification"): public(query={"code": "guessed"}),
    ("GET", "/public/issuers/{body_id}"): public(),
    ("GET", "/public/status-lists/{body_id}/{purpose}/{list_name}"): public(),
    ("GET", "/certificates/{number}/credential"): allowed(AUDITOR, own=(TRAINEE, EVALUATOR)),
    ("GET", "/certificates/{number}/pdf"): allowed(AUDITOR, own=(TRAINEE, EVALUATOR)),
    ("GET", "/cases"): allowed(
        PROVINCE,
        NATIONAL,
        AUDITOR,
        own=(EVALUATOR,),
        own_listed=(TRAINEE,),
        listed_record="case_id",
        query={"evaluation_institution_id": "{evaluation_institution_id}"},
    ),
    ("GET", "/cases/{case_id}"): allowed(PROVINCE, NATIONAL, AUDITOR, own=(EVALUATOR, TRAINEE)),
    ("POST", "/cases/{case_id}/report"): allowed(own=(EVALUATOR,)),
    ("POST", "/cases/{case_id}/confirmation"): allowed(PROVINCE),
    ("POST", "/cases/{case_id}/return"): allowed(PROVINCE, body={"reasons": ["证书照片不清晰"]}),
    ("POST", "/cases/{case_id}/approval"): allowed(NATIONAL),
    ("POST", "/cases/{case_id}/rejection"): allowed(NATIONAL, body={"reasons": ["材料不全"]}),
    ("POST", "/cases/{case_id}/issuance"): allowed(own=(EVALUATOR,)),
    ("GET", "/deadlines/overdue"): allowed(
        PROVINCE,
        NATIONAL,
        AUDITOR,
        own=(EVALUATOR,),
        query={"evaluation_institution_id": "{evaluation_institution_id}"},
    ),
    ("PUT", "/calendars/{year}"): allowed(
        PROVINCE, body={"holidays": ["2030-01-01"], "makeup_workdays": []}
    ),
    ("GET", "/reports/deadlines"): allowed(
        CITY, PROVINCE, NATIONAL, AUDITOR, query={"from": "2026-01-01", "to": "2026-12-31"}
    ),
    ("GET", "/audit/lookup/certificate/{number}"): allowed(AUDITOR),
    ("GET", "/talent-pool"): allowed(CITY, AUDITOR),
    ("POST", "/talent-pool/{trainee_id}/outstanding"): allowed(
        CITY, body={"contribution": "主持市级数字化转型项目"}
    ),
    ("GET", "/continuing-education/{year}"): allowed(CITY),
    ("PUT", "/policy"): allowed(CITY, body={"terms": {}, "effective_from": "2026-01-01"}),
    ("GET", "/policy"): allowed(CITY, AUDITOR),
    ("GET", "/talent/{trainee_id}/eligibility"): allowed(
        CITY, AUDITOR, own=(TRAINEE,), query={"title_series": "工程系列"}
    ),
}

SUBSIDY: Table = {
    **EVERY_SERVICE,
    ("GET", "/standards"): allowed(*EVERY_ROLE),
    ("POST", "/standards"): allowed(
        CITY,
        body={
            "occupation_code": OCCUPATION_BIG_DATA,
            "level": "intermediate",
            "amount_fen": 150000,
            "effective_from": "2027-01-01",
        },
    ),
    # Institutions may claim on a trainee's behalf in the world's policy: keep it so.
    ("PUT", "/policy"): allowed(
        CITY, body={"policy": {"institutions_may_claim": True}, "effective_from": "2026-01-01"}
    ),
    ("GET", "/policy"): allowed(*EVERY_ROLE),
    ("POST", "/claims"): allowed(
        own=(TRAINEE, INSTITUTION),
        body={
            "trainee_id": "{trainee_id}",
            "programme_id": "{programme_id}",
            "occupation_code": OCCUPATION_BIG_DATA,
            "level": "junior",
        },
    ),
    ("GET", "/claims"): allowed(
        CITY,
        AUDITOR,
        own=(INSTITUTION,),
        own_listed=(TRAINEE,),
        listed_record="claim_id",
        query={"institution_id": "{institution_id}"},
    ),
    ("GET", "/claims/{claim_id}"): allowed(CITY, AUDITOR, own=(TRAINEE, INSTITUTION)),
    ("POST", "/claims/{claim_id}/decision"): allowed(CITY),
    ("POST", "/claims/{claim_id}/payment"): allowed(CITY, body={"payment_reference": "PAY-001"}),
    ("GET", "/reports/disbursements/{month}"): allowed(CITY, AUDITOR),
    ("GET", "/recoveries"): allowed(CITY, AUDITOR),
    # An employer records for itself: the token's organisation is the owner by construction.
    ("POST", "/reimbursements"): allowed(
        EMPLOYER,
        body={"trainee_id": "{trainee_id}", "programme_id": "{programme_id}", "amount_fen": 300000},
    ),
    ("GET", "/reimbursements/{employer_id}"): allowed(CITY, AUDITOR, own=(EMPLOYER,)),
}

TABLES: dict[str, Table] = {
    "enrollment": ENROLLMENT,
    "assessment": ASSESSMENT,
    "certification": CERTIFICATION,
    "subsidy": SUBSIDY,
}


class Expect(Enum):
    ALLOWED = "allowed"
    REFUSED_ROLE = "refused: role"
    REFUSED_CALLER = "refused: not a service's call"
    REFUSED_OWNER = "refused: someone else's record"
    LISTED_WITHOUT_RECORD = "allowed, without someone else's record"


@dataclass(frozen=True)
class Cell:
    service: str
    method: str
    path: str
    role: Role | None
    """None: no token at all (public operations)."""
    owner: bool | None
    """For scoped roles: acting as the record's owner (True) or as someone else (False)."""

    @property
    def rule(self) -> Rule:
        return TABLES[self.service][self.method, self.path]

    @property
    def expect(self) -> Expect:
        rule, role = self.rule, self.role
        if rule.service_call:
            return Expect.REFUSED_CALLER
        if rule.public or role in rule.anyone:
            return Expect.ALLOWED
        if role in rule.own:
            return Expect.ALLOWED if self.owner else Expect.REFUSED_OWNER
        if role in rule.own_listed:
            return Expect.ALLOWED if self.owner else Expect.LISTED_WITHOUT_RECORD
        return Expect.REFUSED_ROLE

    def __str__(self) -> str:
        who = "anonymous" if self.role is None else self.role.value
        if self.owner is not None:
            who += "-own" if self.owner else "-other"
        return f"{self.service}-{self.method}-{self.path}-{who}"


def cells() -> Iterator[Cell]:
    for service, table in TABLES.items():
        for (method, path), rule in table.items():
            if rule.public:
                yield Cell(service, method, path, None, None)
                continue
            for role in Role:
                for owner in (True, False) if role in SCOPED_ROLES else (None,):
                    yield Cell(service, method, path, role, owner)
