"""`./heze demo`: drive the cohort with a progress bar, then print the summary and the full
cross-service event trail of one trainee."""

from __future__ import annotations

import asyncio
from datetime import UTC

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from heze_common.auth import TokenIssuer
from heze_common.broker import read_all
from heze_common.settings import ServiceSettings
from heze_contracts import parse_event
from heze_contracts.enums import Role
from heze_contracts.topics import (
    ASSESSMENT_EVENTS,
    CERTIFICATION_EVENTS,
    ENROLLMENT_EVENTS,
    SUBSIDY_EVENTS,
)
from heze_system.demo.scenario import STAGES, Parties, Scenario, World
from heze_system.demo.verify import verify
from heze_system.system import SERVICES, RunningSystem


def parties_for(system: RunningSystem) -> Parties:
    issuer = TokenIssuer(ServiceSettings(service_name="demo", data_dir=system.data_dir))
    return Parties({service: system.url(service) for service in SERVICES}, issuer)


async def drive(
    system: RunningSystem, trainees: int, console: Console, seed: int = 2023
) -> tuple[World, list[str], list]:
    """Drive a cohort (`seed` chooses its people) through the system and check every trainee's
    state in every service."""
    parties = parties_for(system)
    with Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        tasks: dict[str, int] = {}

        def advance(label: str, steps: int) -> None:
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=None)
            progress.advance(tasks[label], steps)

        try:
            world = await Scenario(parties, trainees, advance, seed).run()
            problems = await verify(world, parties)
            overdue = await parties.every(
                "certification", "/deadlines/overdue?limit=500", parties.token(Role.AUDITOR)
            )
        finally:
            await parties.close()
    return world, problems, overdue


async def trail(system: RunningSystem, trainee_id: str) -> list:
    events = []
    for topic in (ENROLLMENT_EVENTS, ASSESSMENT_EVENTS, CERTIFICATION_EVENTS, SUBSIDY_EVENTS):
        for record in await read_all(system.kafka_bootstrap_servers or "", topic, idle_ms=300):
            event = parse_event(record.value)
            if str(event.subject_id) == trainee_id:
                events.append(event)
    return sorted(
        events, key=lambda event: (event.occurred_at, event.producer.value, event.position)
    )


def run_and_report(system: RunningSystem, console: Console, trainees: int = 300) -> World:
    console.print(
        f"[bold]Demo:[/bold] a Heze cohort of {trainees} people through the four services"
    )
    world, problems, overdue = asyncio.run(drive(system, trainees, console))

    stages = Table(title="Trainees per stage")
    stages.add_column("stage")
    stages.add_column("count", justify="right")
    stages.add_row("people in the intake", str(len(world.journeys)))
    for stage in STAGES:
        stages.add_row(stage, str(world.count(stage)))
    stages.add_row("withdrawn", str(world.count("withdrawn")))
    console.print(stages)

    refusals = Table(title="Refusals by reason")
    refusals.add_column("reason")
    refusals.add_column("count", justify="right")
    for code, count in world.refusals.most_common():
        refusals.add_row(code, str(count))
    console.print(refusals)

    deadlines = Table(title="Certificate deadlines")
    deadlines.add_column("met")
    deadlines.add_column("overdue now")
    deadlines.add_column("returned and resubmitted")
    deadlines.add_row(
        str(world.count("issued")), str(len(overdue)), "1" if world.returned_case else "0"
    )
    console.print(deadlines)
    console.print(
        "Repeat subsidy claim within a year refused: "
        + ("yes" if world.repeat_claim_refused else "[red]no[/red]")
    )
    console.print(
        "Every trainee in its expected state in every service: "
        + ("[green]yes[/green]" if not problems else f"[red]{len(problems)} problems[/red]")
    )
    for problem in problems[:20]:
        console.print(f"  [red]{problem}[/red]")

    followed = next((j for j in world.journeys if "subsidy paid" in j.stages), None)
    if followed and followed.trainee_id:
        events = asyncio.run(trail(system, followed.trainee_id))
        table = Table(title=f"The event trail of {followed.person.name} across the four services")
        for column in ("time (UTC)", "producer", "event", "position", "caused by"):
            table.add_column(column)
        for event in events:
            table.add_row(
                event.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                event.producer.value,
                event.event_type,
                str(event.position),
                str(event.causation_id)[:8] if event.causation_id else "",
            )
        console.print(table)
    return world
