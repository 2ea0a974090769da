"""A data key per person: personal fields sealed under it, erased by deleting it, and master
keys that rotate without losing anyone (heze_common.person_keys)."""

from __future__ import annotations

import base64
import threading
from datetime import date
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.domain import event
from pydantic import SecretStr

from heze_common.events import Aggregate, AggregateCreated
from heze_common.eventstore import ServiceApplication
from heze_common.person_keys import (
    SEALED,
    ErasedPerson,
    MasterKeys,
    MemoryPersonKeys,
    PersonalData,
    PostgresPersonKeys,
)
from heze_common.persistence import JsonTranscoder, PydanticMapper
from eventsourcing.persistence import StoredEvent
from heze_common.settings import ServiceSettings

NAME = "王𠀀明"  # a character outside the BMP, to check the bytes round-trip exactly
ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"
FIRST = base64.b64encode(b"the first person master key, 32!").decode()
SECOND = base64.b64encode(b"the second person master key 32!").decode()


class Person(Aggregate):
    TOPIC = "sample.Person"

    class Registered(AggregateCreated):
        TOPIC = "sample.Person.Registered.v1"
        personal_fields = ("name", "id_number", "phone")
        name: str | None
        id_number: str | None
        phone: str | None
        county: str
        registered_on: date

    class CardIssued(Aggregate.Event):
        """Personal data of the person named in a field, not of the aggregate."""

        TOPIC = "sample.Person.CardIssued.v1"
        personal_fields = ("printed_name",)
        person_path = ("holder", "person_id")
        holder: dict[str, UUID]
        printed_name: str | None

        def apply(self, person: Person) -> None:
            person.card = self.printed_name

    @event(Registered)
    def __init__(
        self,
        name: str | None,
        id_number: str | None,
        phone: str | None,
        county: str,
        registered_on: date,
    ) -> None:
        self.name, self.id_number, self.phone = name, id_number, phone
        self.county = county
        self.card: str | None = None

    def issue_card(self, holder: UUID, printed_name: str) -> None:
        self.trigger_event(self.CardIssued, holder={"person_id": holder}, printed_name=printed_name)


def somebody(
    name: str | None, id_number: str | None, phone: str | None, county: str = "曹县"
) -> Person:
    return Person(
        name=name, id_number=id_number, phone=phone, county=county, registered_on=date(2026, 3, 2)
    )


class PeopleApplication(ServiceApplication):
    holds_personal_data = True


def master(text: str) -> MasterKeys:
    return MasterKeys(base64.b64decode(text))


def mapper_with(data: PersonalData) -> PydanticMapper:
    return PydanticMapper(transcoder=JsonTranscoder(), personal_data=data)


def registered(person: Person) -> Aggregate.Event:
    (created,) = person.collect_events()
    return created


# -- sealing, opening, erasing (in memory) ------------------------------------------------------


@pytest.mark.fast
def test_the_stored_event_holds_its_personal_fields_only_sealed() -> None:
    mapper = mapper_with(PersonalData.in_memory())
    person = somebody(NAME, ID_NUMBER, PHONE, "牡丹区")
    stored = mapper.to_stored_event(registered(person))
    state = stored.state.decode()
    for value in (NAME, ID_NUMBER, PHONE, "11010519491231"):
        assert value not in state
    assert "牡丹区" in state  # what is not personal stays readable to the service
    assert SEALED in state

    restored = mapper.to_domain_event(stored)
    assert (restored.name, restored.id_number, restored.phone) == (NAME, ID_NUMBER, PHONE)
    assert restored.name.encode() == NAME.encode()


@pytest.mark.fast
def test_erasing_the_key_turns_every_personal_field_to_none_and_leaves_the_rest() -> None:
    data = PersonalData.in_memory()
    mapper = mapper_with(data)
    person = somebody(NAME, ID_NUMBER, PHONE, "牡丹区")
    stored = mapper.to_stored_event(registered(person))
    other = somebody("李四", "11010519491231003X", "13900139000", "曹县")
    other_stored = mapper.to_stored_event(registered(other))

    assert data.erase(person.id) is True
    assert data.erase(person.id) is False  # erasing twice is harmless

    erased = mapper.to_domain_event(stored)
    assert (erased.name, erased.id_number, erased.phone) == (None, None, None)
    assert (erased.county, erased.registered_on) == ("牡丹区", date(2026, 3, 2))
    assert mapper.to_domain_event(other_stored).name == "李四"  # others untouched


@pytest.mark.fast
def test_nothing_is_sealed_for_an_erased_person_and_no_key_is_made_again() -> None:
    data = PersonalData.in_memory()
    mapper = mapper_with(data)
    person = somebody(NAME, ID_NUMBER, PHONE, "曹县")
    created = registered(person)
    data.erase(person.id)
    # A late writer still holding the name (read before the erasure) cannot store it.
    with pytest.raises(ErasedPerson):
        mapper.to_stored_event(created)
    with pytest.raises(ErasedPerson):
        data.seal(person.id, {"name": NAME})
    assert data.keys.key(person.id, "any") is None and data.is_erased(person.id)
    # An event that holds nothing of them is stored as it is.
    blank = somebody(None, None, None, "曹县")
    data.erase(blank.id)
    stored = mapper.to_stored_event(registered(blank))
    assert SEALED not in stored.state.decode()
    assert mapper.to_domain_event(stored).county == "曹县"


