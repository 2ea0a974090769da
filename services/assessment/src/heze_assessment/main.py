"""Entry point: `python -m heze_assessment.main [serve|create-schema]` runs the assessment service."""

from __future__ import annotations

from heze_assessment import consumers
from heze_assessment.api import ROUTERS
from heze_assessment.application import AssessmentApplication
from heze_assessment.publishing import ASSESSMENT_PUBLICATIONS
from heze_assessment.settings import AssessmentSettings
from heze_assessment.views import VIEWS
from heze_common.runtime import ServiceDefinition, create_app, run_cli
from heze_contracts import assessment as contract
from heze_contracts.topics import ASSESSMENT_EVENTS, ENROLLMENT_EVENTS


def start(settings: AssessmentSettings) -> AssessmentApplication:
    application = AssessmentApplication(settings)
    application.seed()
    return application


def definition(settings: AssessmentSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        title="Heze programme — assessment service",
        settings=settings or AssessmentSettings(),
        create_application=start,
        integration_mapper=ASSESSMENT_PUBLICATIONS,
        publishes_to=ASSESSMENT_EVENTS,
        subscribes_to=(ENROLLMENT_EVENTS,),
        consumer_handlers=consumers.handlers,
        routers=ROUTERS,
        published_events=contract.EVENTS,
        trail_streams=lambda application, trainee_id: application.trail_streams(trainee_id),
        views=VIEWS,
    )


def app() -> object:
    """ASGI factory (`uvicorn --factory heze_assessment.main:app`)."""
    return create_app(definition())


def main() -> None:
    run_cli(definition)


if __name__ == "__main__":
    main()
