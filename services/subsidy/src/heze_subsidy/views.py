"""Read models of the subsidy service, as tables (heze_common.views): every claim with its
current state, the institution behind each programme, and employers' reimbursements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from heze_common.views import Handler, Rows, View
from heze_subsidy.domain.beneficiary import Beneficiary
from heze_subsidy.domain.claim import Claim
from heze_subsidy.domain.reimbursement import Reimbursement


class Claims(View):
    """Claims per trainee, programme and institution, payments per month, and the amounts paid
    on certificates since revoked, to be recovered (追回)."""

    table_names = ("claims", "programmes", "recoveries")
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.claims ("
        " claim_id UUID PRIMARY KEY, trainee_id UUID NOT NULL, programme_id UUID NOT NULL,"
        " occupation_code TEXT NOT NULL, level TEXT NOT NULL, status TEXT NOT NULL,"
        " waiting_for TEXT, amount_fen BIGINT, standard_id UUID, decided_on DATE,"
        " reason_code TEXT, reason TEXT, payment_reference TEXT, paid_on DATE,"
        " paid_position BIGINT, filed_position BIGINT NOT NULL)",
        # Added after the first release: a table made before it gains the column (empty until
        # the claim waits again or the views are rebuilt).
        "ALTER TABLE {schema}.claims ADD COLUMN IF NOT EXISTS waiting_for_code TEXT",
        "CREATE INDEX IF NOT EXISTS claims_in_filing_order ON {schema}.claims (filed_position, claim_id)",
        "CREATE INDEX IF NOT EXISTS claims_of_trainee"
        " ON {schema}.claims (trainee_id, filed_position, claim_id)",
        "CREATE INDEX IF NOT EXISTS claims_of_programme"
        " ON {schema}.claims (programme_id, filed_position, claim_id)",
        "CREATE INDEX IF NOT EXISTS claims_paid ON {schema}.claims (paid_on, paid_position)"
        " WHERE paid_on IS NOT NULL",
        "CREATE TABLE IF NOT EXISTS {schema}.programmes ("
        " programme_id UUID PRIMARY KEY, institution_id UUID NOT NULL)",
        "CREATE INDEX IF NOT EXISTS programmes_of_institution"
        " ON {schema}.programmes (institution_id)",
        "CREATE TABLE IF NOT EXISTS {schema}.recoveries ("
        " claim_id UUID PRIMARY KEY, trainee_id UUID NOT NULL, amount_fen BIGINT NOT NULL,"
        " certificate_number TEXT NOT NULL, reason TEXT NOT NULL, due_since DATE NOT NULL,"
        " recorded_position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS recoveries_in_order ON {schema}.recoveries (recorded_position)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        return {
            Claim.Filed: self._filed,
            Claim.Waiting: self._waiting,
            Claim.Approved: self._approved,
            Claim.Rejected: self._rejected,
            Claim.Paid: self._paid,
            Claim.Cancelled: self._cancelled,
            Claim.RecoveryDue: self._recovery_due,
            Beneficiary.EnrolmentLearnt: self._programme,
        }

    @staticmethod
    def _filed(rows: Rows, event: Claim.Filed) -> None:
        rows.insert(
            "claims",
            {
                "claim_id": event.originator_id,
                "trainee_id": event.trainee_id,
                "programme_id": event.programme_id,
                "occupation_code": event.occupation_code,
                "level": event.level.value,
                "status": "waiting",
                "filed_position": rows.position,
            },
        )

    @staticmethod
    def _waiting(rows: Rows, event: Claim.Waiting) -> None:
        rows.set(
            "claims",
            {"claim_id": event.originator_id},
            {"waiting_for_code": event.reason_code, "waiting_for": event.reason},
        )

    @staticmethod
    def _approved(rows: Rows, event: Claim.Approved) -> None:
        rows.set(
            "claims",
            {"claim_id": event.originator_id},
            {
                "status": "approved",
                "amount_fen": event.amount_fen,
                "standard_id": event.standard.standard_id,
                "decided_on": event.decided_on,
            },
        )

    @staticmethod
    def _rejected(rows: Rows, event: Claim.Rejected) -> None:
        rows.set(
            "claims",
            {"claim_id": event.originator_id},
            {
                "status": "rejected",
                "reason_code": event.reason_code,
                "reason": event.reason,
                "decided_on": event.decided_on,
            },
        )

    @staticmethod
    def _paid(rows: Rows, event: Claim.Paid) -> None:
        rows.set(
            "claims",
            {"claim_id": event.originator_id},
            {
                "status": "paid",
                "payment_reference": event.payment_reference,
                "paid_on": event.paid_on,
                "paid_position": rows.position,
            },
        )

    @staticmethod
    def _cancelled(rows: Rows, event: Claim.Cancelled) -> None:
        rows.set(
            "claims",
            {"claim_id": event.originator_id},
            {"status": "cancelled", "reason_code": "certificate_revoked", "reason": event.reason},
        )

    @staticmethod
    def _recovery_due(rows: Rows, event: Claim.RecoveryDue) -> None:
        rows.insert(
            "recoveries",
            {
                "claim_id": event.originator_id,
                "trainee_id": event.trainee_id,
                "amount_fen": event.amount_fen,
                "certificate_number": event.certificate_number,
                "reason": event.reason,
                "due_since": event.due_since,
                "recorded_position": rows.position,
            },
        )

    @staticmethod
    def _programme(rows: Rows, event: Beneficiary.EnrolmentLearnt) -> None:
        rows.upsert(
            "programmes",
            {"programme_id": event.programme_id},
            {"institution_id": event.institution_id},
        )


class Reimbursements(View):
    """Each employer's tuition reimbursements, in the order recorded."""

    table_names = ("reimbursements",)
    tables = (
        "CREATE TABLE IF NOT EXISTS {schema}.reimbursements ("
        " reimbursement_id UUID PRIMARY KEY, employer_id UUID NOT NULL, trainee_id UUID NOT NULL,"
        " programme_id UUID NOT NULL, amount_fen BIGINT NOT NULL, reimbursed_on DATE NOT NULL,"
        " recorded_position BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS reimbursements_of_employer"
        " ON {schema}.reimbursements (employer_id, recorded_position, reimbursement_id)",
    )

    def handlers(self) -> Mapping[type, Handler]:
        return {Reimbursement.Recorded: self._recorded}

    @staticmethod
    def _recorded(rows: Rows, event: Any) -> None:
        rows.insert(
            "reimbursements",
            {
                "reimbursement_id": event.originator_id,
                "employer_id": event.employer_id,
                "trainee_id": event.trainee_id,
                "programme_id": event.programme_id,
                "amount_fen": event.amount_fen,
                "reimbursed_on": event.reimbursed_on,
                "recorded_position": rows.position,
            },
        )


VIEWS = (Claims, Reimbursements)
