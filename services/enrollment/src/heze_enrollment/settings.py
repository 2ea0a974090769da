"""Settings of the enrollment service (everything else is shared: see heze_common.settings)."""

from heze_common.settings import ServiceSettings


class EnrollmentSettings(ServiceSettings):
    service_name: str = "enrollment"
    http_port: int = 8001
    seed_directory: bool = True
    """Seed the plan's three Shandong institutions (embedded and demo mode; off in production)."""
