"""A subsidy claim: filed by the trainee (or the institution on their behalf), decided
automatically once the facts are complete, otherwise waiting for them; paid when approved.
When the certificate it rests on is revoked, an approved claim is cancelled (it can no longer
be paid) and a paid one owes its amount back (追回), recorded for the city bureau."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from heze_common.errors import Refusal
from heze_common.events import Aggregate, AggregateCreated
from heze_contracts.enums import Level, Role
from heze_subsidy.domain.beneficiary import Beneficiary
from heze_subsidy.domain.rules import RequiredCertificate, Standard, SubsidyRules, Window

DAYS_IN_WINDOW = 365


class ClaimStatus(StrEnum):
    WAITING = "waiting"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Decision:
    status: ClaimStatus
    reason_code: str | None = None
    reason: str | None = None
    standard: Standard | None = None
    policy_effective_from: date | None = None


class Claim(Aggregate):
    TOPIC = "subsidy.Claim"

    class Filed(AggregateCreated):
        TOPIC = "subsidy.Claim.Filed.v1"
        trainee_id: UUID
        programme_id: UUID
        occupation_code: str
        level: Level
        applied_by_role: Role
        applied_by: str

    class Waiting(Aggregate.Event):
        TOPIC = "subsidy.Claim.Waiting.v1"
        reason_code: str
        reason: str

        def apply(self, claim: Claim) -> None:
            claim.waiting_for_code, claim.waiting_for = self.reason_code, self.reason

    class Approved(Aggregate.Event):
        TOPIC = "subsidy.Claim.Approved.v1"
        trainee_id: UUID
        amount_fen: int
        standard: Standard
        policy_effective_from: date
        decided_on: date

        def apply(self, claim: Claim) -> None:
            claim.status = ClaimStatus.APPROVED
            claim.amount_fen = self.amount_fen
            claim.standard_id = self.standard.standard_id
            claim.decided_on = self.decided_on

    class Rejected(Aggregate.Event):
        TOPIC = "subsidy.Claim.Rejected.v1"
        trainee_id: UUID
        reason_code: str
        reason: str
        decided_on: date

        def apply(self, claim: Claim) -> None:
            claim.status = ClaimStatus.REJECTED
            claim.reason_code, claim.reason = self.reason_code, self.reason
            claim.decided_on = self.decided_on

    class Paid(Aggregate.Event):
        TOPIC = "subsidy.Claim.Paid.v1"
        trainee_id: UUID
        amount_fen: int
        payment_reference: str
        paid_on: date

        def apply(self, claim: Claim) -> None:
            claim.status = ClaimStatus.PAID
            claim.payment_reference = self.payment_reference
            claim.paid_on = self.paid_on

    class Cancelled(Aggregate.Event):
        """Approved, not yet paid, and its certificate revoked: it will not be paid."""

        TOPIC = "subsidy.Claim.Cancelled.v1"
        trainee_id: UUID
        certificate_number: str
        reason: str
        cancelled_on: date

        def apply(self, claim: Claim) -> None:
            claim.status = ClaimStatus.CANCELLED
            claim.reason_code, claim.reason = "certificate_revoked", self.reason

    class RecoveryDue(Aggregate.Event):
        """Paid, and its certificate revoked: the amount is to be recovered (追回)."""

        TOPIC = "subsidy.Claim.RecoveryDue.v1"
        trainee_id: UUID
        amount_fen: int
        certificate_number: str
        reason: str
        due_since: date

        def apply(self, claim: Claim) -> None:
            claim.recovery_due_fen = self.amount_fen

    @event(Filed)
    def __init__(
        self,
        trainee_id: UUID,
        programme_id: UUID,
        occupation_code: str,
        level: Level,
        applied_by_role: Role,
        applied_by: str,
    ) -> None:
        self.trainee_id = trainee_id
        self.programme_id = programme_id
        self.occupation_code = occupation_code
        self.level = level
        self.applied_by_role = applied_by_role
        self.status = ClaimStatus.WAITING
        self.waiting_for: str | None = None
        self.waiting_for_code: str | None = None
        self.amount_fen: int | None = None
        self.standard_id: UUID | None = None
        self.decided_on: date | None = None
        self.reason_code: str | None = None
        self.reason: str | None = None
        self.payment_reference: str | None = None
        self.paid_on: date | None = None
        self.recovery_due_fen: int | None = None

    def settle(
        self, beneficiary: Beneficiary, rules: SubsidyRules, today: date, *, force: bool = False
    ) -> None:
        """Decide if the facts allow it (with `force`, refuse for what is still missing)."""
        if self.status is not ClaimStatus.WAITING:
            return
        decision = decide(self, beneficiary, rules, today, force=force)
        if decision.status is ClaimStatus.APPROVED:
            assert decision.standard is not None and decision.policy_effective_from is not None
            self.trigger_event(
                self.Approved,
                trainee_id=self.trainee_id,
                amount_fen=decision.standard.amount_fen,
                standard=decision.standard,
                policy_effective_from=decision.policy_effective_from,
                decided_on=today,
            )
            beneficiary.grant(self.id, self.occupation_code, self.level, today)
            # Approved on facts complete before a revocation that is already known: the
            # revocation still takes it away, as it would had it come after the approval.
            if lost := beneficiary.revoked_certificate_of(self.occupation_code, self.level):
                self.lose_certificate(*lost, today)
        elif decision.status is ClaimStatus.REJECTED:
            self.trigger_event(
                self.Rejected,
                trainee_id=self.trainee_id,
                reason_code=decision.reason_code,
                reason=decision.reason,
                decided_on=today,
            )
        elif decision.reason != self.waiting_for:
            self.trigger_event(
                self.Waiting, reason_code=decision.reason_code, reason=decision.reason
            )

    def lose_certificate(self, certificate_number: str, reason: str, today: date) -> None:
        """The certificate this claim rests on was revoked (and no other of the occupation and
        level is valid): cancel it if approved, record what is owed back if paid."""
        if self.status is ClaimStatus.APPROVED:
            self.trigger_event(
                self.Cancelled,
                trainee_id=self.trainee_id,
                certificate_number=certificate_number,
                reason=reason,
                cancelled_on=today,
            )
        elif self.status is ClaimStatus.PAID and self.recovery_due_fen is None:
            self.trigger_event(
                self.RecoveryDue,
                trainee_id=self.trainee_id,
                amount_fen=self.amount_fen,
                certificate_number=certificate_number,
                reason=reason,
                due_since=today,
            )

    def record_payment(self, payment_reference: str, today: date) -> None:
        if self.status is ClaimStatus.CANCELLED:
            raise Refusal(
                "claim_cancelled",
                f"the claim was cancelled: the certificate it rested on was revoked ({self.reason})",
            )
        if self.status is ClaimStatus.PAID:
            raise Refusal(
                "already_paid", f"the claim was paid on {self.paid_on} ({self.payment_reference})"
            )
        if self.status is not ClaimStatus.APPROVED:
            raise Refusal("not_approved", "only an approved claim is paid")
        self.trigger_event(
            self.Paid,
            trainee_id=self.trainee_id,
            amount_fen=self.amount_fen,
            payment_reference=payment_reference,
            paid_on=today,
        )


def decide(
    claim: Claim, beneficiary: Beneficiary, rules: SubsidyRules, today: date, *, force: bool
) -> Decision:
    def waits_or_refused(code: str, reason: str) -> Decision:
        return Decision(ClaimStatus.REJECTED if force else ClaimStatus.WAITING, code, reason)

    def refused(code: str, reason: str) -> Decision:
        return Decision(ClaimStatus.REJECTED, code, reason)

    enrolment = beneficiary.enrolments.get(claim.programme_id)
    if enrolment is None:
        return waits_or_refused(
            "not_enrolled", "no enrolment of the trainee in this programme is known"
        )
    if (enrolment.occupation_code, enrolment.level) != (claim.occupation_code, claim.level):
        return refused(
            "programme_mismatch", "the programme is for another occupation or level than claimed"
        )
    if not enrolment.subsidised_plan:
        return refused(
            "not_in_subsidised_plan", "the programme is not in the city's subsidised-training plan"
        )
    if claim.programme_id not in beneficiary.completions:
        return waits_or_refused("not_completed", "the training has not been completed")
    policy_since, policy = rules.policy_on(today)
    if (
        policy.required_certificate is RequiredCertificate.LEVEL
        and not beneficiary.holds_level_certificate(
            claim.occupation_code, claim.level, as_of=None if force else claim.created_on
        )
    ):
        return waits_or_refused(
            "certificate_missing", "no valid level certificate of this occupation and level"
        )
    in_window = [
        approval
        for approval in beneficiary.approvals
        if _within_window(approval.decided_on, today, policy.window)
    ]
    if any((a.occupation_code, a.level) == (claim.occupation_code, claim.level) for a in in_window):
        return refused(
            "already_subsidised",
            "the same occupation at the same level was already subsidised within one year",
        )
    if len(in_window) >= policy.yearly_cap:
        return refused(
            "yearly_cap_reached", f"the yearly cap of {policy.yearly_cap} subsidies is reached"
        )
    standard = rules.standard_on(claim.occupation_code, claim.level, today)
    if standard is None:
        return waits_or_refused(
            "no_standard", "no subsidy standard is in force for this occupation and level"
        )
    return Decision(ClaimStatus.APPROVED, standard=standard, policy_effective_from=policy_since)


def _within_window(earlier: date, today: date, window: Window) -> bool:
    if window is Window.CALENDAR_YEAR:
        return earlier.year == today.year
    return (today - earlier).days < DAYS_IN_WINDOW