@pytest.mark.fast
def test_an_event_stored_before_its_fields_were_sealed_reads_as_erased_once_they_are() -> None:
    data = PersonalData.in_memory()
    mapper = mapper_with(data)
    person_id = uuid4()
    legacy = StoredEvent(
        originator_id=person_id,
        originator_version=1,
        topic="sample.Person.Registered.v1",
        state=JsonTranscoder().encode(
            {
                "name": NAME,
                "id_number": ID_NUMBER,
                "phone": PHONE,
                "county": "曹县",
                "registered_on": "2026-03-02",
                "timestamp": "2026-03-02T00:00:00+00:00",
                "originator_topic": "sample.Person",
                "context": {"correlation_id": str(uuid4())},
            }
        ),
    )
    assert mapper.to_domain_event(legacy).name == NAME
    data.erase(person_id)  # no key to destroy: a tombstone all the same
    erased = mapper.to_domain_event(legacy)
    assert (erased.name, erased.id_number, erased.phone, erased.county) == (
        None,
        None,
        None,
        "曹县",
    )


@pytest.mark.fast
def test_personal_data_of_a_person_named_in_a_field_is_sealed_under_that_persons_key() -> None:
    data = PersonalData.in_memory()
    mapper = mapper_with(data)
    person = somebody(NAME, ID_NUMBER, PHONE, "曹县")
    holder = uuid4()
    person.issue_card(holder, "张三")
    _, card = person.collect_events()
    stored = mapper.to_stored_event(card)
    assert "张三" not in stored.state.decode()

    data.erase(person.id)  # the aggregate's person: not the card's holder
    assert mapper.to_domain_event(stored).printed_name == "张三"
    data.erase(holder)
    assert mapper.to_domain_event(stored).printed_name is None


@pytest.mark.fast
def test_a_sealed_value_opens_only_for_its_person() -> None:
    data = PersonalData.in_memory()
    alice, bob = uuid4(), uuid4()
    sealed = data.seal(alice, {"name": NAME})
    data.seal(bob, {"name": "李四"})
    with pytest.raises(ValueError, match="does not open"):
        data.open(bob, sealed.replace(sealed.split(".")[1], data.keys.current(bob)[0]))
    assert data.open(alice, sealed) == {"name": NAME}


@pytest.mark.fast
def test_an_event_with_personal_fields_is_never_stored_without_keys() -> None:
    mapper = PydanticMapper(transcoder=JsonTranscoder())
    person = somebody(NAME, ID_NUMBER, PHONE, "曹县")
    with pytest.raises(RuntimeError, match="holds personal data"):
        mapper.to_stored_event(registered(person))


@pytest.mark.fast
def test_a_data_key_wrapped_under_a_retired_master_key_is_rewrapped_under_the_current_one() -> None:
    person = uuid4()
    before = MemoryPersonKeys(master(FIRST))
    sealed = PersonalData(before).seal(person, {"name": NAME})
    stored = before._stored[person]

    rotated = MemoryPersonKeys(MasterKeys(base64.b64decode(SECOND), [base64.b64decode(FIRST)]))
    rotated._stored = dict(before._stored)
    assert PersonalData(rotated).open(person, sealed) == {"name": NAME}
    assert rotated._stored[person].master_id == rotated.master.current_id != stored.master_id
    assert rotated._stored[person].key_id == stored.key_id  # the same data key, re-wrapped

    only_new = MemoryPersonKeys(master(SECOND))
    only_new._stored = dict(rotated._stored)
    assert PersonalData(only_new).open(person, sealed) == {"name": NAME}

    only_old_unknown = MemoryPersonKeys(master(SECOND))
    only_old_unknown._stored = dict(before._stored)
    with pytest.raises(LookupError, match="not configured"):
        PersonalData(only_old_unknown).open(person, sealed)


@pytest.mark.fast
def test_master_keys_are_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        MasterKeys(b"short")


# -- in PostgreSQL ------------------------------------------------------------------------------


def people(settings: ServiceSettings, **keys: object) -> PeopleApplication:
    """The service (started again) on the same database, the aggregate cache off so every read
    opens what is stored."""
    return PeopleApplication(settings.model_copy(update={**keys, "aggregate_cache_size": 0}))


@pytest.fixture
def people_settings(upstream_settings: ServiceSettings) -> ServiceSettings:
    return upstream_settings.model_copy(
        update={"service_name": "people", "person_master_key": SecretStr(FIRST)}
    )


