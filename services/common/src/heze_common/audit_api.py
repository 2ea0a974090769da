"""Read-only audit endpoints every service serves (auditor role): signed checkpoints, the
events about one trainee, the events its topic holds that its log lost (orphans), the state of an aggregate as of a past moment and the difference
between two moments, a rebuild of the read models beside the live ones, compared, and the
service's check of its own log against its published checkpoints."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, TypeAdapter

from heze_common.audit import LedgerKeeper, public_key_text, published_checkpoints
from heze_common.auth import Principal, require_roles
from heze_common.broker import read_all
from heze_common.errors import InvalidInput, NotFound, Refusal
from heze_common.eventstore import ServiceApplication
from heze_common.kafka_security import aiokafka_options
from heze_common.ledger import verify
from heze_common.orphans import find_orphans
from heze_common.outbox import OutboxRelay
from heze_common.requests import IsoDateTime
from heze_common.views import RebuildRunning
from heze_contracts.enums import Role

router = APIRouter(prefix="/audit", tags=["audit"])
Auditor = Annotated[Principal, Depends(require_roles(Role.AUDITOR))]


class CheckpointView(BaseModel):
    service: str
    position: int
    chain_hash: str
    signed_at: str
    signature: str


class Checkpoints(BaseModel):
    public_key: str
    """Raw Ed25519 public key, base64: verifies every signature below."""
    checkpoints: list[CheckpointView]


@router.get("/checkpoints", summary="Signed checkpoints of this service's event-log hash chain")
async def checkpoints(request: Request, _: Auditor) -> Checkpoints:
    keeper: LedgerKeeper = request.app.state.ledger
    return Checkpoints(
        public_key=public_key_text(keeper.public_key),
        checkpoints=[CheckpointView(**vars(checkpoint)) for checkpoint in keeper.checkpoints],
    )


_jsonable = TypeAdapter(Any)


def as_json(value: Any) -> Any:
    return _jsonable.dump_python(value, mode="json", fallback=str)


class AuditedEvent(BaseModel):
    service: str
    aggregate_id: UUID
    version: int
    topic: str
    timestamp: datetime
    actor: str | None
    correlation_id: UUID
    causation_id: UUID | None
    data: dict[str, Any]
    """The event's own fields: the facts, and any rule or standard it recorded."""


def audited(service: str, event: Any) -> AuditedEvent:
    fields = event.model_dump(
        mode="json", exclude={"originator_id", "originator_version", "timestamp", "context"}
    )
    return AuditedEvent(
        service=service,
        aggregate_id=event.originator_id,
        version=event.originator_version,
        topic=type(event).TOPIC,
        timestamp=event.timestamp,
        actor=event.context.actor,
        correlation_id=event.context.correlation_id,
        causation_id=event.context.causation_id,
        data=fields,
    )


@router.get("/trail/{trainee_id}", summary="Every event this service stored about one trainee")
async def trail(trainee_id: UUID, request: Request, _: Auditor) -> list[AuditedEvent]:
    app: ServiceApplication = request.app.state.application
    streams = request.app.state.trail_streams

    def collect() -> list[AuditedEvent]:
        events = [
            audited(app.name, event)
            for stream in streams(app, trainee_id)
            for event in app.events.get(stream)
        ]
        return sorted(
            events, key=lambda event: (event.timestamp, str(event.aggregate_id), event.version)
        )

    return await asyncio.to_thread(collect)


class OrphanView(BaseModel):
    position: int
    event_id: UUID
    event_type: str
    subject_id: UUID
    occurred_at: datetime


class Orphans(BaseModel):
    topic: str
    messages_read: int
    orphans: list[OrphanView]
    """Events this service published that its log no longer holds (after a restore)."""


@router.get(
    "/orphans",
    summary="Events on this service's topic that its log no longer holds (after a restore)",
)
async def orphans(request: Request, _: Auditor) -> Orphans:
    relay: OutboxRelay = request.app.state.relay
    settings = request.app.state.settings
    records = await read_all(
        settings.kafka_bootstrap_servers, relay.topic, **aiokafka_options(settings)
    )
    found = await asyncio.to_thread(find_orphans, relay.app, relay.mapper, records)
    return Orphans(
        topic=relay.topic,
        messages_read=len(records),
        orphans=[OrphanView(**vars(orphan)) for orphan in found],
    )


class AggregateState(BaseModel):
    aggregate_id: UUID
    type: str
    version: int
    as_of: datetime | None
    state: dict[str, Any]


def state_at(
    app: ServiceApplication, aggregate_id: UUID, as_of: datetime | None, version: int | None
) -> AggregateState:
    events = list(app.events.get(aggregate_id))
    if not events:
        raise NotFound("unknown_aggregate", f"no aggregate with id {aggregate_id}")
    chosen = [
        e
        for e in events
        if (as_of is None or e.timestamp <= as_of)
        and (version is None or e.originator_version <= version)
    ]
    if not chosen:
        raise NotFound("not_yet_existing", "the aggregate did not exist at that moment")
    aggregate = None
    for event in chosen:
        aggregate = event.mutate(aggregate)
    public = {
        name: as_json(value) for name, value in vars(aggregate).items() if not name.startswith("_")
    }
    return AggregateState(
        aggregate_id=aggregate_id,
        type=type(aggregate).TOPIC,
        version=aggregate.version,
        as_of=as_of,
        state=public,
    )


