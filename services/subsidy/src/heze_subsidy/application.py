"""Commands and queries of the subsidy service, on its event store."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from heze_common import clock
from heze_common.errors import Forbidden, Refusal
from heze_common.events import Aggregate
from heze_common.eventstore import ServiceApplication
from heze_contracts import certification as certified
from heze_contracts import enrollment as enrolled
from heze_contracts.enums import Level, Role
from heze_subsidy.domain.beneficiary import Beneficiary, Enrolment
from heze_subsidy.domain.claim import Claim
from heze_subsidy.domain.reimbursement import Reimbursement
from heze_subsidy.domain.rules import RULES_ID, Standard, SubsidyPolicy, SubsidyRules


class SubsidyApplication(ServiceApplication):
    def seed(self) -> None:
        if not self.exists(RULES_ID):
            self.save(SubsidyRules(policy=SubsidyPolicy(), effective_from=date(2023, 4, 27)))

    def rules(self) -> SubsidyRules:
        return self.get(SubsidyRules, RULES_ID, "rules")

    def beneficiary(self, trainee_id: UUID) -> Beneficiary:
        beneficiary_id = Beneficiary.id_for(trainee_id)
        return (
            self.get(Beneficiary, beneficiary_id, "beneficiary")
            if self.exists(beneficiary_id)
            else Beneficiary.open(trainee_id)
        )

    # Upstream facts (consumers): each may complete the facts a waiting claim needs

    def _settle_waiting(self, beneficiary: Beneficiary) -> list[Aggregate]:
        rules, today = self.rules(), clock.today()
        claims = [self.get(Claim, claim_id, "claim") for claim_id in beneficiary.claim_ids]
        for claim in claims:
            claim.settle(beneficiary, rules, today)
        return [beneficiary, *claims]

    def on_enrolled(self, event: enrolled.TraineeEnrolled) -> Iterable[Aggregate]:
        facts = event.payload
        beneficiary = self.beneficiary(facts.trainee_id)
        beneficiary.learn_enrolment(
            Enrolment(
                facts.programme_id,
                facts.institution_id,
                facts.occupation_code,
                facts.level,
                facts.subsidised_plan,
            )
        )
        return self._settle_waiting(beneficiary)

    def on_completed(self, event: enrolled.TrainingCompleted) -> Iterable[Aggregate]:
        facts = event.payload
        beneficiary = self.beneficiary(facts.trainee_id)
        beneficiary.learn_completion(
            facts.programme_id,
            facts.occupation_code,
            facts.level,
            facts.training_certificate_number,
        )
        return self._settle_waiting(beneficiary)

    def on_certificate_issued(self, event: certified.CertificateIssued) -> Iterable[Aggregate]:
        facts = event.payload
        beneficiary = self.beneficiary(facts.trainee_id)
        beneficiary.learn_level_certificate(
            facts.certificate_number, facts.occupation_code, facts.level, event.occurred_at
        )
        return self._settle_waiting(beneficiary)

    def on_certificate_revoked(self, event: certified.CertificateRevoked) -> Iterable[Aggregate]:
        facts = event.payload
        beneficiary = self.beneficiary(facts.trainee_id)
        beneficiary.learn_revocation(facts.certificate_number, event.occurred_at)
        return [beneficiary]

    def trail_streams(self, trainee_id: UUID) -> list[UUID]:
        beneficiary = self.beneficiary(trainee_id)
        return [beneficiary.id, *beneficiary.claim_ids] if self.exists(beneficiary.id) else []

    def upstream_handlers(self) -> dict[type, Any]:
        return {
            enrolled.TraineeEnrolled: self.on_enrolled,
            enrolled.TrainingCompleted: self.on_completed,
            certified.CertificateIssued: self.on_certificate_issued,
            certified.CertificateRevoked: self.on_certificate_revoked,
        }

    # Rules

    def set_policy(self, policy: SubsidyPolicy, effective_from: date) -> None:
        rules = self.rules()
        rules.set_policy(policy, effective_from)
        self.save(rules)

    def set_standard(
        self,
        occupation_code: str,
        level: Level,
        amount_fen: int,
        effective_from: date,
        effective_to: date | None,
    ) -> Standard:
        rules = self.rules()
        standard = rules.set_standard(
            occupation_code, level, amount_fen, effective_from, effective_to
        )
        self.save(rules)
        return standard

    # Claims

    def file_claim(
        self,
        *,
        trainee_id: UUID,
        programme_id: UUID,
        occupation_code: str,
        level: Level,
        applied_by_role: Role,
        applied_by: str,
        institution_id: UUID | None,
    ) -> Claim:
        rules, today = self.rules(), clock.today()
        beneficiary = self.beneficiary(trainee_id)
        if applied_by_role is Role.TRAINING_INSTITUTION:
            if not rules.policy_on(today)[1].institutions_may_claim:
                raise Forbidden(
                    "institution_claims_off", "institutions may not claim on a trainee's behalf"
                )
            enrolment = beneficiary.enrolments.get(programme_id)
            if enrolment is None or enrolment.institution_id != institution_id:
                raise Forbidden(
                    "not_your_trainee",
                    "an institution claims only for trainees of its own programmes",
                )
        claim = Claim(
            trainee_id=trainee_id,
            programme_id=programme_id,
            occupation_code=occupation_code,
            level=level,
            applied_by_role=applied_by_role,
            applied_by=applied_by,
        )
        beneficiary.file(claim.id)
        claim.settle(beneficiary, rules, today)
        self.save(beneficiary, claim)
        return claim

    def claim(self, claim_id: UUID) -> Claim:
        return self.get(Claim, claim_id, "claim")

    def decide_now(self, claim_id: UUID) -> None:
        """The city bureau decides a waiting claim: refused for whatever is still missing."""
        claim = self.claim(claim_id)
        if claim.status.value != "waiting":
            raise Refusal("already_decided", f"the claim is already {claim.status.value}")
        beneficiary = self.beneficiary(claim.trainee_id)
        claim.settle(beneficiary, self.rules(), clock.today(), force=True)
        self.save(beneficiary, claim)

    def record_payment(self, claim_id: UUID, payment_reference: str) -> None:
        claim = self.claim(claim_id)
        claim.record_payment(payment_reference, clock.today())
        self.save(claim)

    # Employer reimbursement

    def record_reimbursement(
        self, employer_id: UUID, trainee_id: UUID, programme_id: UUID, amount_fen: int
    ) -> UUID:
        reimbursement_id = Reimbursement.id_for(trainee_id, programme_id)
        if self.exists(reimbursement_id):
            existing = self.get(Reimbursement, reimbursement_id, "reimbursement")
            raise Refusal(
                "already_reimbursed",
                f"this tuition was reimbursed on {existing.reimbursed_on}",
                reimbursement_id=str(reimbursement_id),
            )
        reimbursement = Reimbursement(
            id=reimbursement_id,
            employer_id=employer_id,
            trainee_id=trainee_id,
            programme_id=programme_id,
            amount_fen=amount_fen,
            reimbursed_on=clock.today(),
        )
        self.save(reimbursement)
        return reimbursement.id
