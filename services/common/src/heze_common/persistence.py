"""How pydantic domain events become stored bytes: JSON, with personal fields sealed under the
person's own key (heze_common.person_keys), then AES-GCM encrypted at rest."""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from heze_common.events import DomainEvent
from heze_common.person_keys import SEALED, PersonalData, person_in


class JsonTranscoder(Transcoder):
    """Compact UTF-8 JSON; Chinese text is stored as written, not as escapes."""

    def encode(self, obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)


class PydanticMapper(Mapper):
    """Maps pydantic domain events to stored events, upcasting old class versions on read."""

    def __init__(self, *args: Any, personal_data: PersonalData | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.personal_data = personal_data
        """The people's keys (the application sets them): an event with personal fields cannot
        be stored or read without them."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event: DomainEvent = domain_event
        state = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
        if event.class_version > 1:
            state["class_version"] = event.class_version
        if event.personal_fields:
            self._seal(type(event), state, event.originator_id)
        data = self.transcoder.encode(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=get_topic(type(event)),
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event_class: type[DomainEvent] = resolve_topic(stored_event.topic)
        try:
            data = stored_event.state
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            state: dict[str, Any] = self.transcoder.decode(data)
        except Exception as error:
            raise MapperDeserialisationError(
                f"cannot decode stored event {stored_event.originator_id}"
                f" v{stored_event.originator_version} ({stored_event.topic}): {error}"
            ) from error
        if SEALED in state:
            self._open(event_class, state, stored_event.originator_id)
        elif event_class.personal_fields and self.personal_data is not None:
            self._blank_if_erased(event_class, state, stored_event.originator_id)
        version = state.pop("class_version", 1)
        while version < event_class.class_version:
            getattr(event_class, f"upcast_v{version}_v{version + 1}")(state)
            version += 1
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        return event_class.model_validate(state)

    def _seal(self, event_class: type[DomainEvent], state: dict[str, Any], originator: Any) -> None:
        if self.personal_data is None:
            raise RuntimeError(f"{event_class.TOPIC} holds personal data: the mapper has no keys")
        fields = {name: state[name] for name in event_class.personal_fields}
        if all(value is None for value in fields.values()):
            return  # nothing of the person to seal (and they may be erased already)
        person = person_in(state, event_class.person_path, originator)
        state[SEALED] = self.personal_data.seal(person, fields)
        for name in fields:
            del state[name]

    def _open(self, event_class: type[DomainEvent], state: dict[str, Any], originator: Any) -> None:
        """The sealed fields put back, or None in each once the person is erased."""
        if self.personal_data is None:
            raise RuntimeError(f"{event_class.TOPIC} holds personal data: the mapper has no keys")
        person = person_in(state, event_class.person_path, originator)
        opened = self.personal_data.open(person, state.pop(SEALED))
        if opened is None:
            opened = dict.fromkeys(event_class.personal_fields)
        state.update(opened)

    def _blank_if_erased(
        self, event_class: type[DomainEvent], state: dict[str, Any], originator: Any
    ) -> None:
        """An event stored before its fields were sealed: its bytes stay readable to whoever
        holds the store's cipher key, but the services read it as erased once the person is."""
        assert self.personal_data is not None
        if self.personal_data.is_erased(person_in(state, event_class.person_path, originator)):
            state.update(
                dict.fromkeys(name for name in event_class.personal_fields if name in state)
            )
