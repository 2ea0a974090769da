"""Entry point: `python -m heze_certification.main [serve|create-schema]` runs the certification service."""

from heze_common.outbox import IntegrationMapper
from heze_common.runtime import ServiceDefinition, create_app, run_cli
from heze_contracts.enums import Producer
from heze_contracts.topics import ASSESSMENT_EVENTS, CERTIFICATION_EVENTS, ENROLLMENT_EVENTS

from heze_certification.application import CertificationApplication
from heze_certification.settings import CertificationSettings


def definition(settings: CertificationSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        title="Heze programme — certification service",
        settings=settings or CertificationSettings(),
        create_application=CertificationApplication,
        integration_mapper=IntegrationMapper(Producer.CERTIFICATION, {}),
        publishes_to=CERTIFICATION_EVENTS,
        subscribes_to=(
            ENROLLMENT_EVENTS,
            ASSESSMENT_EVENTS,
        ),
    )


def app() -> object:
    """ASGI factory (`uvicorn --factory heze_certification.main:app`)."""
    return create_app(definition())


def main() -> None:
    run_cli(definition)


if __name__ == "__main__":
    main()
