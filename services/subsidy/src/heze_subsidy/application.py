"""Commands and queries of the subsidy service, on its event store."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from heze_common import clock
from heze_common.commands import Decision, handles
from heze_common.errors import Forbidden, Refusal
from heze_common.eventstore import ServiceApplication
from heze_contracts.enums import Role
from heze_subsidy.access import claimed_trainee_id
from heze_subsidy.commands import (
    DecideClaim,
    FileClaim,
    RecordPayment,
    RecordReimbursement,
    SetPolicy,
    SetStandard,
)
from heze_subsidy.domain.beneficiary import Beneficiary
from heze_subsidy.domain.claim import Claim
from heze_subsidy.domain.reimbursement import Reimbursement
from heze_subsidy.domain.rules import RULES_ID, Standard, SubsidyPolicy, SubsidyRules
from heze_subsidy.seed import EXAMPLE_AMOUNTS_FEN, EXAMPLE_EFFECTIVE_FROM, EXAMPLE_OCCUPATIONS


class SubsidyApplication(ServiceApplication):
    def seed(self, *, with_example_standards: bool) -> None:
        """The rules, and in the embedded/demo mode example standards while none are set."""
        if not self.exists(RULES_ID):
            self.save(SubsidyRules(policy=SubsidyPolicy(), effective_from=date(2023, 4, 27)))
        rules = self.rules()
        if with_example_standards and not rules.standards:
            for code in EXAMPLE_OCCUPATIONS:
                for level, amount in EXAMPLE_AMOUNTS_FEN.items():
                    rules.set_standard(code, level, amount, EXAMPLE_EFFECTIVE_FROM, None)
            self.save(rules)

    def rules(self) -> SubsidyRules:
        return self.get(SubsidyRules, RULES_ID, "rules")

    def beneficiary(self, trainee_id: UUID) -> Beneficiary:
        beneficiary_id = Beneficiary.id_for(trainee_id)
        return (
            self.get(Beneficiary, beneficiary_id, "beneficiary")
            if self.exists(beneficiary_id)
            else Beneficiary.open(trainee_id)
        )

    def trail_streams(self, trainee_id: UUID) -> list[UUID]:
        beneficiary = self.beneficiary(trainee_id)
        return [beneficiary.id, *beneficiary.claim_ids] if self.exists(beneficiary.id) else []

    # Rules

    @handles
    def set_policy(self, command: SetPolicy) -> Decision[None]:
        rules = self.rules()
        rules.set_policy(command.policy, command.effective_from)
        return Decision(None, rules)

    @handles
    def set_standard(self, command: SetStandard) -> Decision[Standard]:
        rules = self.rules()
        standard = rules.set_standard(
            command.occupation_code,
            command.level,
            command.amount_fen,
            command.effective_from,
            command.effective_to,
        )
        return Decision(standard, rules)

    # Claims

    @handles
    def file_claim(self, command: FileClaim) -> Decision[Claim]:
        principal = command.principal
        trainee_id = claimed_trainee_id(principal, command.trainee_id)
        rules, today = self.rules(), clock.today()
        beneficiary = self.beneficiary(trainee_id)
        if principal.role is Role.TRAINING_INSTITUTION:
            if not rules.policy_on(today)[1].institutions_may_claim:
                raise Forbidden(
                    "institution_claims_off", "institutions may not claim on a trainee's behalf"
                )
            enrolment = beneficiary.enrolments.get(command.programme_id)
            if enrolment is None or enrolment.institution_id != principal.organisation_id:
                raise Forbidden(
                    "not_your_trainee",
                    "an institution claims only for trainees of its own programmes",
                )
        claim = Claim(
            trainee_id=trainee_id,
            programme_id=command.programme_id,
            occupation_code=command.occupation_code,
            level=command.level,
            applied_by_role=principal.role,
            applied_by=principal.actor,
        )
        beneficiary.file(claim.id)
        claim.settle(beneficiary, rules, today)
        return Decision(claim, beneficiary, claim)

    def claim(self, claim_id: UUID) -> Claim:
        return self.get(Claim, claim_id, "claim")

    @handles
    def decide_now(self, command: DecideClaim) -> Decision[Claim]:
        """The city bureau decides a waiting claim: refused for whatever is still missing."""
        claim = self.claim(command.claim_id)
        if claim.status.value != "waiting":
            raise Refusal("already_decided", f"the claim is already {claim.status.value}")
        beneficiary = self.beneficiary(claim.trainee_id)
        claim.settle(beneficiary, self.rules(), clock.today(), force=True)
        return Decision(claim, beneficiary, claim)

    @handles
    def record_payment(self, command: RecordPayment) -> Decision[Claim]:
        claim = self.claim(command.claim_id)
        claim.record_payment(command.payment_reference, clock.today())
        return Decision(claim, claim)

    # Employer reimbursement

    @handles
    def record_reimbursement(self, command: RecordReimbursement) -> Decision[Reimbursement]:
        reimbursement_id = Reimbursement.id_for(command.trainee_id, command.programme_id)
        if self.exists(reimbursement_id):
            existing = self.get(Reimbursement, reimbursement_id, "reimbursement")
            raise Refusal(
                "already_reimbursed",
                f"this tuition was reimbursed on {existing.reimbursed_on}",
                reimbursement_id=str(reimbursement_id),
            )
        reimbursement = Reimbursement(
            id=reimbursement_id,
            employer_id=command.principal.organisation_id,
            trainee_id=command.trainee_id,
            programme_id=command.programme_id,
            amount_fen=command.amount_fen,
            reimbursed_on=clock.today(),
        )
        return Decision(reimbursement, reimbursement)
