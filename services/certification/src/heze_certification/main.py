"""Entry point: `python -m heze_certification.main` serves the certification service."""

from heze_contracts.enums import Producer
from heze_contracts.topics import CERTIFICATION_EVENTS
from heze_common.outbox import IntegrationMapper
from heze_common.runtime import ServiceDefinition, create_app, serve

from heze_certification.application import CertificationApplication
from heze_certification.settings import CertificationSettings


def definition(settings: CertificationSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        title="Heze programme — certification service",
        settings=settings or CertificationSettings(),
        create_application=CertificationApplication,
        integration_mapper=IntegrationMapper(Producer.CERTIFICATION, {}),
        publishes_to=CERTIFICATION_EVENTS,
    )


def app() -> object:
    """ASGI factory (`uvicorn --factory heze_certification.main:app`)."""
    return create_app(definition())


def main() -> None:
    serve(definition())


if __name__ == "__main__":
    main()
