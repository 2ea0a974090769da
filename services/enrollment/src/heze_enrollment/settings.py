"""Settings of the enrollment service (everything else is shared: see heze_common.settings)."""

from pydantic import Field, SecretStr, model_validator

from heze_common import keyfiles
from heze_common.settings import ServiceSettings


class EnrollmentSettings(ServiceSettings):
    service_name: str = "enrollment"
    http_port: int = 8001
    seed_directory: bool = True
    """Seed the plan's three Shandong institutions (embedded and demo mode; off in production)."""
    trainee_id_key: SecretStr | None = Field(
        default=None,
        description="base64 key (at least 32 bytes) that derives a trainee's id from their ID"
        " number; used for nothing else",
    )
    retention_sweep_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often registrants past the retention period are looked for and erased",
    )
    retired_trainee_id_keys: SecretStr | None = Field(
        default=None,
        description="Earlier trainee-id keys (base64, comma-separated, newest first): people"
        " registered under them keep their ids",
    )

    @model_validator(mode="after")
    def _production_needs_the_id_key(self) -> "EnrollmentSettings":
        if self.environment == "production" and self.trainee_id_key is None:
            raise ValueError("production environment requires TRAINEE_ID_KEY")
        return self

    def trainee_id_keys(self) -> list[bytes]:
        """The current trainee-id key first, then the retired ones; embedded mode makes the
        current one once under the data folder."""
        current = (
            self.trainee_id_key.get_secret_value()
            if self.trainee_id_key is not None
            else keyfiles.read_or_create(self.data_dir / f"{self.service_name}.trainee-id-key")
        )
        retired = (
            self.retired_trainee_id_keys.get_secret_value() if self.retired_trainee_id_keys else ""
        )
        named = [
            ("TRAINEE_ID_KEY", current),
            *(
                (f"RETIRED_TRAINEE_ID_KEYS[{n}]", key.strip())
                for n, key in enumerate(retired.split(","))
                if key.strip()
            ),
        ]
        for name, text in named:
            keyfiles.decode_key(text, name=name)
        # The HMAC keys are the keys' base64 text, as the ids of the first data folders were
        # derived (under the cipher key's text, which may be named as a retired key).
        return [text.strip().encode() for _, text in named]
