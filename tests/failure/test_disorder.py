"""Duplicates and disorder: each consuming service, fed its upstream events redelivered, with
topics interleaved at random and one topic delayed, ends in the same state as when fed them in
their natural order once.

Each service plays a cohort (12 trainees with different fates), each run on a fresh database: once
undisturbed (shared by the seeds), and once per seed by a disturbed schedule (`disorder.py`). The final states compared:
the integration events the service published, the answers of its query endpoints, and whether
each HTTP command of the scenario was accepted (the status code only: a command's answer shows the
state at that moment, which depends on what had arrived, as with a claim filed before the
certificate, waiting at first, approved when it arrives).

Both runs happen at the same frozen instant, so timestamps and decision dates are equal by
construction. What legitimately differs is normalised: ids the service generates itself
(application, session, claim and standard ids are random per run) are replaced by names; the
published events are compared as a sorted list, since when a decision is made, and so its place in
the log, depends on when its facts arrive; and a talent-pool admission with a certificate revoked
later is left out, since whether it happens at all depends on whether the holder's county arrives
before the revocation (see `admitted_with_a_revoked_certificate`).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4, uuid5

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from heze_assessment.main import definition as assessment_definition
from heze_assessment.settings import AssessmentSettings
from heze_certification.domain.case import CertificateCase
from heze_certification.holders import HolderIdentity
from heze_certification.main import definition as certification_definition
from heze_certification.settings import CertificationSettings
from heze_common import clock
from heze_common.auth import TokenIssuer
from heze_common.broker import ensure_topics
from heze_common.consumer import Outcome
from heze_common.runtime import ServiceDefinition, create_app
from heze_common.settings import ServiceSettings
from heze_common.testing import Tokens, eventually, read_topic, running, service_settings
from heze_contracts import IntegrationEvent, parse_event
from heze_contracts import assessment as assessed
from heze_contracts import certification as certified
from heze_contracts import enrollment as enrolled
from heze_contracts.enums import (
    Field,
    HourKind,
    HourMode,
    Level,
    Producer,
    Role,
)
from heze_enrollment.domain.identity import ResidentId
from heze_subsidy.main import definition as subsidy_definition
from heze_subsidy.settings import SubsidySettings
from tests.failure.disorder import Feed, Schedule, Stage, disturbed, natural, play

TODAY = datetime(2026, 11, 27, 2, tzinfo=UTC)
COHORT_STARTED = datetime(2026, 3, 1, 1, tzinfo=UTC)
# The upstream topics, as the schedules name them (the run adds its own prefix)
ENROLLMENT = enrolled.TraineeRegistered.TOPIC
ASSESSMENT = assessed.AssessmentPassed.TOPIC
CERTIFICATION = certified.CertificateIssued.TOPIC
NAMESPACE = UUID("d15a0d3e-7c1b-5e42-9f60-3a8b2c4d5e6f")
COMMITMENT = "本人承诺所填报的学历、职称、工作年限等信息真实、准确，如有虚假，愿承担一切后果。"


def ident(*parts: str) -> UUID:
    """The same name gives the same id in every run, so both runs replay identical events."""
    return uuid5(NAMESPACE, "/".join(parts))


@dataclass(frozen=True)
class Occupation:
    code: str
    field: Field

    @property
    def digits(self) -> str:
        return self.code.replace("-", "")


IM = Occupation("2-02-07-13", Field.INTELLIGENT_MANUFACTURING)
BD = Occupation("2-02-10-11", Field.BIG_DATA)


@dataclass(frozen=True)
class Person:
    label: str
    number: int
    county: str = "牡丹区"

    @property
    def id(self) -> UUID:
        return ident("trainee", self.label)

    @property
    def name(self) -> str:
        return f"学员{self.number:02d}"

    @property
    def birth_date(self) -> date:
        return date(1988, 1, 1) + timedelta(days=131 * self.number)

    @property
    def id_number(self) -> str:
        return ResidentId.compose("371702", self.birth_date, 2 * self.number + 1)  # odd: male


@dataclass(frozen=True)
class Programme:
    label: str
    occupation: Occupation
    level: Level = Level.JUNIOR
    subsidised: bool = True

    @property
    def id(self) -> UUID:
        return ident("programme", self.label)

    @property
    def institution_id(self) -> UUID:
        return ident("institution", self.occupation.code)


class Upstream:
    """What one producer's relay publishes: positions are its notification ids, with gaps where
    its private events lie between; versions count per aggregate, as the event ids derive."""

    def __init__(self, producer: Producer, started: datetime = COHORT_STARTED) -> None:
        self.started = started
        self.position = 0
        self.versions: Counter[UUID] = Counter()
        self.gaps = random.Random(producer.value)

    def __call__(self, event_class: type, payload: Any, origin_id: UUID) -> IntegrationEvent:
        self.position += 1 + self.gaps.randrange(3)
        self.versions[origin_id] += 1
        return event_class.build(
            payload,
            position=self.position,
            occurred_at=self.started + timedelta(hours=self.position),
            origin_id=origin_id,
            origin_version=self.versions[origin_id],
            correlation_id=ident("correlation", str(origin_id)),
            causation_id=None,
        )


# Enrollment's facts


def registered(log: Upstream, person: Person) -> enrolled.TraineeRegistered:
    return log(
        enrolled.TraineeRegistered,
        enrolled.TraineeRegisteredPayload(
            trainee_id=person.id,
            county=person.county,
            employed=True,
            registered_on=date(2026, 3, 1),
        ),
        person.id,
    )


def enrolment(log: Upstream, person: Person, programme: Programme) -> enrolled.TraineeEnrolled:
    return log(
        enrolled.TraineeEnrolled,
        enrolled.TraineeEnrolledPayload(
            trainee_id=person.id,
            programme_id=programme.id,
            institution_id=programme.institution_id,
            occupation_code=programme.occupation.code,
            field=programme.occupation.field,
            level=programme.level,
            subsidised_plan=programme.subsidised,
            enrolled_on=date(2026, 3, 2),
        ),
        person.id,
    )


def completion(
    log: Upstream, person: Person, programme: Programme, on: date = date(2026, 10, 30)
) -> enrolled.TrainingCompleted:
    return log(
        enrolled.TrainingCompleted,
        enrolled.TrainingCompletedPayload(
            trainee_id=person.id,
            programme_id=programme.id,
            institution_id=programme.institution_id,
            occupation_code=programme.occupation.code,
            field=programme.occupation.field,
            level=programme.level,
            hours_by_kind={HourKind.THEORY: Decimal("80.0"), HourKind.PRACTICE: Decimal("48.0")},
            hours_by_mode={HourMode.ONLINE: Decimal("60.0"), HourMode.OFFLINE: Decimal("68.0")},
            total_hours=Decimal("128.0"),
            exam_score=Decimal("82.0"),
            training_certificate_number=f"HZPX{on.year}-{programme.occupation.digits}-{person.number:06d}",
            subsidised_plan=programme.subsidised,
            completed_on=on,
        ),
        person.id,
    )


def withdrawal(log: Upstream, person: Person, programme: Programme) -> enrolled.TraineeWithdrawn:
    return log(
        enrolled.TraineeWithdrawn,
        enrolled.TraineeWithdrawnPayload(
            trainee_id=person.id,
            programme_id=programme.id,
            institution_id=programme.institution_id,
            occupation_code=programme.occupation.code,
            level=programme.level,
            reason="工作调动",
            withdrawn_on=date(2026, 6, 1),
        ),
        person.id,
    )


# Assessment's facts


@dataclass(frozen=True)
class Assessed:
    person: Person
    occupation: Occupation
    passed: bool = True

    @property
    def application_id(self) -> UUID:
        return ident("application", self.person.label, self.occupation.code)

    @property
    def evaluator_id(self) -> UUID:
        return ident("evaluator", self.occupation.code)

    @property
    def case_id(self) -> UUID:
        return CertificateCase.id_for(self.application_id)


def assessment_facts(log: Upstream, result: Assessed) -> list[IntegrationEvent]:
    """An application's published life up to its result, as the assessment service tells it."""
    person, occupation = result.person, result.occupation
    subject = {
        "application_id": result.application_id,
        "trainee_id": person.id,
        "evaluation_institution_id": result.evaluator_id,
    }
    scored = {
        **subject,
        "session_id": ident("session", occupation.code),
        "occupation_code": occupation.code,
        "field": occupation.field,
        "level": Level.JUNIOR,
        "theory_score": Decimal("78.5") if result.passed else Decimal("41.0"),
        "practical_score": Decimal("82.0"),
        "assessment_ended_on": date(2026, 11, 20),
    }
    outcome = (
        log(
            assessed.AssessmentPassed,
            assessed.AssessmentPassedPayload(**scored),
            result.application_id,
        )
        if result.passed
        else log(
            assessed.AssessmentFailed,
            assessed.AssessmentFailedPayload(**scored),
            result.application_id,
        )
    )
    return [
        log(
            assessed.AssessmentApplied,
            assessed.AssessmentAppliedPayload(
                **subject,
                occupation_code=occupation.code,
                field=occupation.field,
                level=Level.JUNIOR,
                commitment_text=COMMITMENT,
                commitment_signed_at=COHORT_STARTED,
                applied_at=COHORT_STARTED,
            ),
            result.application_id,
        ),
        log(
            assessed.QualificationConfirmed,
            assessed.QualificationConfirmedPayload(
                **subject,
                occupation_code=occupation.code,
                level=Level.JUNIOR,
                route="junior.bachelor",
                confirmed_at=COHORT_STARTED,
            ),
            result.application_id,
        ),
        outcome,
    ]


