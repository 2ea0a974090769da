"""Settings of the certification service (everything else is shared: see heze_common.settings)."""

from pydantic import Field, SecretStr

from heze_common import keyfiles
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
    holder_name_key: SecretStr | None = Field(
        default=None,
        description="base64 key (at least 32 bytes) of the keyed hash of certificate holders'"
        " names, kept for verification after an erasure; used for nothing else",
    )

    def resolved_holder_name_key(self) -> bytes:
        """The name-hash key; embedded mode makes it once under the data folder."""
        if self.holder_name_key is not None:
            return keyfiles.decode_key(
                self.holder_name_key.get_secret_value(), name="HOLDER_NAME_KEY"
            )
        if self.environment == "production":
            raise ValueError("production environment requires HOLDER_NAME_KEY")
        text = keyfiles.read_or_create(self.data_dir / f"{self.service_name}.holder-name-key")
        return keyfiles.decode_key(text, name=f"{self.service_name}.holder-name-key")
