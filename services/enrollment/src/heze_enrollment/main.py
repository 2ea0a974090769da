"""Entry point: `python -m heze_enrollment.main [serve|create-schema]` runs the enrollment service."""

from heze_common.outbox import IntegrationMapper
from heze_common.runtime import ServiceDefinition, create_app, run_cli
from heze_contracts.enums import Producer
from heze_contracts.topics import ENROLLMENT_EVENTS

from heze_enrollment.application import EnrollmentApplication
from heze_enrollment.settings import EnrollmentSettings


def definition(settings: EnrollmentSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        title="Heze programme — enrollment service",
        settings=settings or EnrollmentSettings(),
        create_application=EnrollmentApplication,
        integration_mapper=IntegrationMapper(Producer.ENROLLMENT, {}),
        publishes_to=ENROLLMENT_EVENTS,
    )


def app() -> object:
    """ASGI factory (`uvicorn --factory heze_enrollment.main:app`)."""
    return create_app(definition())


def main() -> None:
    run_cli(definition)


if __name__ == "__main__":
    main()
