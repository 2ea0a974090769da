"""The enrollment service's command handlers and queries, on its event store."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, ClassVar
from uuid import UUID

from heze_common import clock
from heze_common.auth import Principal
from heze_common.commands import Decision, handles
from heze_common.errors import Forbidden, Refusal
from heze_common.events import EventContext, event_context
from heze_common.eventstore import ServiceApplication
from heze_common.serials import Series, issued_by_retired_register, serial_numbers_for
from heze_contracts.enums import ErasureGrounds, Role
from heze_enrollment.access import ensure_may_read, is_self
from heze_enrollment.commands import (
    AccreditInstitution,
    ChangeCityPlan,
    ChangeScope,
    CloseEnrolment,
    Complete,
    DefineOccupation,
    Enrol,
    EraseTrainee,
    ListInCityDirectory,
    LogSession,
    PublishProgramme,
    RecordExam,
    RegisterTrainee,
    ReinstateInstitution,
    SetHourRequirement,
    SetRetentionPeriod,
    SuspendInstitution,
    Withdraw,
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
from heze_enrollment.domain.retention import RETENTION_RULE_ID, RetentionRule
from heze_enrollment.domain.trainee import Trainee
from heze_enrollment.settings import EnrollmentSettings


def derived_id(key: bytes, id_number: str) -> UUID:
    digest = hmac.new(key, id_number.encode(), hashlib.sha256).digest()
    return UUID(bytes=digest[:16], version=4)


class EnrollmentApplication(ServiceApplication):
    holds_personal_data = True
    # A programme gains an event per seat taken or released and is loaded by every enrolment,
    # withdrawal and logged session; the other aggregates' histories stay short (a trainee's is
    # tens of events per programme, and holds personal data a snapshot would copy).
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Programme: 50}

    def __init__(self, settings: EnrollmentSettings) -> None:
        super().__init__(settings)
        self._trainee_id_key, *self._retired_trainee_id_keys = settings.trainee_id_keys()
        self.identity_claim_key = settings.resolved_identity_claim_key()
        self.issuer_keys = settings.issuer_keys()
        self.serials = serial_numbers_for(self.recorder)

    # Reference data

    def seed(self, *, with_directory: bool) -> None:
        """The occupation table, and in the embedded/demo mode the plan's three institutions."""
        if not self.exists(OCCUPATION_TABLE_ID):
            self.save(seeded_occupation_table())
        if not self.exists(RETENTION_RULE_ID):
            self.save(RetentionRule())
        if with_directory:
            for number, name, fields, contact, phone in SEED_DIRECTORY:
                if not self.exists(Institution.create_id(name)):
                    self.save(Institution.accredit(number, name, fields, contact, phone))

    def occupation_table(self) -> OccupationTable:
        return self.get(OccupationTable, OCCUPATION_TABLE_ID, "occupation table")

    @handles
    def define_occupation(self, command: DefineOccupation) -> Decision[None]:
        table = self.occupation_table()
        table.define_occupation(command.code, command.field, command.name, command.effective_from)
        return Decision(None, table)

    @handles
    def set_hour_requirement(self, command: SetHourRequirement) -> Decision[None]:
        table = self.occupation_table()
        table.set_hour_requirement(
            command.code, command.level, command.hours, command.effective_from
        )
        return Decision(None, table)

    # Institutions directory

    @handles
    def accredit_institution(self, command: AccreditInstitution) -> Decision[UUID]:
        existing = Institution.create_id(command.name)
        if self.exists(existing):
            raise Refusal(
                "already_accredited",
                f"{command.name} is already in the directory",
                institution_id=str(existing),
            )
        institution = Institution.accredit(
            command.directory_number,
            command.name,
            command.fields,
            command.contact_name,
            command.contact_phone,
        )
        return Decision(institution.id, institution)

    def institution(self, institution_id: UUID) -> Institution:
        return self.get(Institution, institution_id, "institution")

    @handles
    def change_scope(self, command: ChangeScope) -> Decision[Institution]:
        institution = self.institution(command.institution_id)
        institution.change_scope(command.fields)
        return Decision(institution, institution)

    @handles
    def suspend_institution(self, command: SuspendInstitution) -> Decision[Institution]:
        institution = self.institution(command.institution_id)
        institution.suspend(command.reason)
        return Decision(institution, institution)

    @handles
    def reinstate_institution(self, command: ReinstateInstitution) -> Decision[Institution]:
        institution = self.institution(command.institution_id)
        institution.reinstate()
        return Decision(institution, institution)

    @handles
    def list_in_city_directory(self, command: ListInCityDirectory) -> Decision[Institution]:
        institution = self.institution(command.institution_id)
        institution.list_in_city_directory(command.listed)
        return Decision(institution, institution)

    # Programmes

    @handles
    def publish_programme(self, command: PublishProgramme) -> Decision[UUID]:
        institution_id = command.principal.organisation_id
        if institution_id is None:
            raise Forbidden("not_an_institution", "only a training institution publishes")
        institution = self.institution(institution_id)
        table = self.occupation_table()
        occupation = table.occupation(command.occupation_code, command.starts_on)
        institution.ensure_may_train(occupation.field)
        programme = Programme.publish(
            institution_id=institution_id,
            occupation_code=command.occupation_code,
            field=occupation.field,
            level=command.level,
            title=command.title,
            capacity=command.capacity,
            starts_on=command.starts_on,
            ends_on=command.ends_on,
            required_hours=command.required_hours,
            minimum=table.hour_requirement(
                command.occupation_code, command.level, command.starts_on
            ),
            completion_pass_mark=command.completion_pass_mark,
            subsidised_plan=command.subsidised_plan,
            in_city_training_directory=command.in_city_training_directory,
        )
        return Decision(programme.id, programme)

    def programme(self, programme_id: UUID) -> Programme:
        return self.get(Programme, programme_id, "programme")

    def own_programme(self, principal: Principal, programme_id: UUID) -> Programme:
        """The programme, when the principal's organisation runs it (or it acts for the city)."""
        programme = self.programme(programme_id)
        principal.ensure_acts_for(programme.institution_id)
        return programme

    @handles
    def close_enrolment(self, command: CloseEnrolment) -> Decision[Programme]:
        programme = self.own_programme(command.principal, command.programme_id)
        programme.close_enrolment()
        return Decision(programme, programme)

    @handles
    def change_city_plan(self, command: ChangeCityPlan) -> Decision[Programme]:
        programme = self.programme(command.programme_id)
        programme.change_city_plan(command.subsidised_plan, command.in_city_training_directory)
        return Decision(programme, programme)

    # Trainees

    def trainee_id_for(self, id_number: str) -> UUID:
        """A stable id per person, not reversible to the ID number without the trainee-id key:
        derived under the current key, unless the person was registered under a retired one
        (so rotating the key changes no one's id)."""
        for key in self._retired_trainee_id_keys:
            if self.exists(earlier := derived_id(key, id_number)):
                return earlier
        return derived_id(self._trainee_id_key, id_number)

    @handles
    def register_trainee(self, command: RegisterTrainee) -> Decision[UUID]:
        """A trainee registers the identity their token vouches for. An institution registers
        anyone with their consent and learns nothing of whether they were registered: for a
        person already registered it is added as a registrant and gets the same answer."""
        principal = command.principal
        by_institution = principal.role is Role.TRAINING_INSTITUTION
        identity = ResidentId.parse(command.id_number)
        if not by_institution:
            principal.ensure_verified_as(self.identity_claim_key, identity.number)
        trainee_id = self.trainee_id_for(identity.number)
        trainee = Trainee.register(  # every rule checked whether or not the person is known
            trainee_id=trainee_id,
            name=command.name,
            identity=identity,
            declared_sex=command.sex,
            declared_birth_date=command.birth_date,
            phone=command.phone,
            education=command.education,
            major=command.major,
            employer=command.employer,
            county=command.county,
            participant_category=command.participant_category,
            draws_pension=command.draws_pension,
            retirement_group=command.retirement_group,
            registered_on=clock.today(),
            registered_by_institution_id=principal.organisation_id if by_institution else None,
            account=None if by_institution else principal.subject,
            person_consents=command.person_consents,
        )
        if not self.exists(trainee_id):
            return Decision(trainee.id, trainee)
        if not by_institution:  # the person themself, as their token vouches
            self.trainee(trainee_id)  # an erased record takes no registration: person_erased
            raise Refusal(
                "already_registered",
                "you are already registered",
                field="id_number",
                trainee_id=str(trainee_id),
            )
        registered = self.get(Trainee, trainee_id, "trainee")
        if registered.erasure is not None:  # the institution learns nothing of it either
            return Decision(trainee_id)
        registered.add_registrant(principal.organisation_id, clock.today())  # type: ignore[arg-type]
        return Decision(trainee_id, registered)

    def trainee(self, trainee_id: UUID) -> Trainee:
        """The trainee, refused once erased: nothing is done with or said of an erased record
        but its history (the auditors' trail)."""
        trainee = self.get(Trainee, trainee_id, "trainee")
        if trainee.erasure is not None:
            raise Refusal(
                "person_erased",
                f"the data of trainee {trainee_id} was erased on {trainee.erasure.erased_on}",
                field="trainee_id",
            )
        return trainee

    def readable_trainee(self, principal: Principal, trainee_id: UUID) -> Trainee:
        trainee = self.trainee(trainee_id)
        ensure_may_read(principal, trainee)
        return trainee

    def _programme_of_own_trainee(
        self, principal: Principal, trainee: Trainee, programme_id: UUID, action: str
    ) -> Programme:
        """A trainee acts only for themself; an institution only in its own programmes."""
        if principal.role is Role.TRAINEE:
            if not is_self(principal, trainee):
                raise Forbidden("not_your_trainee", f"a trainee {action} only themself")
            return self.programme(programme_id)
        return self.own_programme(principal, programme_id)

    @handles
    def enrol(self, command: Enrol) -> Decision[Trainee]:
        trainee = self.trainee(command.trainee_id)
        programme = self._programme_of_own_trainee(
            command.principal, trainee, command.programme_id, "enrols"
        )
        principal = command.principal
        if (
            principal.role is Role.TRAINING_INSTITUTION
            and principal.organisation_id not in trainee.registrant_institution_ids
        ):
            raise Forbidden(
                "not_your_trainee",
                "an institution enrols only people it registered with their consent",
            )
        self.institution(programme.institution_id).ensure_may_train(programme.field)
        today = clock.today()
        trainee.enrol(programme, today)
        programme.take_seat(trainee.id, today)
        return Decision(trainee, trainee, programme)

    @handles
    def withdraw(self, command: Withdraw) -> Decision[Trainee]:
        trainee = self.trainee(command.trainee_id)
        programme = self._programme_of_own_trainee(
            command.principal, trainee, command.programme_id, "withdraws"
        )
        trainee.withdraw(programme.id, command.reason, clock.today())
        programme.release_seat(trainee.id)
        return Decision(trainee, trainee, programme)

    @handles
    def log_session(self, command: LogSession) -> Decision[Trainee]:
        programme = self.own_programme(command.principal, command.programme_id)
        trainee = self.trainee(command.trainee_id)
        trainee.log_session(programme, command.day, command.hours, command.kind, command.mode)
        return Decision(trainee, trainee)

    @handles
    def record_exam(self, command: RecordExam) -> Decision[Trainee]:
        self.own_programme(command.principal, command.programme_id)
        trainee = self.trainee(command.trainee_id)
        trainee.record_exam(command.programme_id, command.score)
        return Decision(trainee, trainee)

    @handles
    def complete(self, command: Complete) -> Decision[Trainee]:
        self.own_programme(command.principal, command.programme_id)
        trainee = self.trainee(command.trainee_id)
        record = trainee.ensure_may_complete(command.programme_id)  # refused before a number
        today = clock.today()
        serial = self.serials.draw(
            Series(PREFIX, today.year),
            issued_before=lambda: issued_by_retired_register(
                self.recorder, TrainingCertificateRegister.create_id(today.year)
            ),
        )
        number = training_certificate_number(today.year, record.occupation_code, serial)
        trainee.complete(command.programme_id, number, today)
        return Decision(trainee, trainee)

    # Personal data: erasure and its retention rule

    def retention_rule(self) -> RetentionRule:
        return self.get(RetentionRule, RETENTION_RULE_ID, "retention rule")

    @handles
    def set_retention_period(self, command: SetRetentionPeriod) -> Decision[RetentionRule]:
        rule = self.retention_rule()
        rule.set_period(command.days, command.effective_from, clock.today())
        return Decision(rule, rule)

    @handles
    def erase_trainee(self, command: EraseTrainee) -> Decision[Trainee]:
        """Record the erasure; the caller then deletes the key (`forget`), which every later read
        of the person's events finds gone."""
        trainee = self.trainee(command.trainee_id)
        trainee.erase(ErasureGrounds.REQUEST, command.reason, clock.today())
        return Decision(trainee, trainee)

    def erase_for_retention(self, trainee_id: UUID) -> bool:
        """Erase a registrant whose retention period ended (the finder chose them); False when
        they were erased meanwhile or trained after all."""
        trainee = self.get(Trainee, trainee_id, "trainee")
        if trainee.erasure is not None or not trainee.is_past_retention(
            self.retention_rule(), clock.today()
        ):
            return False
        with event_context(EventContext(actor="system:retention-sweep")):
            trainee.erase(ErasureGrounds.RETENTION, "retention period ended", clock.today())
        self.save(trainee)
        self.forget(trainee_id)
        return True

    def forget(self, trainee_id: UUID) -> None:
        """Delete the person's data key: their sealed fields read as erased from now on."""
        self.personal_data.erase(trainee_id)
