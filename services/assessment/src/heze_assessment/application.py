"""Commands and queries of the assessment service, on its event store."""

from heze_common.eventstore import ServiceApplication


class AssessmentApplication(ServiceApplication):
    pass
