"""Settings of the subsidy service (everything else is shared: see heze_common.settings)."""

from heze_common.settings import ServiceSettings


class SubsidySettings(ServiceSettings):
    service_name: str = "subsidy"
    http_port: int = 8004
    seed_example_standards: bool = True
    """Seed example subsidy amounts (embedded and demo mode; off in production)."""
