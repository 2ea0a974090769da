"""Trainees: registration (who may take part), enrolments, the training record, completion."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from heze_common.errors import InvalidInput, NotFound, Refusal
from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import (
    Education,
    ErasureGrounds,
    Field,
    HourKind,
    HourMode,
    Level,
    ParticipantCategory,
    RetirementGroup,
    Sex,
)
from heze_enrollment.domain.counties import COUNTIES
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.programme import Programme
from heze_enrollment.domain.retention import RetentionRule
from heze_enrollment.domain.retirement import is_past_retirement_age, retirement_date

MAX_HOURS_PER_DAY = Decimal(24)
PHONE = re.compile(r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$")


class EnrolmentStatus(StrEnum):
    ENROLLED = "enrolled"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"


@dataclass
class Enrolment:
    """One programme in a trainee's record."""

    programme_id: UUID
    institution_id: UUID
    occupation_code: str
    field: Field
    level: Level
    subsidised_plan: bool
    required_hours: dict[HourKind, Decimal]
    completion_pass_mark: Decimal
    enrolled_on: date
    status: EnrolmentStatus = EnrolmentStatus.ENROLLED
    hours_by_kind: dict[HourKind, Decimal] = field(
        default_factory=lambda: {kind: Decimal(0) for kind in HourKind}
    )
    hours_by_mode: dict[HourMode, Decimal] = field(
        default_factory=lambda: {mode: Decimal(0) for mode in HourMode}
    )
    hours_by_day: dict[date, Decimal] = field(default_factory=dict)
    exam_score: Decimal | None = None
    certificate_number: str | None = None
    completed_on: date | None = None

    @property
    def total_hours(self) -> Decimal:
        return sum(self.hours_by_kind.values(), Decimal(0))

    def missing_hours(self) -> dict[HourKind, Decimal]:
        return {
            kind: required - self.hours_by_kind[kind]
            for kind, required in self.required_hours.items()
            if self.hours_by_kind[kind] < required
        }