@router.get(
    "/aggregates/{aggregate_id}", summary="An aggregate's state as of a past time or version"
)
async def aggregate(
    aggregate_id: UUID,
    request: Request,
    _: Auditor,
    as_of: IsoDateTime | None = None,
    version: int | None = Query(None, ge=1),
) -> AggregateState:
    return await asyncio.to_thread(
        state_at, request.app.state.application, aggregate_id, as_of, version
    )


class Difference(BaseModel):
    field: str
    before: Any
    after: Any


@router.get(
    "/aggregates/{aggregate_id}/difference",
    summary="What changed in an aggregate between two moments",
)
async def difference(
    aggregate_id: UUID, request: Request, _: Auditor, before: IsoDateTime, after: IsoDateTime
) -> list[Difference]:
    if after < before:
        raise InvalidInput(
            "invalid_range", "`after` must not be earlier than `before`", field="after"
        )
    app = request.app.state.application
    old = await asyncio.to_thread(state_at, app, aggregate_id, before, None)
    new = await asyncio.to_thread(state_at, app, aggregate_id, after, None)
    return [
        Difference(field=name, before=old.state.get(name), after=new.state.get(name))
        for name in sorted(set(old.state) | set(new.state))
        if old.state.get(name) != new.state.get(name)
    ]


class RebuildReport(BaseModel):
    events_replayed: int
    read_models: list[str]
    differences: list[str]
    """Read models (or their tables) whose rebuilt state differed from the live one (empty:
    they agreed)."""
    switched: bool
    """The service now serves the rebuilt read models (built beside; writes never waited).
    Tables are switched only when they agreed; a difference leaves the live ones in place."""
    completed: list[str]
    """Tables made after their history (a read model added by an upgrade), which the switch
    filled from the whole log; they may differ from the live ones without stopping it."""


@router.post(
    "/read-models/rebuild",
    summary="Rebuild the read models from the log beside the live ones, compare, then switch to them",
)
async def rebuild(request: Request, _: Auditor) -> RebuildReport:
    views = request.app.state.views

    def rebuild_and_switch() -> RebuildReport:
        try:
            rebuilt = views.updater.rebuild_and_switch()
        except RebuildRunning as running:
            raise Refusal("rebuild_running", str(running)) from running
        return RebuildReport(
            events_replayed=rebuilt.events_replayed,
            read_models=[type(view).__name__ for view in views.updater.views],
            differences=rebuilt.differences,
            switched=not rebuilt.differences,
            completed=rebuilt.completed,
        )

    return await asyncio.to_thread(rebuild_and_switch)


FINDINGS_SHOWN = 100
"""Findings listed in a verification answer (a log rewritten from one point names every event
after it); `findings_total` counts them all."""


class FindingView(BaseModel):
    position: int
    kind: str
    """`altered`, `inserted`, `deleted`, `truncated`, `chain_rewritten` or `bad_signature`."""
    detail: str


class Verification(BaseModel):
    service: str
    verified: bool
    """No findings: the log, its hash chain and every checkpoint agree."""
    checkpoints: int
    """This service's checkpoints read from the audit topic and checked."""
    head: int
    """The log's last position when the check began: everything up to it was checked."""
    findings: list[FindingView]
    """In position order, the first 100."""
    findings_total: int


@router.post(
    "/verification",
    summary="Self-check: this service verifies its own event log with its own checkpoint key",
    description="The service recomputes the hash chain of its event log from its database and"
    " checks it against every checkpoint it published on the audit topic, with the checkpoint"
    " public key it serves itself (`GET /audit/checkpoints`). This is the service checking"
    " itself: it shows the log and the published checkpoints agree, but it trusts the service's"
    " own key and code. The independent check is the CLI, `./heze audit verify SERVICE"
    " --public-key … --kafka …`, run with a key the auditor pinned. Reads only; on a large log"
    " it takes a while (the whole log is read).",
)
async def verification(request: Request, _: Auditor) -> Verification:
    keeper: LedgerKeeper = request.app.state.ledger
    application: ServiceApplication = request.app.state.application
    settings = request.app.state.settings
    published = await published_checkpoints(
        settings.kafka_bootstrap_servers,
        keeper.topic,
        application.name,
        **aiokafka_options(settings),
    )
    checkpoints = list({c.to_json(): c for c in published}.values())

    def check() -> tuple[int, list[Any]]:
        head = application.log_head()
        return head, verify(application.recorder, keeper.table, checkpoints, keeper.public_key)

    head, findings = await asyncio.to_thread(check)
    return Verification(
        service=application.name,
        verified=not findings,
        checkpoints=len(checkpoints),
        head=head,
        findings=[
            FindingView(position=f.position, kind=f.kind, detail=f.detail)
            for f in findings[:FINDINGS_SHOWN]
        ],
        findings_total=len(findings),
    )
