"""Commands and queries of the enrollment service, on its event store."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from heze_common import clock
from heze_common.errors import Refusal
from heze_common.eventstore import ServiceApplication
from heze_common.serials import Series, issued_by_retired_register, serial_numbers_for
from heze_contracts.enums import (
    Education,
    Field,
    HourKind,
    HourMode,
    Level,
    ParticipantCategory,
    RetirementGroup,
    Sex,
)
from heze_enrollment.domain.certificates import (
    PREFIX,
    TrainingCertificateRegister,
    training_certificate_number,
)
from heze_enrollment.domain.identity import ResidentId
from heze_enrollment.domain.institution import SEED_DIRECTORY, Institution
from heze_enrollment.domain.occupations import (
    OCCUPATION_TABLE_ID,
    OccupationTable,
    seeded_occupation_table,
)
from heze_enrollment.domain.programme import Programme
from heze_enrollment.domain.trainee import Trainee
from heze_enrollment.settings import EnrollmentSettings


class EnrollmentApplication(ServiceApplication):
    # A programme gains an event per seat taken or released and is loaded by every enrolment,
    # withdrawal and logged session; the other aggregates' histories stay short (a trainee's is
    # tens of events per programme, and holds personal data a snapshot would copy).
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Programme: 50}

    def __init__(self, settings: EnrollmentSettings) -> None:
        super().__init__(settings)
        self._identity_key = settings.resolved_cipher_key().encode()
        self.serials = serial_numbers_for(self.recorder)

    # Reference data

    def seed(self, *, with_directory: bool) -> None:
        """The occupation table, and in the embedded/demo mode the plan's three institutions."""
        if not self.exists(OCCUPATION_TABLE_ID):
            self.save(seeded_occupation_table())
        if with_directory:
            for number, name, fields, contact, phone in SEED_DIRECTORY:
                if not self.exists(Institution.create_id(name)):
                    self.save(Institution.accredit(number, name, fields, contact, phone))

    def occupation_table(self) -> OccupationTable:
        return self.get(OccupationTable, OCCUPATION_TABLE_ID, "occupation table")

    def define_occupation(self, code: str, field: Field, name: str, effective_from: date) -> None:
        table = self.occupation_table()
        table.define_occupation(code, field, name, effective_from)
        self.save(table)

    def set_hour_requirement(
        self, code: str, level: Level, hours: dict[HourKind, Decimal], effective_from: date
    ) -> None:
        table = self.occupation_table()
        table.set_hour_requirement(code, level, hours, effective_from)
        self.save(table)

    # Institutions directory

    def accredit_institution(
        self,
        directory_number: int | None,
        name: str,
        fields: list[Field],
        contact_name: str,
        contact_phone: str,
    ) -> UUID:
        existing = Institution.create_id(name)
        if self.exists(existing):
            raise Refusal(
                "already_accredited",
                f"{name} is already in the directory",
                institution_id=str(existing),
            )
        institution = Institution.accredit(
            directory_number, name, fields, contact_name, contact_phone
        )
        self.save(institution)
        return institution.id

    def institution(self, institution_id: UUID) -> Institution:
        return self.get(Institution, institution_id, "institution")

    def change_scope(self, institution_id: UUID, fields: list[Field]) -> None:
        institution = self.institution(institution_id)
        institution.change_scope(fields)
        self.save(institution)

    def suspend_institution(self, institution_id: UUID, reason: str) -> None:
        institution = self.institution(institution_id)
        institution.suspend(reason)
        self.save(institution)

    def reinstate_institution(self, institution_id: UUID) -> None:
        institution = self.institution(institution_id)
        institution.reinstate()
        self.save(institution)

    def list_in_city_directory(self, institution_id: UUID, listed: bool) -> None:
        institution = self.institution(institution_id)
        institution.list_in_city_directory(listed)
        self.save(institution)

    # Programmes

    def publish_programme(
        self,
        *,
        institution_id: UUID,
        occupation_code: str,
        level: Level,
        title: str,
        capacity: int,
        starts_on: date,
        ends_on: date,
        required_hours: dict[HourKind, Decimal] | None,
        completion_pass_mark: Decimal,
        subsidised_plan: bool,
        in_city_training_directory: bool,
    ) -> UUID:
        institution = self.institution(institution_id)
        table = self.occupation_table()
        occupation = table.occupation(occupation_code, starts_on)
        institution.ensure_may_train(occupation.field)
        programme = Programme.publish(
            institution_id=institution_id,
            occupation_code=occupation_code,
            field=occupation.field,
            level=level,
            title=title,
            capacity=capacity,
            starts_on=starts_on,
            ends_on=ends_on,
            required_hours=required_hours,
            minimum=table.hour_requirement(occupation_code, level, starts_on),
            completion_pass_mark=completion_pass_mark,
            subsidised_plan=subsidised_plan,
            in_city_training_directory=in_city_training_directory,
        )
        self.save(programme)
        return programme.id

    def programme(self, programme_id: UUID) -> Programme:
        return self.get(Programme, programme_id, "programme")

    def close_enrolment(self, programme_id: UUID) -> None:
        programme = self.programme(programme_id)
        programme.close_enrolment()
        self.save(programme)

    def change_city_plan(
        self, programme_id: UUID, subsidised_plan: bool, in_city_training_directory: bool
    ) -> None:
        programme = self.programme(programme_id)
        programme.change_city_plan(subsidised_plan, in_city_training_directory)
        self.save(programme)

    # Trainees

    def trainee_id_for(self, id_number: str) -> UUID:
        """A stable id per person, not reversible to the ID number without the service's key."""
        digest = hmac.new(self._identity_key, id_number.encode(), hashlib.sha256).digest()
        return UUID(bytes=digest[:16], version=4)

    def register_trainee(
        self,
        *,
        name: str,
        id_number: str,
        sex: Sex | None,
        birth_date: date | None,
        phone: str,
        education: Education,
        major: str,
        employer: str | None,
        county: str,
        participant_category: ParticipantCategory,
        draws_pension: bool,
        retirement_group: RetirementGroup | None,
        registered_by_institution_id: UUID | None,
        account: str | None,
    ) -> UUID:
        identity = ResidentId.parse(id_number)
        trainee_id = self.trainee_id_for(identity.number)
        if self.exists(trainee_id):
            raise Refusal(
                "already_registered",
                "this ID number is already registered",
                field="id_number",
                trainee_id=str(trainee_id),
            )
        trainee = Trainee.register(
            trainee_id=trainee_id,
            name=name,
            identity=identity,
            declared_sex=sex,
            declared_birth_date=birth_date,
            phone=phone,
            education=education,
            major=major,
            employer=employer,
            county=county,
            participant_category=participant_category,
            draws_pension=draws_pension,
            retirement_group=retirement_group,
            registered_on=clock.today(),
            registered_by_institution_id=registered_by_institution_id,
            account=account,
        )
        self.save(trainee)
        return trainee.id

    def trainee(self, trainee_id: UUID) -> Trainee:
        return self.get(Trainee, trainee_id, "trainee")

    def enrol(self, trainee_id: UUID, programme_id: UUID) -> None:
        trainee = self.trainee(trainee_id)
        programme = self.programme(programme_id)
        self.institution(programme.institution_id).ensure_may_train(programme.field)
        today = clock.today()
        trainee.enrol(programme, today)
        programme.take_seat(trainee.id, today)
        self.save(trainee, programme)

    def withdraw(self, trainee_id: UUID, programme_id: UUID, reason: str) -> None:
        trainee = self.trainee(trainee_id)
        programme = self.programme(programme_id)
        trainee.withdraw(programme_id, reason, clock.today())
        programme.release_seat(trainee_id)
        self.save(trainee, programme)

    def log_session(
        self,
        trainee_id: UUID,
        programme_id: UUID,
        day: date,
        hours: Decimal,
        kind: HourKind,
        mode: HourMode,
    ) -> None:
        trainee = self.trainee(trainee_id)
        trainee.log_session(self.programme(programme_id), day, hours, kind, mode)
        self.save(trainee)

    def record_exam(self, trainee_id: UUID, programme_id: UUID, score: Decimal) -> None:
        trainee = self.trainee(trainee_id)
        trainee.record_exam(programme_id, score)
        self.save(trainee)

    def complete(self, trainee_id: UUID, programme_id: UUID) -> str:
        trainee = self.trainee(trainee_id)
        record = trainee.ensure_may_complete(programme_id)  # refused before it draws a number
        today = clock.today()
        serial = self.serials.draw(
            Series(PREFIX, today.year),
            issued_before=lambda: issued_by_retired_register(
                self.recorder, TrainingCertificateRegister.create_id(today.year)
            ),
        )
        number = training_certificate_number(today.year, record.occupation_code, serial)
        trainee.complete(programme_id, number, today)
        self.save(trainee)
        return number
