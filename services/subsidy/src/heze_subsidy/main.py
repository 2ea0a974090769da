"""Entry point: `python -m heze_subsidy.main [serve|create-schema]` runs the subsidy service."""

from __future__ import annotations

from heze_common.runtime import ServiceDefinition, create_app, run_cli
from heze_contracts import subsidy as contract
from heze_contracts.topics import CERTIFICATION_EVENTS, ENROLLMENT_EVENTS, SUBSIDY_EVENTS
from heze_subsidy import consumers
from heze_subsidy.api import ROUTERS
from heze_subsidy.application import SubsidyApplication
from heze_subsidy.publishing import SUBSIDY_PUBLICATIONS
from heze_subsidy.settings import SubsidySettings
from heze_subsidy.views import VIEWS


def start(settings: SubsidySettings) -> SubsidyApplication:
    application = SubsidyApplication(settings)
    application.seed(with_example_standards=settings.seed_example_standards)
    return application


def definition(settings: SubsidySettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        title="Heze programme — subsidy service",
        settings=settings or SubsidySettings(),
        create_application=start,
        integration_mapper=SUBSIDY_PUBLICATIONS,
        publishes_to=SUBSIDY_EVENTS,
        subscribes_to=(ENROLLMENT_EVENTS, CERTIFICATION_EVENTS),
        consumer_handlers=consumers.handlers,
        routers=ROUTERS,
        published_events=contract.EVENTS,
        trail_streams=lambda application, trainee_id: application.trail_streams(trainee_id),
        views=VIEWS,
    )


def app() -> object:
    """ASGI factory (`uvicorn --factory heze_subsidy.main:app`)."""
    return create_app(definition())


def main() -> None:
    run_cli(definition)


if __name__ == "__main__":
    main()
