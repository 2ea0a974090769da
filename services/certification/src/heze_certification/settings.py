"""Settings of the certification service (everything else is shared: see heze_common.settings)."""

from heze_common.settings import ServiceSettings


class CertificationSettings(ServiceSettings):
    service_name: str = "certification"
    http_port: int = 8003
    deadline_watch_seconds: float = 60.0
    """How often the watcher looks for breached deadlines."""
    verify_requests_per_minute: int = 30
    """Public verification requests allowed per client per minute."""
    enrollment_url: str = "http://127.0.0.1:8001"
    """Enrollment's HTTP API, asked for a certificate holder's name and ID number (a claim
    check: no event carries them)."""
