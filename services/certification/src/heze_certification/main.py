"""Entry point: `python -m heze_certification.main [serve|create-schema]` runs the certification service."""

from __future__ import annotations

from heze_certification import consumers
from heze_certification.api import ROUTERS
from heze_certification.application import CertificationApplication
from heze_certification.publishing import CERTIFICATION_PUBLICATIONS
from heze_certification.settings import CertificationSettings
from heze_certification.views import VIEWS
from heze_certification.watcher import deadline_watcher
from heze_common.runtime import ServiceDefinition, create_app, run_cli
from heze_contracts import certification as contract
from heze_contracts.topics import ASSESSMENT_EVENTS, CERTIFICATION_EVENTS, ENROLLMENT_EVENTS


def start(settings: CertificationSettings) -> CertificationApplication:
    application = CertificationApplication(settings)
    application.seed()
    return application


def definition(settings: CertificationSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        title="Heze programme — certification service",
        settings=settings or CertificationSettings(),
        create_application=start,
        integration_mapper=CERTIFICATION_PUBLICATIONS,
        publishes_to=CERTIFICATION_EVENTS,
        subscribes_to=(ENROLLMENT_EVENTS, ASSESSMENT_EVENTS),
        consumer_handlers=consumers.handlers,
        routers=ROUTERS,
        published_events=contract.EVENTS,
        trail_streams=lambda application, trainee_id: application.trail_streams(trainee_id),
        background=lambda application: [deadline_watcher(application)],
        views=VIEWS,
    )


def app() -> object:
    """ASGI factory (`uvicorn --factory heze_certification.main:app`)."""
    return create_app(definition())


def main() -> None:
    run_cli(definition)


if __name__ == "__main__":
    main()