def test_erasure_leaves_the_stored_bytes_and_the_log_whole_but_unreadable(
    people_settings: ServiceSettings,
) -> None:
    app = people(people_settings)
    person = somebody(NAME, ID_NUMBER, PHONE, "曹县")
    other = somebody("李四", "11010519491231003X", "13900139000", "曹县")
    app.save(person, other)
    with psycopg.connect(people_settings.database_url) as connection:
        before = connection.execute(
            "SELECT originator_id, state FROM people_events ORDER BY 1"
        ).fetchall()
        assert connection.execute("SELECT count(*) FROM person_keys").fetchone() == (2,)

    app.personal_data.erase(person.id)
    with psycopg.connect(people_settings.database_url) as connection:
        after = connection.execute(
            "SELECT originator_id, state FROM people_events ORDER BY 1"
        ).fetchall()
        keys = connection.execute(
            "SELECT person_id FROM person_keys WHERE wrapped IS NOT NULL"
        ).fetchall()
    assert after == before  # nothing rewritten: the hash chain still holds
    assert keys == [(other.id,)]
    with psycopg.connect(people_settings.database_url) as connection:
        (tombstone,) = connection.execute(
            "SELECT wrapped, erased_at IS NOT NULL FROM person_keys WHERE person_id = %s",
            (person.id,),
        ).fetchall()
    assert tombstone == (None, True)
    with pytest.raises(ErasedPerson):
        app.personal_data.seal(person.id, {"name": NAME})
    app.close()

    reopened = people(people_settings)
    erased = reopened.repository.get(person.id)
    assert (erased.name, erased.id_number, erased.phone, erased.county) == (
        None,
        None,
        None,
        "曹县",
    )
    assert reopened.repository.get(other.id).name == "李四"
    reopened.close()


def test_rotating_the_person_master_key_keeps_every_stored_event_readable(
    people_settings: ServiceSettings,
) -> None:
    before = people(people_settings)
    early = somebody(NAME, ID_NUMBER, PHONE, "曹县")
    before.save(early)
    before.close()

    rotated = people(
        people_settings,
        person_master_key=SecretStr(SECOND),
        retired_person_master_keys=SecretStr(FIRST),
    )
    late = somebody("李四", "11010519491231003X", "13900139000", "曹县")
    rotated.save(late)
    assert rotated.repository.get(early.id).name == NAME
    assert rotated.repository.get(late.id).name == "李四"
    rotated.close()
    with psycopg.connect(people_settings.database_url) as connection:
        masters = {row[0] for row in connection.execute("SELECT master_key_id FROM person_keys")}
    assert masters == {master(SECOND).current_id}  # re-wrapped under the new key as read

    without_the_old_key = people(people_settings, person_master_key=SecretStr(SECOND))
    assert without_the_old_key.repository.get(early.id).name == NAME
    assert without_the_old_key.repository.get(late.id).name == "李四"
    without_the_old_key.close()


def test_concurrent_first_sealings_of_one_person_agree_on_one_key(
    people_settings: ServiceSettings,
) -> None:
    apps = [people(people_settings) for _ in range(4)]
    person = uuid4()
    sealed: list[str] = []
    start = threading.Barrier(len(apps))

    def seal(app: PeopleApplication) -> None:
        start.wait()
        sealed.append(app.personal_data.seal(person, {"name": NAME}))

    threads = [threading.Thread(target=seal, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({value.split(".")[1] for value in sealed}) == 1  # one key id
    for app in apps:
        assert all(app.personal_data.open(person, value) == {"name": NAME} for value in sealed)
        app.close()


def test_a_service_without_personal_data_keeps_no_keys_and_needs_no_master_key(
    upstream_settings: ServiceSettings,
) -> None:
    production_like = upstream_settings.model_copy(update={"person_master_key": None})
    app = ServiceApplication(production_like)
    with psycopg.connect(upstream_settings.database_url) as connection:
        exists = connection.execute("SELECT to_regclass('person_keys')").fetchone()
    assert exists == (None,)
    with pytest.raises(RuntimeError, match="holds personal data"):
        app.save(somebody(NAME, ID_NUMBER, PHONE, "曹县"))
    app.close()


def test_production_requires_the_person_master_key(people_settings: ServiceSettings) -> None:
    production = people_settings.model_copy(
        update={"environment": "production", "person_master_key": None}
    )
    with pytest.raises(ValueError, match="PERSON_MASTER_KEY"):
        production.person_master_keys()


def test_postgres_keys_are_wrapped_never_stored_plain(people_settings: ServiceSettings) -> None:
    app = people(people_settings)
    keys = app.personal_data.keys
    assert isinstance(keys, PostgresPersonKeys)
    person: UUID = uuid4()
    key_id, cipher = keys.current(person)
    with psycopg.connect(people_settings.database_url) as connection:
        ((wrapped, master_id),) = connection.execute(
            "SELECT wrapped, master_key_id FROM person_keys WHERE person_id = %s", (person,)
        ).fetchall()
    assert master_id == keys.master.current_id and len(bytes(wrapped)) == 12 + 32 + 16
    raw = keys.master.unwrap(master_id, bytes(wrapped), person)
    assert raw not in bytes(wrapped)  # wrapped, not stored as it is
    sealed = app.personal_data.seal(person, {"name": NAME})
    assert master(FIRST).unwrap(master_id, bytes(wrapped), person) == raw  # the master alone
    assert app.personal_data.open(person, sealed) == {"name": NAME}
    assert keys.key(person, key_id) is cipher
    assert keys.key(person, "another key id") is None
    app.close()
