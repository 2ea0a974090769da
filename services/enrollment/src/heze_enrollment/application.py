"""Commands and queries of the enrollment service, on its event store."""

from heze_common.eventstore import ServiceApplication


class EnrollmentApplication(ServiceApplication):
    pass
