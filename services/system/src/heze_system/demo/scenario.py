"""The demo cohort's journey through the four services, over HTTP, each party with its own
token: institutions publish, people register (some refused), train, complete, apply, are
assessed (some fail), reported, confirmed (one returned and resubmitted), approved, issued,
credited, admitted to the talent pool, and claim subsidies (one refused for a repeat claim).

Every trainee's expected final state is recorded as the scenario goes, so `verify` can check
each service's view of each trainee afterwards."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4, uuid5

import httpx

from heze_common.auth import TokenIssuer
from heze_contracts.enums import Role
from heze_system.demo.cohort import Person, cohort

COMMITMENT = "本人郑重承诺：所填报的学历、专业、职称、工作年限和培训学时等信息真实、准确、完整，如有虚假，自愿承担相应责任。"
STAGES = (
    "registered",
    "enrolled",
    "completed",
    "applied",
    "assessed",
    "passed",
    "issued",
    "subsidy approved",
    "subsidy paid",
)


def institution_id(name: str) -> UUID:
    """Seeded institutions have ids derived from their names (see the enrollment service)."""
    return uuid5(UUID("8e4c2a1b-3d5f-5b7a-9c8e-1f2d3a4b5c6d"), name)


UPC, OUC, LDU = (institution_id(n) for n in ("中国石油大学(华东)", "中国海洋大学", "鲁东大学"))


@dataclass(frozen=True)
class ProgrammePlan:
    key: str
    institution: UUID
    occupation_code: str
    title: str
    share: float
    subsidised: bool
    evaluation_field: str


PLANS = (
    ProgrammePlan(
        "big-data",
        UPC,
        "2-02-10-11",
        "大数据工程技术人员（初级）2026年第一期",
        0.40,
        True,
        "big_data",
    ),
    ProgrammePlan(
        "blockchain",
        UPC,
        "2-02-10-15",
        "区块链工程技术人员（初级）2026年第一期",
        0.20,
        True,
        "blockchain",
    ),
    ProgrammePlan(
        "big-data-ouc",
        OUC,
        "2-02-10-11",
        "大数据工程技术人员（初级）青岛班",
        0.12,
        False,
        "big_data",
    ),
    ProgrammePlan(
        "manufacturing",
        LDU,
        "2-02-07-13",
        "智能制造工程技术人员（初级）2026年第一期",
        0.28,
        True,
        "intelligent_manufacturing",
    ),
)


@dataclass
class Journey:
    """One person: what happened to them, and the final state every service should show."""

    person: Person
    trainee_id: str | None = None
    plan: ProgrammePlan | None = None
    programme_id: str | None = None
    stages: list[str] = field(default_factory=list)
    refused: str | None = None
    application_id: str | None = None
    case_id: str | None = None
    certificate: str | None = None
    claim_ids: list[str] = field(default_factory=list)


@dataclass
class World:
    """Everything the scenario did and expects."""

    journeys: list[Journey]
    programmes: dict[str, str] = field(default_factory=dict)
    evaluation_institution: str | None = None
    refusals: Counter[str] = field(default_factory=Counter)
    returned_case: str | None = None
    repeat_claim_refused: bool = False

    def count(self, stage: str) -> int:
        return sum(stage in journey.stages for journey in self.journeys)


class Refused(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


RETRY_FOR = 120
"""Seconds a request is repeated while its service is away: longer than any restart."""


class Parties:
    """HTTP clients of the four services and a token for every party."""

    def __init__(self, urls: dict[str, str], issuer: TokenIssuer):
        self.http = {
            name: httpx.AsyncClient(base_url=url, timeout=60) for name, url in urls.items()
        }
        self.issuer = issuer

    def token(
        self,
        role: Role,
        organisation: UUID | str | None = None,
        subject: str | None = None,
        *,
        verified_id_number: str | None = None,
    ) -> dict[str, str]:
        """A party's token; a trainee's may vouch for the ID number its sign-in verified."""
        org = UUID(str(organisation)) if organisation else None
        token = self.issuer.mint(
            role, organisation_id=org, subject=subject, verified_id_number=verified_id_number
        )
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self, service: str, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> Any:
        """One request's answer (see `send`)."""
        response = await self.send(service, method, path, headers, body)
        return response.json() if response.content else None

    async def every(self, service: str, path: str, headers: dict[str, str]) -> list[Any]:
        """Every item of a paginated list, page after page, following `Link: rel="next"`."""
        items: list[Any] = []
        url: str | None = path
        while url:
            response = await self.send(service, "GET", url, headers)
            items += response.json()
            url = response.links.get("next", {}).get("url")
        return items

    async def send(
        self, service: str, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> httpx.Response:
        """One request, sent again while the service is unreachable or unavailable (restarting,
        its database away); a write carries an idempotency key, so a repeat is never a second
        effect."""
        if method != "GET":
            headers = {**headers, "Idempotency-Key": str(uuid4())}
        deadline = asyncio.get_running_loop().time() + RETRY_FOR
        while True:
            try:
                response = await self.http[service].request(
                    method, path, json=body, headers=headers
                )
                if response.status_code != 503:
                    break
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{service} did not answer {method} {path} for {RETRY_FOR}s")
            await asyncio.sleep(0.5)
        if response.status_code in (409, 422, 403):
            raise Refused(response.json()["error"]["code"])
        response.raise_for_status()
        return response

    async def close(self) -> None:
        for client in self.http.values():
            await client.aclose()


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 180) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"the demo waited {timeout:.0f}s for {what}")
        await asyncio.sleep(0.3)


