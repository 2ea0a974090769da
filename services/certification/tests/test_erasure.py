"""A certificate holder erased (enrollment's `PersonErased`), against PostgreSQL and the broker:
certification deletes their key, its copies of the name and ID number become unreadable, and the
certificate keeps what its retention rule keeps, so that it still verifies by number and name."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import date
from uuid import uuid4

import pytest
from httpx import AsyncClient
from test_lifecycle import ID_NUMBER, NAME, TODAY, build, upstream

from heze_certification.application import CertificationApplication
from heze_certification.domain.case import CaseSubject, CertificateCase
from heze_certification.settings import CertificationSettings
from heze_common import clock
from heze_common.person_keys import ErasedPerson
from heze_common.testing import Tokens, eventually, publish
from heze_contracts.enrollment import PersonErased, PersonErasedPayload
from heze_contracts.enums import ErasureGrounds, Field, Level, Role


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with clock.frozen_at(TODAY):
        yield


async def test_an_erased_holders_certificate_verifies_and_nothing_names_them(
    client: AsyncClient, tokens: Tokens, certification_settings: CertificationSettings
) -> None:
    prefix, bootstrap = (
        certification_settings.kafka_topic_prefix,
        certification_settings.kafka_bootstrap_servers,
    )
    trainee_id, application_id, evaluator = uuid4(), uuid4(), uuid4()
    enrollment_events, assessment_events = upstream(trainee_id, application_id, evaluator)
    await publish(bootstrap, prefix + "enrollment.events.v1", *enrollment_events)
    await publish(bootstrap, prefix + "assessment.events.v1", *assessment_events)
    me, city, auditor = (
        tokens(Role.EVALUATION_INSTITUTION, evaluator),
        tokens(Role.CITY_BUREAU),
        tokens(Role.AUDITOR),
    )

    async def case_opened() -> bool:
        return bool((await client.get("/cases", headers=me)).json())

    await eventually(case_opened)
    case_id = (await client.get("/cases", headers=me)).json()[0]["case_id"]
    for step, who in (
        ("report", me),
        ("confirmation", tokens(Role.PROVINCIAL_DEPARTMENT)),
        ("approval", tokens(Role.NATIONAL_OFFICE)),
        ("issuance", me),
    ):
        answer = await client.post(f"/cases/{case_id}/{step}", headers=who)
        assert answer.status_code == 200, answer.text
    issued = (await client.get(f"/cases/{case_id}", headers=me)).json()
    number = issued["certificate_number"]
    holder = tokens(Role.TRAINEE, subject=str(trainee_id))
    assert (await client.get(f"/certificates/{number}/pdf", headers=holder)).status_code == 200

    erasure = build(
        PersonErased,
        PersonErasedPayload(
            trainee_id=trainee_id, grounds=ErasureGrounds.REQUEST, erased_on=date(2026, 9, 24)
        ),
        trainee_id,
    )
    await publish(bootstrap, prefix + "enrollment.events.v1", erasure)

    async def erased() -> bool:
        case = (await client.get(f"/cases/{case_id}", headers=me)).json()
        return case["holder_name"] is None

    await eventually(erased)
    listed = (await client.get("/cases", headers=me)).json()
    assert [(c["case_id"], c["holder_name"]) for c in listed] == [(case_id, None)]
    for document in ("credential", "pdf"):
        refused = await client.get(f"/certificates/{number}/{document}", headers=holder)
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "person_erased")

    # The certificate stands: it verifies by number and name (against the keyed hash kept
    # with it), and by its QR code without a credential naming anyone.
    verify = "/public/certificates/verify"
    valid = (await client.get(verify, params={"number": number, "name": NAME})).json()
    assert (valid["status"], valid["level"]) == ("valid", "junior")
    wrong = (await client.get(verify, params={"number": number, "name": "别人"})).json()
    assert wrong["status"] == "unknown"

    credits = (await client.get("/continuing-education/2026", headers=city)).json()
    assert [(c["trainee_id"], c["name"], c["id_number"]) for c in credits] == [
        (str(trainee_id), None, None)
    ]
    trail = (await client.get(f"/audit/trail/{trainee_id}", headers=auditor)).json()
    topics = [event["topic"] for event in trail]
    assert "certification.TalentRecord.Erased.v1" in topics
    assert "certification.CertificateCase.HolderErased.v1" in topics
    assert all(NAME not in str(event["data"]) for event in trail)

    # An insider with every key the service holds (and a dump of its database) finds neither.
    insider = CertificationApplication(
        certification_settings.model_copy(update={"aggregate_cache_size": 0})
    )
    try:
        notifications = insider.recorder.select_notifications(start=1, limit=10_000)
        decoded = [insider.mapper.to_domain_event(n).model_dump_json() for n in notifications]
        # A redelivered erasure changes nothing more; a late writer cannot seal the name again.
        assert insider.erase_person(trainee_id, date(2026, 9, 25))[0].pending_events == []
        late = CertificateCase.open(
            CaseSubject(
                trainee_id=trainee_id,
                application_id=uuid4(),
                evaluation_institution_id=evaluator,
                occupation_code="2-02-07-13",
                field=Field.INTELLIGENT_MANUFACTURING,
                level=Level.JUNIOR,
            ),
            NAME,
            date(2026, 9, 20),
        )
        with pytest.raises(ErasedPerson):
            insider.save(late)
    finally:
        insider.close()
    assert len(decoded) > 10 and any(number in event for event in decoded)
    assert not any(NAME in event or ID_NUMBER in event for event in decoded)
    dump = subprocess.run(
        ["pg_dump", "--no-owner", certification_settings.database_url],
        check=True,
        capture_output=True,
        timeout=300,
    ).stdout
    assert NAME.encode() not in dump and ID_NUMBER.encode() not in dump
    assert number.encode() in dump  # the certificate's record is kept