class Trainee(Aggregate):
    TOPIC = "enrollment.Trainee"

    class Registered(AggregateCreated):
        TOPIC = "enrollment.Trainee.Registered.v1"
        class_version = 2
        personal_fields = ("name", "id_number", "birth_date", "phone", "employer")
        name: str | None
        id_number: str | None
        sex: Sex
        birth_date: date | None
        phone: str | None
        education: Education
        major: str
        employer: str | None
        county: str
        participant_category: ParticipantCategory
        draws_pension: bool
        retirement_group: RetirementGroup | None
        registered_on: date
        registered_by_institution_id: UUID | None
        account: str | None
        registrant_consent: bool | None
        """An institution's statement that the person consented (None for a trainee's own
        registration, and unrecorded before v2)."""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["registrant_consent"] = None

    class Erased(Aggregate.Event):
        """The person's data erased (their key deleted in every service): on the city bureau's
        decision, or when the retention period of a registrant without training ended."""

        TOPIC = "enrollment.Trainee.Erased.v1"
        grounds: ErasureGrounds
        reason: str
        erased_on: date

        def apply(self, trainee: Trainee) -> None:
            trainee.name = trainee.id_number = trainee.phone = trainee.employer = None
            trainee.birth_date = None
            trainee.erasure = self

    class RegistrantAdded(Aggregate.Event):
        """An institution registered a person already registered: it now acts for them as
        their registrant, on its statement of their consent."""

        TOPIC = "enrollment.Trainee.RegistrantAdded.v1"
        institution_id: UUID
        consent: bool
        added_on: date

        def apply(self, trainee: Trainee) -> None:
            trainee.registrant_institution_ids.add(self.institution_id)
            trainee.registrations_on.append(self.added_on)

    class Enrolled(Aggregate.Event):
        TOPIC = "enrollment.Trainee.Enrolled.v1"
        programme_id: UUID
        institution_id: UUID
        occupation_code: str
        field: Field
        level: Level
        subsidised_plan: bool
        required_hours: dict[HourKind, Decimal]
        completion_pass_mark: Decimal
        enrolled_on: date

        def apply(self, trainee: Trainee) -> None:
            trainee.enrolments[self.programme_id] = Enrolment(
                programme_id=self.programme_id,
                institution_id=self.institution_id,
                occupation_code=self.occupation_code,
                field=self.field,
                level=self.level,
                subsidised_plan=self.subsidised_plan,
                required_hours=dict(self.required_hours),
                completion_pass_mark=self.completion_pass_mark,
                enrolled_on=self.enrolled_on,
            )

    class Withdrew(Aggregate.Event):
        TOPIC = "enrollment.Trainee.Withdrew.v1"
        programme_id: UUID
        institution_id: UUID
        occupation_code: str
        level: Level
        reason: str
        withdrawn_on: date

        def apply(self, trainee: Trainee) -> None:
            trainee.enrolments[self.programme_id].status = EnrolmentStatus.WITHDRAWN
            trainee.withdrawals[self.programme_id] = self.withdrawn_on

    class SessionLogged(Aggregate.Event):
        TOPIC = "enrollment.Trainee.SessionLogged.v1"
        programme_id: UUID
        day: date
        hours: Decimal
        kind: HourKind
        mode: HourMode

        def apply(self, trainee: Trainee) -> None:
            record = trainee.enrolments[self.programme_id]
            record.hours_by_kind[self.kind] += self.hours
            record.hours_by_mode[self.mode] += self.hours
            record.hours_by_day[self.day] = (
                record.hours_by_day.get(self.day, Decimal(0)) + self.hours
            )

    class ExamRecorded(Aggregate.Event):
        TOPIC = "enrollment.Trainee.ExamRecorded.v1"
        programme_id: UUID
        score: Decimal

        def apply(self, trainee: Trainee) -> None:
            trainee.enrolments[self.programme_id].exam_score = self.score

    class Completed(Aggregate.Event):
        TOPIC = "enrollment.Trainee.Completed.v1"
        programme_id: UUID
        institution_id: UUID
        occupation_code: str
        field: Field
        level: Level
        subsidised_plan: bool
        hours_by_kind: dict[HourKind, Decimal]
        hours_by_mode: dict[HourMode, Decimal]
        total_hours: Decimal
        exam_score: Decimal
        certificate_number: str
        completed_on: date

        def apply(self, trainee: Trainee) -> None:
            record = trainee.enrolments[self.programme_id]
            record.status = EnrolmentStatus.COMPLETED
            record.certificate_number = self.certificate_number
            record.completed_on = self.completed_on

    @event(Registered)
    def __init__(
        self,
        id: UUID,  # noqa: A002 - given, not generated: derived from the ID number by the application
        name: str | None,
        id_number: str | None,
        sex: Sex,
        birth_date: date | None,
        phone: str | None,
        education: Education,
        major: str,
        employer: str | None,
        county: str,
        participant_category: ParticipantCategory,
        draws_pension: bool,
        retirement_group: RetirementGroup | None,
        registered_on: date,
        registered_by_institution_id: UUID | None,
        account: str | None,
        registrant_consent: bool | None,
    ) -> None:
        self.name = name
        self.id_number = id_number
        self.sex = sex
        self.birth_date = birth_date
        self.phone = phone
        self.education = education
        self.major = major
        self.employer = employer
        self.county = county
        self.participant_category = participant_category
        self.retirement_group = retirement_group
        self.registered_on = registered_on
        self.registered_by_institution_id = registered_by_institution_id
        self.account = account
        self.registrant_consent = registrant_consent
        self.registrant_institution_ids: set[UUID] = (
            {registered_by_institution_id} if registered_by_institution_id else set()
        )
        self.enrolments: dict[UUID, Enrolment] = {}
        self.withdrawals: dict[UUID, date] = {}
        self.registrations_on = [registered_on]
        """The first registration's date, and each institution's that registered them again."""
        self.erasure: Trainee.Erased | None = None

    @classmethod
    def register(
        cls,
        *,
        trainee_id: UUID,
        name: str,
        identity: ResidentId,
        declared_sex: Sex | None,
        declared_birth_date: date | None,
        phone: str,
        education: Education,
        major: str,
        employer: str | None,
        county: str,
        participant_category: ParticipantCategory,
        draws_pension: bool,
        retirement_group: RetirementGroup | None,
        registered_on: date,
        registered_by_institution_id: UUID | None,
        account: str | None,
        person_consents: bool = False,
    ) -> Trainee:
        """A new trainee; registered by an institution only with the person's consent."""
        if registered_by_institution_id is not None and not person_consents:
            raise InvalidInput(
                "consent_required",
                "an institution registers a person only with their consent: person_consents"
                " must be true",
                field="person_consents",
            )
        if not name.strip():
            raise InvalidInput("blank_name", "the name must not be blank", field="name")
        if declared_sex is not None and declared_sex != identity.sex:
            raise InvalidInput(
                "id_number_mismatch", "the declared sex differs from the ID number's", field="sex"
            )
        if declared_birth_date is not None and declared_birth_date != identity.birth_date:
            raise InvalidInput(
                "id_number_mismatch",
                "the declared birth date differs from the ID number's",
                field="birth_date",
            )
        if identity.birth_date >= registered_on:
            raise InvalidInput(
                "invalid_id_number",
                "the ID number's birth date is in the future",
                field="id_number",
            )
        if identity.sex is Sex.FEMALE and retirement_group is None:
            raise InvalidInput(
                "retirement_group_required",
                "women must state their retirement group (female_50 or female_55)",
                field="retirement_group",
            )
        if identity.sex is Sex.MALE and retirement_group is not None:
            raise InvalidInput(
                "retirement_group_not_applicable",
                "the retirement group applies to women only",
                field="retirement_group",
            )
        if not PHONE.fullmatch(phone):
            raise InvalidInput(
                "invalid_phone",
                "give an 11-digit mobile or an area-code landline number",
                field="phone",
            )
        if county not in COUNTIES:
            raise InvalidInput(
                "unknown_county", f"{county} is not a county or district of Heze", field="county"
            )
        if draws_pension:
            raise InvalidInput(
                "retired", "people who draw a pension cannot take part", field="draws_pension"
            )
        if is_past_retirement_age(
            identity.birth_date, identity.sex, retirement_group, registered_on
        ):
            reached = retirement_date(
                identity.birth_date, identity.sex, retirement_group, registered_on
            )
            raise InvalidInput(
                "retired",
                f"past the statutory retirement age (reached on {reached})",
                field="id_number",
            )
        return cls(
            id=trainee_id,
            name=name.strip(),
            id_number=identity.number,
            sex=identity.sex,
            birth_date=identity.birth_date,
            phone=phone,
            education=education,
            major=major,
            employer=employer,
            county=county,
            participant_category=participant_category,
            draws_pension=False,
            retirement_group=retirement_group,
            registered_on=registered_on,
            registered_by_institution_id=registered_by_institution_id,
            account=account,
            registrant_consent=None if registered_by_institution_id is None else person_consents,
        )

    def erase(self, grounds: ErasureGrounds, reason: str, today: date) -> None:
        """Record the erasure; the reason stays in the log for ever, so it may not name the
        person."""
        reason = reason.strip()
        if not reason:
            raise InvalidInput("blank_reason", "give the reason for the erasure", field="reason")
        personal = (self.name, self.id_number, self.phone)
        if any(value and value in reason for value in personal):
            raise InvalidInput(
                "reason_names_the_person",
                "the reason is kept after the erasure: it may not contain the person's name,"
                " ID number or phone",
                field="reason",
            )
        self.trigger_event(self.Erased, grounds=grounds, reason=reason, erased_on=today)

    def is_past_retention(self, rule: RetentionRule, today: date) -> bool:
        """A registrant the programme need not keep (never enrolled, or withdrawn from every
        enrolment) whose last registration or withdrawal is older than the period in force."""
        if any(
            record.status is not EnrolmentStatus.WITHDRAWN for record in self.enrolments.values()
        ):
            return False
        last = max([*self.registrations_on, *self.withdrawals.values()])
        return (today - last).days > rule.days_on(today)

    def add_registrant(self, institution_id: UUID, today: date) -> None:
        """An institution that registers this person again, with their consent, becomes one of
        their registrants (nothing changes when it already is)."""
        if institution_id not in self.registrant_institution_ids:
            self.trigger_event(
                self.RegistrantAdded, institution_id=institution_id, consent=True, added_on=today
            )

    def enrolment(self, programme_id: UUID) -> Enrolment:
        try:
            return self.enrolments[programme_id]
        except KeyError:
            raise NotFound(
                "not_enrolled",
                "the trainee is not enrolled in this programme",
                field="programme_id",
            ) from None

    def enrol(self, programme: Programme, today: date) -> None:
        for record in self.enrolments.values():
            if (
                record.occupation_code == programme.occupation_code
                and record.level is programme.level
                and record.status is not EnrolmentStatus.WITHDRAWN
            ):
                raise Refusal(
                    "already_enrolled_same_level",
                    f"already enrolled in {programme.occupation_code} at {programme.level.label} level",
                    field="programme_id",
                    programme_id=str(record.programme_id),
                )
        self.trigger_event(
            self.Enrolled,
            programme_id=programme.id,
            institution_id=programme.institution_id,
            occupation_code=programme.occupation_code,
            field=programme.field,
            level=programme.level,
            subsidised_plan=programme.subsidised_plan,
            required_hours=programme.required_hours,
            completion_pass_mark=programme.completion_pass_mark,
            enrolled_on=today,
        )

    def withdraw(self, programme_id: UUID, reason: str, today: date) -> None:
        record = self._active(programme_id)
        if not reason.strip():
            raise InvalidInput("blank_reason", "give a reason for the withdrawal", field="reason")
        self.trigger_event(
            self.Withdrew,
            programme_id=programme_id,
            institution_id=record.institution_id,
            occupation_code=record.occupation_code,
            level=record.level,
            reason=reason.strip(),
            withdrawn_on=today,
        )

    def log_session(
        self, programme: Programme, day: date, hours: Decimal, kind: HourKind, mode: HourMode
    ) -> None:
        self._active(programme.id)
        if hours <= 0:
            raise InvalidInput("invalid_hours", "hours must be more than zero", field="hours")
        if hours != hours.quantize(Decimal("0.1")):
            raise InvalidInput(
                "invalid_hours", "hours have at most one decimal place", field="hours"
            )
        programme.ensure_within_dates(day)
        logged_that_day = sum(
            (record.hours_by_day.get(day, Decimal(0)) for record in self.enrolments.values()),
            Decimal(0),
        )
        if logged_that_day + hours > MAX_HOURS_PER_DAY:
            raise Refusal(
                "daily_hours_exceeded",
                f"{logged_that_day} hours are already logged on {day}; {hours} more would pass 24",
                field="hours",
            )
        self.trigger_event(
            self.SessionLogged,
            programme_id=programme.id,
            day=day,
            hours=hours,
            kind=kind,
            mode=mode,
        )

    def record_exam(self, programme_id: UUID, score: Decimal) -> None:
        self._active(programme_id)
        if not Decimal(0) <= score <= Decimal(100) or score != score.quantize(Decimal("0.1")):
            raise InvalidInput(
                "invalid_score", "a score is 0 to 100 with at most one decimal place", field="score"
            )
        self.trigger_event(self.ExamRecorded, programme_id=programme_id, score=score)

    def ensure_may_complete(self, programme_id: UUID) -> Enrolment:
        """Refuse before a certificate number is drawn: a drawn number not issued is a gap."""
        record = self._active(programme_id)
        missing = record.missing_hours()
        if missing:
            detail = ", ".join(f"{kind.value} {hours}" for kind, hours in missing.items())
            raise Refusal("hours_not_met", f"required hours not met: {detail} short", field="hours")
        if record.exam_score is None:
            raise Refusal("exam_not_taken", "no completion exam result is recorded", field="score")
        if record.exam_score < record.completion_pass_mark:
            raise Refusal(
                "exam_not_passed",
                f"exam score {record.exam_score} is below the pass mark {record.completion_pass_mark}",
                field="score",
            )
        return record

    def complete(self, programme_id: UUID, certificate_number: str, today: date) -> None:
        record = self.ensure_may_complete(programme_id)
        self.trigger_event(
            self.Completed,
            programme_id=programme_id,
            institution_id=record.institution_id,
            occupation_code=record.occupation_code,
            field=record.field,
            level=record.level,
            subsidised_plan=record.subsidised_plan,
            hours_by_kind=record.hours_by_kind,
            hours_by_mode=record.hours_by_mode,
            total_hours=record.total_hours,
            exam_score=record.exam_score,
            certificate_number=certificate_number,
            completed_on=today,
        )

    def _active(self, programme_id: UUID) -> Enrolment:
        record = self.enrolment(programme_id)
        if record.status is EnrolmentStatus.WITHDRAWN:
            raise Refusal("trainee_withdrawn", "the trainee has withdrawn from this programme")
        if record.status is EnrolmentStatus.COMPLETED:
            raise Refusal("already_completed", "the trainee has already completed this programme")
        return record
