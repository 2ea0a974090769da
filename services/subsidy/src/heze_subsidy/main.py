"""Entry point: `python -m heze_subsidy.main [serve|create-schema]` runs the subsidy service."""

from heze_common.outbox import IntegrationMapper
from heze_common.runtime import ServiceDefinition, create_app, run_cli
from heze_contracts.enums import Producer
from heze_contracts.topics import CERTIFICATION_EVENTS, ENROLLMENT_EVENTS, SUBSIDY_EVENTS

from heze_subsidy.application import SubsidyApplication
from heze_subsidy.settings import SubsidySettings


def definition(settings: SubsidySettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        title="Heze programme — subsidy service",
        settings=settings or SubsidySettings(),
        create_application=SubsidyApplication,
        integration_mapper=IntegrationMapper(Producer.SUBSIDY, {}),
        publishes_to=SUBSIDY_EVENTS,
        subscribes_to=(
            ENROLLMENT_EVENTS,
            CERTIFICATION_EVENTS,
        ),
    )


def app() -> object:
    """ASGI factory (`uvicorn --factory heze_subsidy.main:app`)."""
    return create_app(definition())


def main() -> None:
    run_cli(definition)


if __name__ == "__main__":
    main()
