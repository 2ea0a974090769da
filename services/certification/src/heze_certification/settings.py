"""Settings of the certification service (everything else is shared: see heze_common.settings)."""

from heze_common.settings import ServiceSettings


class CertificationSettings(ServiceSettings):
    service_name: str = "certification"
    http_port: int = 8003
