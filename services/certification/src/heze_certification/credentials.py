"""A level certificate as a signed credential (VC Data Model 2.0, `heze_common.credentials`),
its status lists, and its PDF e-certificate.

The evaluation institution that issued the certificate is the credential's issuer. The holder
is named, and their ID number appears only as the `idh` keyed hash (HMAC-SHA256 under the
identity provider's claim key, as in the sign-in token): a relying party holding the person's
verified sign-in can match it; nobody can read the number from it.

Status: one bit per certificate in its issuer's revocation list for the year, at the index of
the certificate's serial (`status_index`). The number already tells the serial, so the index
gives nothing away; the lists hold 131,072 entries each and a verifier fetches a whole list."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from heze_certification.domain.case import CaseStatus, CertificateCase
from heze_certification.holders import HolderIdentity
from heze_common.auth import identity_claim
from heze_common.certificate_pdf import CertificateSheet
from heze_common.credentials import CREDENTIALS_CONTEXT, IssuerKeys
from heze_common.status_lists import LIST_SIZE, StatusPurpose, status_entry

CERTIFICATE_TITLE = "专业技术人员职业技能等级证书"
STATUS_LISTS_PATH = "/public/status-lists"


@dataclass(frozen=True)
class StatusIndex:
    """Where a certificate's bit is: the list (year and block of serials) and the index."""

    year: int
    block: int
    index: int

    @classmethod
    def of(cls, certificate_number: str) -> StatusIndex:
        """From the number, `HZSZ<year>-<occupation>-<level>-<serial>`."""
        year = int(certificate_number[4:8])
        serial = int(certificate_number.rsplit("-", 1)[1])
        return cls(year, (serial - 1) // LIST_SIZE, (serial - 1) % LIST_SIZE)

    @property
    def list_name(self) -> str:
        return f"{self.year}-{self.block}"


def status_list_url(keys: IssuerKeys, body_id: UUID, purpose: StatusPurpose, list_name: str) -> str:
    return f"{keys.public_url}{STATUS_LISTS_PATH}/{body_id}/{purpose.value}/{list_name}"


def verification_link(keys: IssuerKeys, case: CertificateCase) -> str:
    """What the QR code holds: the certificate's public verification by its random code."""
    return (
        f"{keys.public_url}/public/certificates/{case.certificate_number}/verification"
        f"?code={case.verification_code}"
    )


def occupation_name(case: CertificateCase) -> str:
    """The national classification names each of the programme's occupations after its field."""
    return f"{case.subject.field.label}工程技术人员"


def level_credential(
    case: CertificateCase, holder: HolderIdentity, keys: IssuerKeys, identity_key: bytes
) -> dict[str, object]:
    """The credential of an issued (or since revoked) certificate, ready to sign."""
    if case.status not in (CaseStatus.ISSUED, CaseStatus.REVOKED) or case.issued_on is None:
        raise ValueError("only an issued certificate has a credential")
    number = case.certificate_number
    assert number is not None
    body = case.subject.evaluation_institution_id
    position = StatusIndex.of(number)
    decisions = {
        name: {"id": decision.reference, "date": decision.decided_on.isoformat()}
        for name, decision in (
            ("provinceConfirmation", case.province_confirmation),
            ("nationalApproval", case.national_approval),
        )
        if decision is not None
    }
    return {
        "@context": [CREDENTIALS_CONTEXT],
        "id": f"urn:heze:certificate:{number}",
        "type": ["VerifiableCredential", "ProfessionalTechnicalLevelCertificate"],
        "name": CERTIFICATE_TITLE,
        "issuer": keys.issuer_id(body),
        "validFrom": f"{case.issued_on.isoformat()}T00:00:00+08:00",
        "credentialSubject": {
            "type": "CertificateHolder",
            "name": holder.name,
            "idh": identity_claim(identity_key, holder.id_number),
            "certificate": {
                "number": number,
                "occupationCode": case.subject.occupation_code,
                "occupationName": occupation_name(case),
                "field": case.subject.field.value,
                "fieldName": case.subject.field.label,
                "level": case.subject.level.value,
                "levelName": case.subject.level.label,
                "issuedOn": case.issued_on.isoformat(),
                "evaluationInstitution": f"urn:uuid:{body}",
                **decisions,
            },
        },
        "credentialStatus": [
            status_entry(
                status_list_url(keys, body, StatusPurpose.REVOCATION, position.list_name),
                StatusPurpose.REVOCATION,
                position.index,
            )
        ],
    }


def certificate_sheet(
    case: CertificateCase, holder: HolderIdentity, keys: IssuerKeys, credential: str
) -> CertificateSheet:
    """The PDF's content: what the certificate says, its QR link, and its signed credential."""
    assert case.issued_on is not None and case.certificate_number is not None
    return CertificateSheet(
        title=CERTIFICATE_TITLE,
        rows=[
            ("姓名", holder.name),
            ("职业（工种）", f"{occupation_name(case)}（{case.subject.occupation_code}）"),
            ("技术领域", case.subject.field.label),
            ("等级", case.subject.level.label),
            ("证书编号", case.certificate_number),
            ("发证日期", f"{case.issued_on:%Y年%m月%d日}"),
        ],
        issuer=f"评价机构 {case.subject.evaluation_institution_id}",
        verification_link=verification_link(keys, case),
        credential=credential,
    )
