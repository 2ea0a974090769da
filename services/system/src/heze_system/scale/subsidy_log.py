"""The subsidy service's log: beneficiaries, claims and reimbursements."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

from heze_certification.domain.register import certificate_number
from heze_common.auth import Principal
from heze_contracts.enums import (
    Level,
    Role,
)
from heze_enrollment.domain.institution import Institution
from heze_subsidy.domain.beneficiary import Beneficiary, Enrolment
from heze_subsidy.domain.claim import Claim, ClaimStatus
from heze_subsidy.domain.reimbursement import Reimbursement
from heze_system.demo.cohort import Person
from heze_system.scale.base import (
    CHINA,
    DIRECTORY,
    EMPLOYER_COUNT,
    PRACTICE_DAYS,
    THEORY_DAYS,
    LogBuilder,
    Write,
    WriteRequest,
    acting,
    bench_id,
    completes,
    passes_assessment,
    trainee_id,
    training_certificate,
)


class SubsidyLog(LogBuilder):
    """Beneficiaries (enrolment and completion learnt from enrollment, the level certificate
    from certification); claims filed after the training that wait for the certificate, are
    approved when it arrives and then paid; refused outside the subsidised plan, for a repeat
    within the year (one in 30 tries), or for the missing certificate when the city bureau
    decides (failed assessments); employers' tuition reimbursements (one in four employed).
    Open: claims approved and not yet paid; the write records their payment."""

    service = "subsidy"
    events_per_person = 10  # beneficiary 6, claim 4
    open_events_per_person = 8

    def prepare(self) -> None:
        self.rules = self.app.rules()
        self.sample("institution_id", *(Institution.create_id(entry[1]) for entry in DIRECTORY))
        self.sample("employer_id", *(bench_id("employer", n) for n in range(0, EMPLOYER_COUNT, 7)))
        self.months: set[str] = set()

    def beneficiaries(
        self, people: list[Person], programme_id: UUID, intake: date, subsidised: bool
    ) -> dict[int, Beneficiary]:
        institution_id, code, _, _ = self.offer()
        enrolment = Enrolment(programme_id, institution_id, code, Level.JUNIOR, subsidised)
        beneficiaries = {}
        with acting(None, intake - timedelta(days=7)):
            for someone in people:
                beneficiary = Beneficiary.open(trainee_id(someone))
                beneficiary.learn_enrolment(enrolment)
                beneficiaries[someone.number] = beneficiary
                self.sample("trainee_id", beneficiary.trainee_id)
        completed = intake + timedelta(days=THEORY_DAYS + PRACTICE_DAYS + 1)
        with acting(None, completed):
            for someone in people:
                if completes(someone):
                    number = training_certificate(someone, code, completed)
                    beneficiaries[someone.number].learn_completion(
                        programme_id, code, Level.JUNIOR, number
                    )
        self.sample("programme_id", programme_id)
        return beneficiaries

    def learn_certificates(
        self, people: list[Person], beneficiaries: dict[int, Beneficiary], day: date
    ) -> None:
        _, code, _, _ = self.offer()
        with acting(None, day):
            for someone in people:
                if passes_assessment(someone):  # a stand-in for the number certification drew
                    number = certificate_number(day.year, code, Level.JUNIOR, someone.number + 1)
                    issued_at = datetime(day.year, day.month, day.day, 10, tzinfo=CHINA)
                    beneficiaries[someone.number].learn_level_certificate(
                        number, code, Level.JUNIOR, issued_at
                    )

    def file(self, beneficiary: Beneficiary, programme_id: UUID, day: date) -> Claim:
        _, code, _, _ = self.offer()
        claimant = str(beneficiary.trainee_id)
        with acting(Role.TRAINEE, day, subject=claimant):
            claim = Claim(
                trainee_id=beneficiary.trainee_id,
                programme_id=programme_id,
                occupation_code=code,
                level=Level.JUNIOR,
                applied_by_role=Role.TRAINEE,
                applied_by=Principal(subject=claimant, role=Role.TRAINEE).actor,
            )
            beneficiary.file(claim.id)
            claim.settle(beneficiary, self.rules, day)
        self.sample("claim_id", claim.id)
        self.sample("aggregate_id", claim.id)
        return claim

    def cohort(self, people: list[Person], intake: date) -> None:
        programme_id = bench_id("programme", self.cohorts)
        beneficiaries = self.beneficiaries(people, programme_id, intake, self.subsidised())
        self.save(*beneficiaries.values())
        filed_on = intake + timedelta(days=THEORY_DAYS + PRACTICE_DAYS + 4)
        claims = {
            someone.number: self.file(beneficiaries[someone.number], programme_id, filed_on)
            for someone in people
            if completes(someone)
        }
        reimbursements = self.reimbursements(people, programme_id, filed_on + timedelta(days=10))
        self.save(*beneficiaries.values(), *claims.values(), *reimbursements)
        issued = intake + timedelta(days=72)
        self.learn_certificates(people, beneficiaries, issued)
        with acting(None, issued):
            for number, claim in claims.items():
                claim.settle(beneficiaries[number], self.rules, issued)
        paid_on = issued + timedelta(days=20)
        with acting(Role.CITY_BUREAU, paid_on):
            for number, claim in claims.items():
                if claim.status is ClaimStatus.APPROVED:
                    claim.record_payment(f"HZCZ-{paid_on.year}-{number:06d}", paid_on)
                    self.months.add(f"{paid_on:%Y-%m}")
        repeats = [
            self.file(beneficiaries[someone.number], programme_id, paid_on + timedelta(days=10))
            for someone in people
            if someone.number % 30 == 2
            and someone.number in claims
            and claims[someone.number].status is ClaimStatus.PAID
        ]
        decided_on = intake + timedelta(days=140)
        with acting(Role.CITY_BUREAU, decided_on):  # what still waits is decided: refused
            for number, claim in claims.items():
                claim.settle(beneficiaries[number], self.rules, decided_on, force=True)
        self.save(*beneficiaries.values(), *claims.values(), *repeats)

    def reimbursements(
        self, people: list[Person], programme_id: UUID, day: date
    ) -> list[Reimbursement]:
        reimbursements = []
        for someone in people:
            if someone.employer and completes(someone) and someone.number % 4 == 0:
                employer = bench_id("employer", someone.number // 4 % EMPLOYER_COUNT)
                with acting(Role.EMPLOYER, day, employer):
                    reimbursements.append(
                        Reimbursement(
                            id=Reimbursement.id_for(trainee_id(someone), programme_id),
                            employer_id=employer,
                            trainee_id=trainee_id(someone),
                            programme_id=programme_id,
                            amount_fen=350_000,
                            reimbursed_on=day,
                        )
                    )
        return reimbursements

    def open_cohort(self, people: list[Person], today: date) -> None:
        programme_id = bench_id("programme", self.cohorts)
        beneficiaries = self.beneficiaries(people, programme_id, today - timedelta(days=80), True)
        self.learn_certificates(people, beneficiaries, today - timedelta(days=3))
        claims = [
            self.file(beneficiaries[someone.number], programme_id, today - timedelta(days=2))
            for someone in people
            if passes_assessment(someone)
        ]
        self.save(*beneficiaries.values(), *claims)
        self.sample("month", *sorted(self.months))
        self.write = Write(
            "POST",
            "/claims/{claim_id}/payment",
            Role.CITY_BUREAU,
            [
                WriteRequest(
                    {"claim_id": str(claim.id)},
                    None,
                    {"payment_reference": f"HZCZ-{today.year}-B{n:05d}"},
                )
                for n, claim in enumerate(claims)
            ],
        )
