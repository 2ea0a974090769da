"""A training certificate's signed credential (for its holder, the institution that trained
them, the city bureau and auditors), and the institutions' published keys."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from heze_common.credentials import ISSUERS_PATH, MEDIA_TYPE
from heze_common.dispatch import query
from heze_common.errors import NotFound
from heze_enrollment.api.common import App
from heze_enrollment.api.trainees import Reader
from heze_enrollment.application import EnrollmentApplication
from heze_common.auth import Principal
from heze_enrollment.credentials import training_credential

router = APIRouter(tags=["training certificates"])


def signed_training_credential(
    app: EnrollmentApplication, principal: Principal, trainee_id: UUID, programme_id: UUID
) -> str:
    trainee = app.readable_trainee(principal, trainee_id)
    record = trainee.enrolments.get(programme_id)
    if record is None or record.certificate_number is None:
        raise NotFound(
            "no_training_certificate",
            "the trainee holds no training certificate of this programme",
            field="programme_id",
        )
    # The occupation as it was named when the certificate was earned.
    occupation = app.occupation_table().occupation(record.occupation_code, record.completed_on)
    credential = training_credential(
        trainee,
        record,
        app.institution(record.institution_id).name,
        occupation.name,
        app.issuer_keys,
        app.identity_claim_key,
    )
    return app.issuer_keys.sign(record.institution_id, credential)


@router.get(
    "/trainees/{trainee_id}/enrolments/{programme_id}/credential",
    summary="The training certificate's signed credential (VC 2.0, application/vc+jwt)",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}}},
)
async def credential(trainee_id: UUID, programme_id: UUID, app: App, principal: Reader) -> Response:
    signed = await query(signed_training_credential, app, principal, trainee_id, programme_id)
    return Response(signed, media_type=MEDIA_TYPE)


@router.get(f"{ISSUERS_PATH}/{{institution_id}}", summary="A training institution's published keys")
async def issuer(institution_id: UUID, app: App) -> dict[str, object]:
    return app.issuer_keys.published(institution_id)
