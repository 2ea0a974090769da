"""A training certificate (培训合格证书) as a signed credential (VC Data Model 2.0,
`heze_common.credentials`), issued by the training institution that trained the person.

The holder is named, with their ID number only as the `idh` keyed hash (as in the sign-in
token). A training certificate is not revoked under the programme's rules, so its credential
carries no status entry; what it proves is the training-hours proof of its level."""

from __future__ import annotations

from typing import Any

from heze_common.auth import identity_claim
from heze_common.credentials import CREDENTIALS_CONTEXT, IssuerKeys
from heze_enrollment.domain.trainee import Enrolment, Trainee

TITLE = "培训合格证书"


def training_credential(
    trainee: Trainee,
    record: Enrolment,
    institution_name: str,
    occupation_name: str,
    keys: IssuerKeys,
    identity_key: bytes,
) -> dict[str, Any]:
    if record.certificate_number is None or record.completed_on is None:
        raise ValueError("only a completed enrolment has a training certificate")
    return {
        "@context": [CREDENTIALS_CONTEXT],
        "id": f"urn:heze:training-certificate:{record.certificate_number}",
        "type": ["VerifiableCredential", "TrainingCertificate"],
        "name": TITLE,
        "issuer": {"id": keys.issuer_id(record.institution_id), "name": institution_name},
        "validFrom": f"{record.completed_on.isoformat()}T00:00:00+08:00",
        "credentialSubject": {
            "type": "CertificateHolder",
            "name": trainee.name,
            "idh": identity_claim(identity_key, trainee.id_number),
            "certificate": {
                "number": record.certificate_number,
                "occupationCode": record.occupation_code,
                "occupationName": occupation_name,
                "field": record.field.value,
                "fieldName": record.field.label,
                "level": record.level.value,
                "levelName": record.level.label,
                "hoursByKind": {
                    kind.value: f"{hours:.1f}" for kind, hours in record.hours_by_kind.items()
                },
                "examScore": str(record.exam_score),
                "completedOn": record.completed_on.isoformat(),
                "programme": f"urn:uuid:{record.programme_id}",
            },
        },
    }
