"""How pydantic domain events become stored bytes: JSON, then AES-GCM encrypted at rest."""

from __future__ import annotations

import json
from typing import Any

from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from heze_common.events import DomainEvent


class JsonTranscoder(Transcoder):
    """Compact UTF-8 JSON; Chinese text is stored as written, not as escapes."""

    def encode(self, obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)


class PydanticMapper(Mapper):
    """Maps pydantic domain events to stored events, upcasting old class versions on read."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event: DomainEvent = domain_event
        state = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
        if event.class_version > 1:
            state["class_version"] = event.class_version
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
        version = state.pop("class_version", 1)
        while version < event_class.class_version:
            getattr(event_class, f"upcast_v{version}_v{version + 1}")(state)
            version += 1
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        return event_class.model_validate(state)
