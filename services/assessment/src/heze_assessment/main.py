"""Entry point: `python -m heze_assessment.main [serve|create-schema]` runs the assessment service."""

from heze_common.outbox import IntegrationMapper
from heze_common.runtime import ServiceDefinition, create_app, run_cli
from heze_contracts.enums import Producer
from heze_contracts.topics import ASSESSMENT_EVENTS, ENROLLMENT_EVENTS

from heze_assessment.application import AssessmentApplication
from heze_assessment.settings import AssessmentSettings


def definition(settings: AssessmentSettings | None = None) -> ServiceDefinition:
    return ServiceDefinition(
        title="Heze programme — assessment service",
        settings=settings or AssessmentSettings(),
        create_application=AssessmentApplication,
        integration_mapper=IntegrationMapper(Producer.ASSESSMENT, {}),
        publishes_to=ASSESSMENT_EVENTS,
        subscribes_to=(ENROLLMENT_EVENTS,),
    )


def app() -> object:
    """ASGI factory (`uvicorn --factory heze_assessment.main:app`)."""
    return create_app(definition())


def main() -> None:
    run_cli(definition)


if __name__ == "__main__":
    main()
