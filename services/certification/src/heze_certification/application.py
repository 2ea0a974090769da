"""Commands and queries of the certification service, on its event store."""

from heze_common.eventstore import ServiceApplication


class CertificationApplication(ServiceApplication):
    pass