def voiding(log: Upstream, result: Assessed) -> assessed.AssessmentResultVoided:
    return log(
        assessed.AssessmentResultVoided,
        assessed.AssessmentResultVoidedPayload(
            application_id=result.application_id,
            trainee_id=result.person.id,
            evaluation_institution_id=result.evaluator_id,
            reason="承诺事项核查不实",
            voided_at=COHORT_STARTED,
        ),
        result.application_id,
    )


# Certification's facts


def certificate_number(person: Person, programme: Programme) -> str:
    level = "J" if programme.level is Level.JUNIOR else "I"
    return f"HZSZ2026-{programme.occupation.digits}-{level}-{person.number:06d}"


def certification_facts(
    log: Upstream, person: Person, programme: Programme
) -> list[IntegrationEvent]:
    """A certificate case's published life up to issuance and talent-pool admission."""
    case_id = ident("case", person.label, programme.label)
    at = COHORT_STARTED
    number = certificate_number(person, programme)
    return [
        log(
            certified.CertificateDataReported,
            certified.CertificateDataReportedPayload(
                case_id=case_id,
                trainee_id=person.id,
                application_id=ident("application", person.label, programme.label),
                evaluation_institution_id=ident("evaluator", programme.occupation.code),
                occupation_code=programme.occupation.code,
                field=programme.occupation.field,
                level=programme.level,
                reported_at=at,
                confirmation_due_on=date(2026, 11, 20),
                due_is_provisional=False,
            ),
            case_id,
        ),
        log(
            certified.ProvinceConfirmed,
            certified.ProvinceConfirmedPayload(
                case_id=case_id, trainee_id=person.id, confirmed_at=at
            ),
            case_id,
        ),
        log(
            certified.NationalApproved,
            certified.NationalApprovedPayload(
                case_id=case_id,
                trainee_id=person.id,
                approved_at=at,
                issue_due_on=date(2026, 12, 1),
            ),
            case_id,
        ),
        log(
            certified.CertificateIssued,
            certified.CertificateIssuedPayload(
                case_id=case_id,
                trainee_id=person.id,
                certificate_number=number,
                occupation_code=programme.occupation.code,
                field=programme.occupation.field,
                level=programme.level,
                evaluation_institution_id=ident("evaluator", programme.occupation.code),
                issued_on=date(2026, 11, 2),
            ),
            case_id,
        ),
        log(
            certified.TalentPoolAdmitted,
            certified.TalentPoolAdmittedPayload(
                trainee_id=person.id,
                certificate_number=number,
                field=programme.occupation.field,
                level=programme.level,
                county=person.county,
                admitted_on=date(2026, 11, 2),
            ),
            ident("talent record", person.label),
        ),
    ]


