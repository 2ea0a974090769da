"""Commands and queries of the subsidy service, on its event store."""

from heze_common.eventstore import ServiceApplication


class SubsidyApplication(ServiceApplication):
    pass