class Scenario:
    def __init__(
        self,
        parties: Parties,
        size: int,
        progress: Callable[[str, int], None] = lambda *_: None,
        seed: int = 2023,
        pace: Mapping[str, float] | None = None,
    ):
        """`pace`: journeys per second at which each stage (by label) starts its journeys; a
        stage without one starts them as fast as 8 parties at a time allow."""
        self.p = parties
        self.world = World([Journey(person) for person in cohort(size, seed)])
        self.progress = progress
        self.rng = random.Random(42)
        self.limit = asyncio.Semaphore(8)
        self.pace = dict(pace or {})
        self.stage_rates: dict[str, float] = {}
        """Journeys per second each stage went through, as run."""

    async def each(
        self, journeys: list[Journey], step: Callable[[Journey], Awaitable[None]], label: str
    ) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        rate = self.pace.get(label)

        async def guarded(n: int, journey: Journey) -> None:
            if rate:  # an open-loop arrival: the journey's own start time, whatever the others do
                await asyncio.sleep(max(0.0, started + n / rate - loop.time()))
            async with self.limit:
                await step(journey)
                self.progress(label, 1)

        await asyncio.gather(*(guarded(n, journey) for n, journey in enumerate(journeys)))
        if journeys:
            self.stage_rates[label] = len(journeys) / max(loop.time() - started, 1e-9)

    def alive(self, *stages: str) -> list[Journey]:
        return [
            j for j in self.world.journeys if all(s in j.stages for s in stages) and not j.refused
        ]

    def refuse(self, journey: Journey, code: str) -> None:
        journey.refused = code
        self.world.refusals[code] += 1

    async def run(self) -> World:
        await self.publish_programmes()
        await self.each(self.world.journeys, self.register_and_enrol, "registration")
        await self.each(self.alive("enrolled"), self.train, "training")
        await self.assess()
        await self.certify()
        await self.claim_subsidies()
        return self.world

    # Step 1: training

    async def publish_programmes(self) -> None:
        city = self.p.token(Role.CITY_BUREAU)
        size = len(self.world.journeys)
        for plan in PLANS:
            capacity = max(1, int(size * plan.share * (0.6 if plan.key == "big-data-ouc" else 1.2)))
            body = {
                "occupation_code": plan.occupation_code,
                "level": "junior",
                "title": plan.title,
                "capacity": capacity,
                "starts_on": "2026-03-01",
                "ends_on": "2026-12-31",
                "subsidised_plan": plan.subsidised,
            }
            created = await self.p.call(
                "enrollment",
                "POST",
                "/programmes",
                self.p.token(Role.TRAINING_INSTITUTION, plan.institution),
                body,
            )
            self.world.programmes[plan.key] = created["id"]
            if plan.subsidised:
                await self.p.call(
                    "enrollment",
                    "PUT",
                    f"/programmes/{created['id']}/city-plan",
                    city,
                    {"subsidised_plan": True, "in_city_training_directory": True},
                )
        try:  # 中国海洋大学 is accredited for big data only
            await self.p.call(
                "enrollment",
                "POST",
                "/programmes",
                self.p.token(Role.TRAINING_INSTITUTION, OUC),
                {
                    "occupation_code": "2-02-07-13",
                    "level": "junior",
                    "title": "智能制造（越权）",
                    "capacity": 10,
                    "starts_on": "2026-03-01",
                    "ends_on": "2026-12-31",
                },
            )
        except Refused as refusal:
            self.world.refusals[refusal.code] += 1

    def choose_plan(self, journey: Journey) -> ProgrammePlan:
        point, total = (journey.person.number * 0.618) % 1, 0.0
        for plan in PLANS:
            total += plan.share
            if point < total:
                return plan
        return PLANS[0]

    async def register_and_enrol(self, journey: Journey) -> None:
        person = journey.person
        journey.plan = self.choose_plan(journey)
        self_registered = person.number % 2 == 0
        headers = (
            self.p.token(
                Role.TRAINEE,
                subject=f"account-{person.number}",
                verified_id_number=person.id_number,
            )
            if self_registered
            else self.p.token(Role.TRAINING_INSTITUTION, journey.plan.institution)
        )
        body = {
            "name": person.name,
            "id_number": person.id_number,
            "phone": f"139{person.number:08d}",
            "education": "bachelor",
            "major": person.major,
            "employer": person.employer,
            "county": person.county,
            "participant_category": "digital_worker" if person.employer else "graduating_student",
            "retirement_group": "female_55" if person.female else None,
            "person_consents": not self_registered,  # the institution has the person's consent
        }
        try:
            journey.trainee_id = (
                await self.p.call("enrollment", "POST", "/trainees", headers, body)
            )["trainee_id"]
        except Refused as refusal:
            self.refuse(journey, refusal.code)
            return
        journey.stages.append("registered")
        trainee = self.p.token(Role.TRAINEE, subject=journey.trainee_id)
        for plan in (journey.plan, PLANS[0]):  # a full programme sends people to the big first one
            programme = self.world.programmes[plan.key]
            try:
                await self.p.call(
                    "enrollment",
                    "POST",
                    f"/trainees/{journey.trainee_id}/enrolments",
                    trainee,
                    {"programme_id": programme},
                )
            except Refused as refusal:
                self.world.refusals[refusal.code] += 1
                continue
            journey.plan, journey.programme_id = plan, programme
            journey.stages.append("enrolled")
            return

    async def train(self, journey: Journey) -> None:
        assert journey.plan is not None
        institution = self.p.token(Role.TRAINING_INSTITUTION, journey.plan.institution)
        base = f"/programmes/{journey.programme_id}/trainees/{journey.trainee_id}"
        day = date(2026, 3, 2)
        for kind, mode, sessions in (("theory", "online", 10), ("practice", "offline", 6)):
            for _ in range(sessions):
                await self.p.call(
                    "enrollment",
                    "POST",
                    f"{base}/sessions",
                    institution,
                    {"date": day.isoformat(), "hours": 8, "kind": kind, "mode": mode},
                )
                day += timedelta(days=1)
            if journey.person.number % 41 == 5 and kind == "theory":  # leaves half way
                await self.p.call(
                    "enrollment",
                    "POST",
                    f"/trainees/{journey.trainee_id}/enrolments/{journey.programme_id}/withdrawal",
                    institution,
                    {"reason": "工作调动，无法继续参加培训"},
                )
                journey.stages.append("withdrawn")
                return
        failed_exam = journey.person.number % 37 == 3
        await self.p.call(
            "enrollment",
            "PUT",
            f"{base}/exam",
            institution,
            {"score": 52 if failed_exam else self.rng.randint(65, 97)},
        )
        try:
            await self.p.call("enrollment", "POST", f"{base}/completion", institution)
        except Refused as refusal:
            self.world.refusals[refusal.code] += 1
            return
        journey.stages.append("completed")

    # Step 2: assessment

    async def assess(self) -> None:
        province = self.p.token(Role.PROVINCIAL_DEPARTMENT)
        occupations = {plan.occupation_code: plan.evaluation_field for plan in PLANS}
        name = "山东省数字技术工程师评价中心"
        try:
            created = await self.p.call(
                "assessment",
                "POST",
                "/evaluation-institutions",
                province,
                {"name": name, "occupations": occupations},
            )
            evaluator = created["id"]
        except Refused as refusal:  # a second cohort on the same system: it is registered
            if refusal.code != "already_registered":
                raise
            listed = await self.p.every(
                "assessment", "/evaluation-institutions?limit=500", province
            )
            evaluator = next(i["evaluation_institution_id"] for i in listed if i["name"] == name)
        self.world.evaluation_institution = evaluator
        completed = [j for j in self.alive("completed")]
        await self.each(completed, lambda j: self.apply(j, evaluator), "applications")
        me = self.p.token(Role.EVALUATION_INSTITUTION, evaluator)

        async def all_accepted() -> bool:  # this cohort's: a system may have served others
            listed = await self.p.every("assessment", "/applications?limit=500", me)
            waiting = {a["application_id"] for a in listed if a["status"] == "awaiting_review"}
            return all(j.application_id in waiting for j in completed)

        await eventually(all_accepted, "the training proofs to reach the assessment service")
        await self.each(
            completed,
            lambda j: self.p.call(
                "assessment",
                "POST",
                f"/applications/{j.application_id}/qualification",
                me,
                {"confirm": True},
            ),
            "qualification review",
        )
        for occupation in sorted({j.plan.occupation_code for j in completed if j.plan}):
            group = [j for j in completed if j.plan and j.plan.occupation_code == occupation]
            session = await self.p.call(
                "assessment",
                "POST",
                "/sessions",
                me,
                {
                    "occupation_code": occupation,
                    "level": "junior",
                    "held_on": "2026-06-20",
                    "place": "菏泽学院 综合实训中心",
                },
            )
            await self.p.call(
                "assessment",
                "POST",
                f"/sessions/{session['session_id']}/assignments",
                me,
                {"application_ids": [j.application_id for j in group]},
            )
            await self.each(
                group, lambda j, s=session["session_id"]: self.score(j, s, me), "assessment"
            )

    async def apply(self, journey: Journey, evaluator: str) -> None:
        assert journey.plan is not None
        body = {
            "evaluation_institution_id": evaluator,
            "occupation_code": journey.plan.occupation_code,
            "level": "junior",
            "declaration": {
                "education": "bachelor",
                "major_relevant": True,
                "years_in_occupation": 1,
            },
            "commitment_text": COMMITMENT,
            "commitment_signed": True,
        }
        created = await self.p.call(
            "assessment",
            "POST",
            "/applications",
            self.p.token(Role.TRAINEE, subject=journey.trainee_id),
            body,
        )
        journey.application_id = created["application_id"]
        journey.stages.append("applied")

    async def score(self, journey: Journey, session_id: str, me: dict[str, str]) -> None:
        fails = journey.person.number % 10 == 4
        scores = {
            "theory_score": 55 if fails else self.rng.randint(62, 96),
            "practical_score": self.rng.randint(60, 95),
        }
        result = await self.p.call(
            "assessment",
            "PUT",
            f"/sessions/{session_id}/applications/{journey.application_id}/scores",
            me,
            scores,
        )
        journey.stages.append("assessed")
        if result["status"] == "passed":
            journey.stages.append("passed")

    # Step 3: certificate

    async def certify(self) -> None:
        evaluator = self.world.evaluation_institution
        me = self.p.token(Role.EVALUATION_INSTITUTION, evaluator)
        province, national = (
            self.p.token(Role.PROVINCIAL_DEPARTMENT),
            self.p.token(Role.NATIONAL_OFFICE),
        )
        passed = self.alive("passed")

        async def cases_open() -> bool:
            cases = await self.p.every("certification", "/cases?limit=500", me)
            opened = {c["application_id"] for c in cases}
            return all(j.application_id in opened for j in passed)

        await eventually(cases_open, "the passed assessments to open certificate cases")
        by_application = {
            c["application_id"]: c["case_id"]
            for c in await self.p.every("certification", "/cases?limit=500", me)
        }
        for journey in passed:
            journey.case_id = by_application[journey.application_id]

        async def through(journey: Journey) -> None:
            await self.p.call("certification", "POST", f"/cases/{journey.case_id}/report", me)
            if journey is passed[0]:
                await self.p.call(
                    "certification",
                    "POST",
                    f"/cases/{journey.case_id}/return",
                    province,
                    {"reasons": ["证件照片不符合要求，请重新上传近期免冠照片"]},
                )
                self.world.returned_case = journey.case_id
                await self.p.call("certification", "POST", f"/cases/{journey.case_id}/report", me)
            await self.p.call(
                "certification", "POST", f"/cases/{journey.case_id}/confirmation", province
            )
            await self.p.call(
                "certification", "POST", f"/cases/{journey.case_id}/approval", national
            )
            issued = await self.p.call(
                "certification", "POST", f"/cases/{journey.case_id}/issuance", me
            )
            journey.certificate = issued["certificate_number"]
            journey.stages.append("issued")

        await self.each(passed, through, "certificates")

    # Policy outcomes: subsidies

    async def claim_subsidies(self) -> None:
        city = self.p.token(Role.CITY_BUREAU)
        claimants = [j for j in self.alive("completed") if j.plan]

        async def claim(journey: Journey) -> None:
            assert journey.plan is not None
            body = {
                "programme_id": journey.programme_id,
                "occupation_code": journey.plan.occupation_code,
                "level": "junior",
            }
            created = await self.p.call(
                "subsidy",
                "POST",
                "/claims",
                self.p.token(Role.TRAINEE, subject=journey.trainee_id),
                body,
            )
            journey.claim_ids.append(created["claim_id"])

        await self.each(claimants, claim, "subsidy claims")
        expected_approvals = [
            j for j in claimants if "issued" in j.stages and j.plan and j.plan.subsidised
        ]

        async def approvals_decided() -> bool:
            claims = await self.p.every("subsidy", "/claims?limit=500", city)
            approved = {c["claim_id"] for c in claims if c["status"] == "approved"}
            return all(j.claim_ids[0] in approved for j in expected_approvals)

        await eventually(approvals_decided, "the certificates to reach the subsidy service")
        for journey in expected_approvals:
            claim_view = await self.p.call(
                "subsidy", "GET", f"/claims/{journey.claim_ids[0]}", city
            )
            journey.stages.append("subsidy approved")
            await self.p.call(
                "subsidy",
                "POST",
                f"/claims/{journey.claim_ids[0]}/payment",
                city,
                {"payment_reference": f"HZCZ-2026-{journey.person.number:05d}"},
            )
            journey.stages.append("subsidy paid")
            assert claim_view["amount_fen"]
        if expected_approvals:
            repeat = expected_approvals[0]
            await claim(repeat)
            decided = await self.p.call("subsidy", "GET", f"/claims/{repeat.claim_ids[-1]}", city)
            self.world.repeat_claim_refused = decided["reason_code"] == "already_subsidised"
            self.world.refusals[decided["reason_code"]] += 1
        for journey in claimants:
            if journey not in expected_approvals:
                decided = await self.p.call(
                    "subsidy", "GET", f"/claims/{journey.claim_ids[0]}", city
                )
                if decided["status"] == "rejected":
                    self.world.refusals[decided["reason_code"]] += 1
