"""Building a service's log for the bench, and recording it as published."""

from __future__ import annotations

import importlib
import time
from typing import Any

from rich.console import Console

from heze_common.relay_position import RelayPositions
from heze_common.views import ViewUpdater
from heze_system.bench import service_settings
from heze_system.scale.assessment_log import AssessmentLog
from heze_system.scale.base import (
    LogBuilder,
)
from heze_system.scale.certification_log import CertificationLog
from heze_system.scale.enrollment_log import EnrollmentLog
from heze_system.scale.subsidy_log import SubsidyLog
from heze_system.system import RunningSystem

BUILDERS: dict[str, type[LogBuilder]] = {
    builder.service: builder
    for builder in (EnrollmentLog, AssessmentLog, CertificationLog, SubsidyLog)
}
PROGRESS_SECONDS = 10.0


def build_log(
    system: RunningSystem, service: str, target: int, requests: int, console: Console
) -> tuple[LogBuilder, dict[str, Any]]:
    """Build the service's log, record it as published (that history was never on this broker:
    no relay sends it, no consumer applies it again) and bring its table views up to it."""
    settings = service_settings(system, service)
    definition = importlib.import_module(f"heze_{service}.main").definition(settings)
    app = definition.create_application(settings)  # the service's own start: seeded as it seeds
    builder = BUILDERS[service](app, target, requests)
    started = shown = time.perf_counter()

    def progress(head: int) -> None:
        nonlocal shown
        now = time.perf_counter()
        if now - shown >= PROGRESS_SECONDS:
            console.print(
                f"  {service}: {head:,} of {target:,} events, {head / (now - started):,.0f}/s"
            )
            shown = now

    builder.build(progress)
    seconds = time.perf_counter() - started
    events = app.log_head()
    RelayPositions(app.recorder).save(settings.kafka_topic_prefix + definition.publishes_to, events)
    figures: dict[str, Any] = {
        "events": events,
        "people": builder.people,
        "cohorts": builder.cohorts + 1,
        "build_seconds": seconds,
        "build_events_per_second": events / seconds,
    }
    console.print(f"  {service}: {events:,} events in {seconds:.0f} s ({events / seconds:,.0f}/s)")
    started = time.perf_counter()
    ViewUpdater(app, [view() for view in definition.views]).catch_up()
    figures["views_catch_up_seconds"] = time.perf_counter() - started
    console.print(f"  {service}: views caught up in {figures['views_catch_up_seconds']:.0f} s")
    app.close()
    return builder, figures
