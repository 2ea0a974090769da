"""Entry point: `python -m heze_enrollment.main [serve|create-schema]` runs the enrollment service."""

from __future__ import annotations

from heze_common.runtime import ServiceDefinition, create_app, run_cli
from heze_contracts import enrollment as contract
from heze_contracts.topics import ENROLLMENT_EVENTS
from heze_enrollment.api import ROUTERS
from heze_enrollment.application import EnrollmentApplication
from heze_enrollment.publishing import ENROLLMENT_PUBLICATIONS
from heze_enrollment.retention import retention_sweeper
from heze_enrollment.settings import EnrollmentSettings
from heze_enrollment.views import VIEWS


def start(settings: EnrollmentSettings) -> EnrollmentApplication:
    application = EnrollmentApplication(settings)
    application.seed(with_directory=settings.seed_directory)
    return application


def definition(settings: EnrollmentSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        title="Heze programme — enrollment service",
        settings=settings or EnrollmentSettings(),
        create_application=start,
        integration_mapper=ENROLLMENT_PUBLICATIONS,
        publishes_to=ENROLLMENT_EVENTS,
        routers=ROUTERS,
        published_events=contract.EVENTS,
        trail_streams=lambda application, trainee_id: [trainee_id],
        views=VIEWS,
        background=lambda application: [retention_sweeper(application)],
    )


def app() -> object:
    """ASGI factory (`uvicorn --factory heze_enrollment.main:app`)."""
    return create_app(definition())


def main() -> None:
    run_cli(definition)


if __name__ == "__main__":
    main()