def revocation(log: Upstream, person: Person, programme: Programme) -> certified.CertificateRevoked:
    case_id = ident("case", person.label, programme.label)
    return log(
        certified.CertificateRevoked,
        certified.CertificateRevokedPayload(
            case_id=case_id,
            trainee_id=person.id,
            certificate_number=certificate_number(person, programme),
            reason="承诺事项核查不实",
            revoked_at=COHORT_STARTED,
        ),
        case_id,
    )


# One run of a scenario


@dataclass
class Run:
    """What the scenario's commands need, and what they leave to compare."""

    client: AsyncClient
    tokens: Tokens
    ids: dict[str, str] = field(default_factory=dict)
    """Ids the service generated in this run, by name."""
    answers: list[tuple[str, int]] = field(default_factory=list)

    async def send(
        self, what: str, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> Any:
        response = await self.client.request(method, path, json=body, headers=headers)
        self.answers.append((what, response.status_code))
        return response.json()

    async def read(self, path: str, headers: dict[str, str], **params: str) -> Any:
        response = await self.client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    def remember(self, name: str, generated_id: str) -> None:
        self.ids[name] = generated_id

    def named(self, value: Any) -> Any:
        """`value` with every generated id replaced by its name."""
        names = {generated: name for name, generated in self.ids.items()}

        def replace(part: Any) -> Any:
            if isinstance(part, dict):
                return {names.get(k, k): replace(v) for k, v in part.items()}
            if isinstance(part, list | tuple):
                return [replace(v) for v in part]
            return names.get(part, part) if isinstance(part, str) else part

        return replace(value)


@dataclass(frozen=True)
class Scenario:
    service: str
    definition: Callable[[Any], ServiceDefinition]
    settings_class: type[ServiceSettings]
    stages: tuple[Stage, ...]
    observe: Callable[[Run], Awaitable[dict[str, Any]]]
    """The answers of the service's query endpoints at the end."""
    fates: dict[str, str]
    """What the undisturbed run must show, so the scenario exercises what it claims to."""
    fates_of: Callable[[dict[str, Any]], dict[str, str]]
    transient: Callable[[list[IntegrationEvent]], list[IntegrationEvent]] = lambda _: []
    """Published events that record a passing state, which a run may or may not go through."""
    enrolled: Sequence[Person] = ()
    """The people enrollment answers certification's claim check of a holder's identity for."""

    @property
    def topics(self) -> list[str]:
        return sorted({event.TOPIC for stage in self.stages for event in stage.facts})


@dataclass(frozen=True)
class EnrolledPeople:
    """Enrollment's answers to certification's claim check, for the scenario's people."""

    people: Sequence[Person]

    def identity_of(self, trainee_id: UUID) -> HolderIdentity:
        person = next(p for p in self.people if p.id == trainee_id)
        return HolderIdentity(person.name, person.id_number)


@dataclass(frozen=True)
class FinalState:
    published: list[str]
    views: dict[str, Any]
    answers: list[tuple[str, int]]
    consumed: dict[Outcome, int]


async def relay_caught_up(app: FastAPI) -> bool:
    relay = app.state.relay

    def nothing_pending() -> bool:
        position = relay.positions.load(relay.topic)
        return not app.state.application.recorder.select_notifications(
            position + 1, 1, None, relay.mapper.domain_topics
        )

    return await asyncio.to_thread(nothing_pending)


async def play_scenario(
    scenario: Scenario, schedule: Schedule, database_url: str, bootstrap_servers: str
) -> FinalState:
    prefix = f"t{uuid4().hex[:10]}."
    await ensure_topics(bootstrap_servers, [prefix + t for t in scenario.topics], partitions=6)
    settings = service_settings(
        scenario.settings_class,
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap_servers,
        kafka_topic_prefix=prefix,
        # Joining the consumer group takes about half the session timeout, at every service start.
        kafka_session_timeout_ms=1500,
        kafka_heartbeat_interval_ms=300,
    )
    app = create_app(scenario.definition(settings))
    with clock.frozen_at(TODAY):
        async with (
            running(app) as client,
            Feed(bootstrap_servers, prefix, scenario.service) as feed,
        ):
            if scenario.enrolled:  # before the feed sends anything
                app.state.application.holders = EnrolledPeople(scenario.enrolled)
            run = Run(client, Tokens(TokenIssuer(settings)))
            await play(schedule, feed, run)
            views = await scenario.observe(run)
            await eventually(lambda: relay_caught_up(app))
            consumed = {outcome: feed.consumed(outcome) for outcome in Outcome}
    records = await read_topic(
        bootstrap_servers, f"{prefix}{scenario.service}.events.v1", idle_ms=200
    )
    events = [parse_event(record.value) for record in records]
    passing = scenario.transient(events)
    published = []
    for event in (e for e in events if e not in passing):
        payload = run.named(event.payload.model_dump(mode="json"))
        published.append(
            json.dumps([event.event_type, str(event.subject_id), payload], ensure_ascii=False)
        )
    return FinalState(sorted(published), run.named(views), run.answers, consumed)


# Assessment: consumes enrollment (training completed, withdrawals)


def assessment_scenario() -> Scenario:
    log = Upstream(Producer.ENROLLMENT)
    im, im_again, bd = Programme("im", IM), Programme("im-b", IM), Programme("bd", BD)
    im_intermediate = Programme("im-intermediate", IM, Level.INTERMEDIATE)
    people = {
        label: Person(label, number)
        for number, label in enumerate(
            [
                "early-pass",
                "late-pass",
                "fails",
                "rejected",
                "withdrew",
                "withdrew-then-completed",
                "voided",
                "corrected-to-fail",
                "never-completes",
                "two-fields",
                "corrected-pass",
                "trains-on",
            ],
            start=1,
        )
    }
    # Applications filed before the training is known (the service waits for the proof), and
    # after; the scores of those assessed, in the order of the session's roll.
    early = [
        (label, IM) for label in people if label not in ("late-pass", "withdrew-then-completed")
    ]
    early.append(("two-fields", BD))
    late = [("late-pass", IM), ("withdrew-then-completed", IM)]
    not_reviewed = {"withdrew", "never-completes"}
    scores = {
        ("early-pass", IM): ("78.5", "82"),
        ("late-pass", IM): ("90", "88"),
        ("fails", IM): ("55", "70"),
        ("withdrew-then-completed", IM): ("66", "61"),
        ("voided", IM): ("85", "80"),
        ("corrected-to-fail", IM): ("62", "75"),
        ("two-fields", IM): ("80", "80"),
        ("corrected-pass", IM): ("70", "70"),
        ("trains-on", IM): ("75", "75"),
        ("two-fields", BD): ("40", "65"),
    }

    # Registrations are no fact of assessment's (it ignores them): enrolments begin its feed.
    registrations = [enrolment(log, p, im) for p in people.values()]
    registrations.append(enrolment(log, people["two-fields"], bd))
    training = [
        withdrawal(log, people["withdrew"], im),
        withdrawal(log, people["withdrew-then-completed"], im),
        enrolment(log, people["withdrew-then-completed"], im_again),
        completion(log, people["withdrew-then-completed"], im_again),
        completion(log, people["two-fields"], bd),
    ]
    training += [
        completion(log, person, im)
        for label, person in people.items()
        if label not in ("withdrew", "withdrew-then-completed", "never-completes")
    ]
    further_training = [
        enrolment(log, people["trains-on"], im_intermediate),
        completion(log, people["trains-on"], im_intermediate),
    ]

    def application(run: Run, label: str, occupation: Occupation = IM) -> str:
        return run.ids[f"application {label} {occupation.code}"]

    async def apply(run: Run, label: str, occupation: Occupation) -> None:
        answer = await run.send(
            f"apply {label} {occupation.code}",
            "POST",
            "/applications",
            run.tokens(Role.TRAINEE, subject=str(people[label].id)),
            {
                "evaluation_institution_id": run.ids["evaluator"],
                "occupation_code": occupation.code,
                "level": "junior",
                "declaration": {"education": "bachelor", "major_relevant": True},
                "commitment_text": COMMITMENT,
                "commitment_signed": True,
            },
        )
        run.remember(f"application {label} {occupation.code}", answer["application_id"])

    async def before_training(run: Run) -> None:
        evaluator = await run.send(
            "register the evaluation institution",
            "POST",
            "/evaluation-institutions",
            run.tokens(Role.PROVINCIAL_DEPARTMENT),
            {
                "name": "山东省数字技术人才评价中心",
                "occupations": {IM.code: IM.field.value, BD.code: BD.field.value},
            },
        )
        run.remember("evaluator", evaluator["id"])
        for label, occupation in early:
            await apply(run, label, occupation)

    async def review_and_assess(run: Run) -> None:
        for label, occupation in late:
            await apply(run, label, occupation)
        evaluator = run.tokens(Role.EVALUATION_INSTITUTION, UUID(run.ids["evaluator"]))
        for label, occupation in early + late:
            if label not in not_reviewed:
                await run.send(
                    f"review {label} {occupation.code}",
                    "POST",
                    f"/applications/{application(run, label, occupation)}/qualification",
                    evaluator,
                    {"confirm": False, "reason": "工作年限证明材料不足"}
                    if label == "rejected"
                    else {"confirm": True},
                )
        for occupation in (IM, BD):
            session = await run.send(
                f"schedule {occupation.code}",
                "POST",
                "/sessions",
                evaluator,
                {
                    "occupation_code": occupation.code,
                    "level": "junior",
                    "held_on": "2026-11-25",
                    "place": "菏泽学院",
                },
            )
            run.remember(f"session {occupation.code}", session["session_id"])
            roll = [label for label, assessed_in in scores if assessed_in is occupation]
            await run.send(
                f"assign {occupation.code}",
                "POST",
                f"/sessions/{session['session_id']}/assignments",
                evaluator,
                {"application_ids": [application(run, label, occupation) for label in roll]},
            )
            for label in roll:
                theory, practical = scores[(label, occupation)]
                await run.send(
                    f"score {label} {occupation.code}",
                    "PUT",
                    f"/sessions/{session['session_id']}/applications/"
                    f"{application(run, label, occupation)}/scores",
                    evaluator,
                    {"theory_score": theory, "practical_score": practical},
                )

    async def afterwards(run: Run) -> None:
        await run.send(
            "void the result of voided",
            "POST",
            f"/applications/{application(run, 'voided')}/voiding",
            run.tokens(Role.PROVINCIAL_DEPARTMENT),
            {"reason": "学历证书核查不实"},
        )
        for label, (theory, practical), reason in [
            ("corrected-to-fail", ("58", "75"), "理论试卷复核"),
            ("corrected-pass", ("72", "70"), "漏计一题"),
        ]:
            await run.send(
                f"correct {label}",
                "POST",
                f"/sessions/{run.ids['session ' + IM.code]}/applications/"
                f"{application(run, label)}/score-corrections",
                run.tokens(Role.EVALUATION_INSTITUTION, UUID(run.ids["evaluator"])),
                {"theory_score": theory, "practical_score": practical, "reason": reason},
            )

    async def observe(run: Run) -> dict[str, Any]:
        applications = await run.read("/applications", run.tokens(Role.PROVINCIAL_DEPARTMENT))
        return {"applications": {a["application_id"]: a for a in applications}}

    def fates_of(views: dict[str, Any]) -> dict[str, str]:
        return {
            name: a["status"] + (" voided" if a["voided"] else "")
            for name, a in views["applications"].items()
        }

    return Scenario(
        service="assessment",
        definition=assessment_definition,
        settings_class=AssessmentSettings,
        stages=(
            Stage(tuple(registrations), before_training),
            Stage(tuple(training), review_and_assess, frozenset({ENROLLMENT})),
            Stage(tuple(further_training), afterwards),
        ),
        observe=observe,
        fates={
            f"application {label} {occupation.code}": fate
            for label, occupation, fate in [
                ("early-pass", IM, "passed"),
                ("late-pass", IM, "passed"),
                ("fails", IM, "failed"),
                ("rejected", IM, "rejected"),
                ("withdrew", IM, "refused"),
                ("withdrew-then-completed", IM, "passed"),
                ("voided", IM, "passed voided"),
                ("corrected-to-fail", IM, "failed voided"),
                ("never-completes", IM, "awaiting_training"),
                ("two-fields", IM, "passed"),
                ("two-fields", BD, "failed"),
                ("corrected-pass", IM, "passed"),
                ("trains-on", IM, "passed"),
            ]
        },
        fates_of=fates_of,
    )


# Certification: consumes enrollment (person, training hours) and assessment (results, voidings)


def certification_scenario() -> Scenario:
    enrollment_log, assessment_log = Upstream(Producer.ENROLLMENT), Upstream(Producer.ASSESSMENT)
    im, im_2025, bd = (
        Programme("im", IM),
        Programme("im-2025", IM),
        Programme("bd", BD),
    )
    people = {
        label: Person(label, number, county)
        for number, (label, county) in enumerate(
            [
                ("issued", "牡丹区"),
                ("returned-once", "曹县"),
                ("rejected-nationally", "单县"),
                ("revoked", "牡丹区"),
                ("closed-before-issue", "成武县"),
                ("failed", "巨野县"),
                ("awaiting-confirmation", "郓城县"),
                ("awaiting-report", "鄄城县"),
                ("two-certificates", "东明县"),
                ("outstanding", "定陶区"),
                ("hours-only", "牡丹区"),
                ("hours-two-years", "曹县"),
            ],
            start=21,
        )
    }
    results = [
        Assessed(people[label], IM, passed=label != "failed")
        for label in people
        if label != "hours-only"
    ] + [Assessed(people["two-certificates"], BD)]
    result = {(r.person.label, r.occupation): r for r in results}

    # In time order: the cohort registers and trains (one also the year before), then is assessed.
    timeline: list[IntegrationEvent] = [registered(enrollment_log, p) for p in people.values()]
    timeline.append(
        completion(enrollment_log, people["hours-two-years"], im_2025, date(2025, 12, 20))
    )
    timeline += [completion(enrollment_log, person, im) for person in people.values()]
    timeline.append(completion(enrollment_log, people["two-certificates"], bd))
    timeline += [e for r in results for e in assessment_facts(assessment_log, r)]
    voidings = [
        voiding(assessment_log, result[("revoked", IM)]),
        voiding(assessment_log, result[("closed-before-issue", IM)]),
    ]
    # Each case's steps, in the order the parties act (the serial numbers follow issuance).
    steps = {
        "issued": ["report", "confirmation", "approval", "issuance"],
        "returned-once": ["report", "return", "report", "confirmation", "approval", "issuance"],
        "rejected-nationally": [
            "report",
            "confirmation",
            "rejection",
            "report",
            "confirmation",
            "approval",
            "issuance",
        ],
        "revoked": ["report", "confirmation", "approval", "issuance"],
        "closed-before-issue": ["report"],
        "awaiting-confirmation": ["report"],
        "two-certificates": ["report", "confirmation", "approval", "issuance"],
        "outstanding": ["report", "confirmation", "approval", "issuance"],
        "hours-two-years": ["report", "confirmation", "approval", "issuance"],
    }

    async def case_steps(run: Run) -> None:
        role_of = {
            "report": Role.EVALUATION_INSTITUTION,
            "issuance": Role.EVALUATION_INSTITUTION,
            "confirmation": Role.PROVINCIAL_DEPARTMENT,
            "return": Role.PROVINCIAL_DEPARTMENT,
            "approval": Role.NATIONAL_OFFICE,
            "rejection": Role.NATIONAL_OFFICE,
        }
        reasons = {"return": ["身份证号与照片不符"], "rejection": ["评价记录不完整"]}
        cases = [(label, result[(label, IM)]) for label in steps]
        cases.append(("two-certificates", result[("two-certificates", BD)]))
        for label, case in cases:
            for step in steps[label]:
                role = role_of[step]
                await run.send(
                    f"{step} {label} {case.occupation.code}",
                    "POST",
                    f"/cases/{case.case_id}/{step}",
                    run.tokens(
                        role, case.evaluator_id if role is Role.EVALUATION_INSTITUTION else None
                    ),
                    {"reasons": reasons[step]} if step in reasons else None,
                )

    async def flag_outstanding(run: Run) -> None:
        await run.send(
            "flag outstanding",
            "POST",
            f"/talent-pool/{people['outstanding'].id}/outstanding",
            run.tokens(Role.CITY_BUREAU),
            {"contribution": "主持完成市级智能工厂改造项目"},
        )

    async def observe(run: Run) -> dict[str, Any]:
        city = run.tokens(Role.CITY_BUREAU)
        cases = await run.read("/cases", run.tokens(Role.PROVINCIAL_DEPARTMENT))
        verifications = {}
        for case in cases:
            if case["certificate_number"]:
                verifications[case["certificate_number"]] = await run.read(
                    "/public/certificates/verify",
                    {},
                    number=case["certificate_number"],
                    name=case["holder_name"],
                )
        return {
            "cases": sorted(cases, key=lambda c: c["case_id"]),
            "verifications": verifications,
            "talent pool": sorted(
                await run.read("/talent-pool", city), key=lambda m: m["trainee_id"]
            ),
            "continuing education": {
                year: sorted(
                    await run.read(f"/continuing-education/{year}", city),
                    key=lambda c: (c["trainee_id"], c["programme_id"]),
                )
                for year in (2025, 2026)
            },
            "eligibility": {
                label: await run.read(
                    f"/talent/{person.id}/eligibility", city, title_series="工程系列"
                )
                for label, person in people.items()
            },
        }

    def fates_of(views: dict[str, Any]) -> dict[str, str]:
        label_of = {str(p.id): label for label, p in people.items()}
        fates = {
            f"{label_of[c['trainee_id']]} {c['occupation_code']}": c["status"]
            for c in views["cases"]
        }
        pool = {label_of[m["trainee_id"]]: m["peony_card_priority"] for m in views["talent pool"]}
        return {**fates, **{f"{label} peony card priority": str(f) for label, f in pool.items()}}

    def admitted_with_a_revoked_certificate(
        events: list[IntegrationEvent],
    ) -> list[IntegrationEvent]:
        # Admission needs the certificate and the holder's county. When the county arrives only
        # after the revocation, there is never an admission; when it arrives before, there is one,
        # which the revocation ends. The pool itself (compared in the views) is the same.
        revoked = {
            e.payload.certificate_number for e in events if e.event_type == "CertificateRevoked"
        }
        return [
            e
            for e in events
            if e.event_type == "TalentPoolAdmitted" and e.payload.certificate_number in revoked
        ]

    return Scenario(
        service="certification",
        definition=certification_definition,
        settings_class=CertificationSettings,
        enrolled=tuple(people.values()),
        stages=(
            Stage(tuple(timeline), case_steps, frozenset({ASSESSMENT})),
            Stage(tuple(voidings), flag_outstanding),
        ),
        observe=observe,
        fates={
            f"issued {IM.code}": "issued",
            f"returned-once {IM.code}": "issued",
            f"rejected-nationally {IM.code}": "issued",
            f"revoked {IM.code}": "revoked",
            f"closed-before-issue {IM.code}": "closed",
            f"awaiting-confirmation {IM.code}": "awaiting_confirmation",
            f"awaiting-report {IM.code}": "awaiting_report",
            f"two-certificates {IM.code}": "issued",
            f"two-certificates {BD.code}": "issued",
            f"outstanding {IM.code}": "issued",
            f"hours-two-years {IM.code}": "issued",
            "issued peony card priority": "False",
            "returned-once peony card priority": "False",
            "rejected-nationally peony card priority": "False",
            "two-certificates peony card priority": "False",
            "outstanding peony card priority": "True",
            "hours-two-years peony card priority": "False",
        },
        fates_of=fates_of,
        transient=admitted_with_a_revoked_certificate,
    )


# Subsidy: consumes enrollment (enrolments, completions) and certification (issued, revoked)


def subsidy_scenario() -> Scenario:
    enrollment_log, certification_log = (
        Upstream(Producer.ENROLLMENT),
        Upstream(Producer.CERTIFICATION),
    )
    bd, bd_intermediate = Programme("bd", BD), Programme("bd-intermediate", BD, Level.INTERMEDIATE)
    outside_plan = Programme("im-outside-plan", IM, subsidised=False)
    people = {
        label: Person(label, number)
        for number, label in enumerate(
            [
                "claims-early",
                "claims-after-facts",
                "outside-plan",
                "wrong-level",
                "withdrew",
                "no-level-certificate",
                "claims-twice",
                "revoked-after-payment",
                "two-levels",
                "institution-claims",
                "never-enrolled",
                "still-waiting",
            ],
            start=41,
        )
    }
    programmes_of = {label: [bd] for label in people if label != "never-enrolled"}
    programmes_of["outside-plan"] = [outside_plan]
    programmes_of["two-levels"] = [bd, bd_intermediate]
    completed = [
        label for label in programmes_of if label not in ("withdrew", "outside-plan", "wrong-level")
    ]
    certified_people = [
        label for label in completed if label not in ("no-level-certificate", "still-waiting")
    ]
    # (name of the claim, trainee, programme, level claimed), in the order they are filed
    early_claims = [
        ("claims-early", bd, "junior"),
        ("outside-plan", outside_plan, "junior"),
        ("wrong-level", bd, "intermediate"),
        ("withdrew", bd, "junior"),
        ("no-level-certificate", bd, "junior"),
        ("claims-twice", bd, "junior"),
        ("claims-twice", bd, "junior"),
        ("revoked-after-payment", bd, "junior"),
        ("two-levels", bd, "junior"),
        ("two-levels", bd_intermediate, "intermediate"),
        ("never-enrolled", bd, "junior"),
        ("still-waiting", bd, "junior"),
    ]

    registrations = [registered(enrollment_log, p) for p in people.values()]
    # In time order: the cohort enrols (one withdraws) and completes, then is certified.
    timeline: list[IntegrationEvent] = [
        enrolment(enrollment_log, people[label], programme)
        for label, programmes in programmes_of.items()
        for programme in programmes
    ]
    timeline.append(withdrawal(enrollment_log, people["withdrew"], bd))
    timeline += [
        completion(enrollment_log, people[label], programme)
        for label in completed
        for programme in programmes_of[label]
    ]
    timeline += [
        e
        for label in certified_people
        for programme in programmes_of[label]
        for e in certification_facts(certification_log, people[label], programme)
    ]
    revocations = [revocation(certification_log, people["revoked-after-payment"], bd)]

    async def file(run: Run, label: str, programme: Programme, level: str) -> None:
        person = people[label]
        institution = label == "institution-claims"
        answer = await run.send(
            f"claim {label} {programme.label} {level}",
            "POST",
            "/claims",
            run.tokens(Role.TRAINING_INSTITUTION, programme.institution_id)
            if institution
            else run.tokens(Role.TRAINEE, subject=str(person.id)),
            {
                "programme_id": str(programme.id),
                "occupation_code": programme.occupation.code,
                "level": level,
                **({"trainee_id": str(person.id)} if institution else {}),
            },
        )
        claims = [name for name in run.ids if name.startswith(f"claim {label} ")]
        run.remember(f"claim {label} {len(claims) + 1}", answer["claim_id"])

    async def before_the_facts(run: Run) -> None:
        await run.send(
            "let institutions claim",
            "PUT",
            "/policy",
            run.tokens(Role.CITY_BUREAU),
            {"policy": {"institutions_may_claim": True}, "effective_from": "2026-01-01"},
        )
        for label, programme, level in early_claims:
            await file(run, label, programme, level)

    async def late_claims(run: Run) -> None:
        await file(run, "claims-after-facts", bd, "junior")
        await file(run, "institution-claims", bd, "junior")

    async def payments(run: Run) -> None:
        for number, name in enumerate(
            [
                "claim claims-early 1",
                "claim claims-after-facts 1",
                "claim claims-twice 1",
                "claim revoked-after-payment 1",
                "claim two-levels 1",
                "claim two-levels 2",
                "claim institution-claims 1",
            ],
            start=1,
        ):
            await run.send(
                f"pay {name}",
                "POST",
                f"/claims/{run.ids[name]}/payment",
                run.tokens(Role.CITY_BUREAU),
                {"payment_reference": f"HZCZ-2026-{number:04d}"},
            )

    async def city_decides(run: Run) -> None:
        for name in ["claim withdrew 1", "claim no-level-certificate 1", "claim never-enrolled 1"]:
            await run.send(
                f"decide {name}",
                "POST",
                f"/claims/{run.ids[name]}/decision",
                run.tokens(Role.CITY_BUREAU),
            )

    async def observe(run: Run) -> dict[str, Any]:
        city = run.tokens(Role.CITY_BUREAU)
        await remember_standards(run, city)
        return {
            "claims": {
                label: await run.read("/claims", city, trainee_id=str(person.id))
                for label, person in people.items()
            },
            "disbursements": await run.read("/reports/disbursements/2026-11", city),
        }

    def fates_of(views: dict[str, Any]) -> dict[str, str]:
        return {
            f"{label} {number}": claim["status"]
            + (f" {claim['reason_code']}" if claim["reason_code"] else "")
            for label, claims in views["claims"].items()
            for number, claim in enumerate(claims, start=1)
        }

    both = frozenset({ENROLLMENT, CERTIFICATION})
    return Scenario(
        service="subsidy",
        definition=subsidy_definition,
        settings_class=SubsidySettings,
        stages=(
            Stage(tuple(registrations), before_the_facts),
            # An institution may claim only for a trainee whose enrolment is known.
            Stage(tuple(timeline), late_claims, frozenset({ENROLLMENT})),
            Stage(commands=payments, needs=both),
            Stage(tuple(revocations), city_decides, both),
        ),
        observe=observe,
        fates={
            "claims-early 1": "paid",
            "claims-after-facts 1": "paid",
            "outside-plan 1": "rejected not_in_subsidised_plan",
            "wrong-level 1": "rejected programme_mismatch",
            "withdrew 1": "rejected not_completed",
            "no-level-certificate 1": "rejected certificate_missing",
            "claims-twice 1": "paid",
            "claims-twice 2": "rejected already_subsidised",
            "revoked-after-payment 1": "paid",
            "two-levels 1": "paid",
            "two-levels 2": "paid",
            "institution-claims 1": "paid",
            "never-enrolled 1": "rejected not_enrolled",
            "still-waiting 1": "waiting",
        },
        fates_of=fates_of,
    )


SCENARIOS = {
    "assessment": assessment_scenario,
    "certification": certification_scenario,
    "subsidy": subsidy_scenario,
}
# (service, seed, the topic held back or None): each consumed topic is delayed once, and one seed
# only interleaves the topics at random (assessment consumes one topic: it is always delayed).
CASES = [
    ("assessment", 1, ENROLLMENT),
    ("assessment", 2, ENROLLMENT),
    ("assessment", 3, ENROLLMENT),
    ("certification", 1, ENROLLMENT),
    ("certification", 2, ASSESSMENT),
    ("certification", 3, None),
    ("subsidy", 1, ENROLLMENT),
    ("subsidy", 2, CERTIFICATION),
    ("subsidy", 3, None),
]


@pytest.fixture(scope="module")
def undisturbed_states() -> dict[str, FinalState]:
    """Each service's undisturbed run, played once for all seeds."""
    return {}


@pytest.mark.parametrize(
    ("service", "seed", "delayed_topic"),
    CASES,
    ids=[
        f"{service}-seed{seed}-{delayed.split('.')[0] + '-delayed' if delayed else 'interleaved'}"
        for service, seed, delayed in CASES
    ],
)
async def test_duplicates_and_disorder_leave_the_final_state_unchanged(
    service: str,
    seed: int,
    delayed_topic: str | None,
    new_database: Callable[[], str],
    kafka_bootstrap_servers: str,
    undisturbed_states: dict[str, FinalState],
) -> None:
    scenario = SCENARIOS[service]()
    undisturbed = natural(scenario.stages)
    if service not in undisturbed_states:
        state = await play_scenario(scenario, undisturbed, new_database(), kafka_bootstrap_servers)
        assert scenario.fates_of(state.views) == scenario.fates
        assert [code for _, code in state.answers if code >= 300] == []
        assert state.consumed[Outcome.DUPLICATE] == state.consumed[Outcome.DEAD_LETTERED] == 0
        undisturbed_states[service] = state
    expected = undisturbed_states[service]
    schedule = disturbed(scenario.stages, random.Random(seed), delayed_topic)
    actual = await play_scenario(scenario, schedule, new_database(), kafka_bootstrap_servers)
    print(
        f"{service} seed {seed}: {len(schedule.deliveries)} deliveries, {schedule.redeliveries}"
        f" redelivered ({actual.consumed[Outcome.DUPLICATE]} skipped as duplicates, the others"
        f" ignored), {schedule.inversions(undisturbed)} cross-topic pairs reordered,"
        f" {schedule.held_back(undisturbed)} held back past commands"
    )

    assert actual.answers == expected.answers
    assert actual.views == expected.views
    assert actual.published == expected.published
    # Nothing was applied twice or lost, and every redelivery reached the consumer and was skipped
    # (or ignored, like its original). More is fine: a rebalance redelivers what was in flight.
    assert actual.consumed[Outcome.APPLIED] == expected.consumed[Outcome.APPLIED]
    assert actual.consumed[Outcome.DUPLICATE] > 0
    assert (
        actual.consumed[Outcome.DUPLICATE]
        + actual.consumed[Outcome.IGNORED]
        - expected.consumed[Outcome.IGNORED]
        >= schedule.redeliveries
    )
    assert actual.consumed[Outcome.DEAD_LETTERED] == 0


async def remember_standards(run: Run, city: dict[str, str]) -> None:
    """Standards are seeded with random ids per run: name them by occupation and level."""
    for standard in await run.read("/standards", city):
        run.remember(
            f"standard {standard['occupation_code']} {standard['level']}", standard["standard_id"]
        )


def overtaking_revocation_scenario() -> Scenario:
    """A trainee claims before any fact is known; the training, the certificate and its
    revocation all happen afterwards (the claim is filed at TODAY, the facts come later). The
    claim is approved on the facts and then cancelled by the revocation, whichever comes first."""
    enrollment_log, certification_log = (
        Upstream(Producer.ENROLLMENT, started=TODAY),
        Upstream(Producer.CERTIFICATION, started=TODAY + timedelta(days=30)),
    )
    bd, person = Programme("bd", BD), Person("revoked-while-waiting", 61)
    facts = [
        enrolment(enrollment_log, person, bd),
        completion(enrollment_log, person, bd),
        *certification_facts(certification_log, person, bd),
        revocation(certification_log, person, bd),
    ]

    async def claim(run: Run) -> None:
        answer = await run.send(
            "claim",
            "POST",
            "/claims",
            run.tokens(Role.TRAINEE, subject=str(person.id)),
            {"programme_id": str(bd.id), "occupation_code": BD.code, "level": "junior"},
        )
        run.remember("claim", answer["claim_id"])

    async def observe(run: Run) -> dict[str, Any]:
        city = run.tokens(Role.CITY_BUREAU)
        await remember_standards(run, city)
        return {"claims": await run.read("/claims", city, trainee_id=str(person.id))}

    return Scenario(
        service="subsidy",
        definition=subsidy_definition,
        settings_class=SubsidySettings,
        stages=(Stage(commands=claim), Stage(tuple(facts))),
        observe=observe,
        fates={"claim": "cancelled"},
        fates_of=lambda views: {"claim": views["claims"][0]["status"]},
    )


async def test_a_revocation_overtaking_a_lagging_enrolment_leaves_the_decision_unchanged(
    new_database: Callable[[], str], kafka_bootstrap_servers: str
) -> None:
    scenario = overtaking_revocation_scenario()
    undisturbed = await play_scenario(
        scenario, natural(scenario.stages), new_database(), kafka_bootstrap_servers
    )
    assert scenario.fates_of(undisturbed.views) == scenario.fates
    schedule = disturbed(scenario.stages, random.Random(1), ENROLLMENT)

    lagging = await play_scenario(scenario, schedule, new_database(), kafka_bootstrap_servers)

    assert lagging.views == undisturbed.views
