"""Settings of the assessment service (everything else is shared: see heze_common.settings)."""

from heze_common.settings import ServiceSettings


class AssessmentSettings(ServiceSettings):
    service_name: str = "assessment"
    http_port: int = 8002
