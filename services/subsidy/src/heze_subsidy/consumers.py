"""What the subsidy service does with the upstream facts it consumes: each fact is recorded on
the trainee's beneficiary record, and any claim still waiting is decided again with it.

- enrollment's `TraineeEnrolled`: the enrolment (institution, occupation, level, and whether
  the programme is in the city's subsidised-training plan);
- enrollment's `TrainingCompleted`: the completion and its training certificate;
- certification's `CertificateIssued`: a level certificate, as of when it was issued;
- certification's `CertificateRevoked`: its revocation, as of when it happened; it only takes
  a fact away, so no waiting claim is decided again with it, but a claim approved on that
  certificate is cancelled and one paid on it owes its amount back (unless another valid
  certificate of the occupation and level stands in for it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from heze_common import clock
from heze_common.events import Aggregate
from heze_contracts import IntegrationEvent
from heze_contracts import certification as certified
from heze_contracts import enrollment as enrolled
from heze_subsidy.application import SubsidyApplication
from heze_subsidy.domain.beneficiary import Beneficiary, Enrolment


def _settle_waiting(application: SubsidyApplication, beneficiary: Beneficiary) -> list[Aggregate]:
    rules, today = application.rules(), clock.today()
    claims = [application.claim(claim_id) for claim_id in beneficiary.claim_ids]
    for claim in claims:
        claim.settle(beneficiary, rules, today)
    return [beneficiary, *claims]


def on_enrolled(
    application: SubsidyApplication, event: enrolled.TraineeEnrolled
) -> list[Aggregate]:
    facts = event.payload
    beneficiary = application.beneficiary(facts.trainee_id)
    beneficiary.learn_enrolment(
        Enrolment(
            facts.programme_id,
            facts.institution_id,
            facts.occupation_code,
            facts.level,
            facts.subsidised_plan,
        )
    )
    return _settle_waiting(application, beneficiary)


def on_completed(
    application: SubsidyApplication, event: enrolled.TrainingCompleted
) -> list[Aggregate]:
    facts = event.payload
    beneficiary = application.beneficiary(facts.trainee_id)
    beneficiary.learn_completion(
        facts.programme_id,
        facts.occupation_code,
        facts.level,
        facts.training_certificate_number,
    )
    return _settle_waiting(application, beneficiary)


def on_certificate_issued(
    application: SubsidyApplication,
    event: certified.CertificateIssued | certified.CertificateIssuedV1,
) -> list[Aggregate]:
    facts = event.payload
    beneficiary = application.beneficiary(facts.trainee_id)
    beneficiary.learn_level_certificate(
        facts.certificate_number, facts.occupation_code, facts.level, event.occurred_at
    )
    return _settle_waiting(application, beneficiary)


def on_certificate_revoked(
    application: SubsidyApplication, event: certified.CertificateRevoked
) -> list[Aggregate]:
    facts = event.payload
    beneficiary = application.beneficiary(facts.trainee_id)
    beneficiary.learn_revocation(facts.certificate_number, event.occurred_at, facts.reason)
    certificate = beneficiary.level_certificates.get(facts.certificate_number)
    if certificate is None:
        return [beneficiary]  # never learnt, so no claim was approved on it
    lost = beneficiary.revoked_certificate_of(certificate.occupation_code, certificate.level)
    if lost is None:
        return [beneficiary]  # another valid certificate stands in
    resting = [
        claim
        for claim in map(application.claim, beneficiary.claim_ids)
        if (claim.occupation_code, claim.level) == (certificate.occupation_code, certificate.level)
    ]
    for claim in resting:
        claim.lose_certificate(*lost, clock.today())
    return [beneficiary, *resting]


def handlers(
    application: SubsidyApplication,
) -> dict[type[IntegrationEvent], Callable[..., Iterable[Aggregate]]]:
    return {
        enrolled.TraineeEnrolled: partial(on_enrolled, application),
        enrolled.TrainingCompleted: partial(on_completed, application),
        certified.CertificateIssued: partial(on_certificate_issued, application),
        certified.CertificateIssuedV1: partial(on_certificate_issued, application),
        certified.CertificateRevoked: partial(on_certificate_revoked, application),
    }
