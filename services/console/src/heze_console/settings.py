"""The console's settings, read from the environment (12-factor) like the services' own."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from heze_common import keyfiles

SERVICES = ("enrollment", "assessment", "certification", "subsidy")


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["embedded", "production"] = "embedded"
    http_host: str = "127.0.0.1"
    http_port: int = 8005
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    data_dir: Path = Path("data")
    log_level: str = "INFO"

    enrollment_url: str = "http://127.0.0.1:8001"
    assessment_url: str = "http://127.0.0.1:8002"
    certification_url: str = "http://127.0.0.1:8003"
    subsidy_url: str = "http://127.0.0.1:8004"
    service_timeout_seconds: float = Field(default=30.0, gt=0)

    session_key: SecretStr | None = Field(
        default=None, description="base64 key (32 bytes) signing the session cookie"
    )
    cookie_secure: bool | None = Field(
        default=None, description="Send the session cookie over HTTPS only; default: in production"
    )
    session_idle_minutes: int = Field(default=120, gt=0)
    max_sessions: int = Field(default=10_000, gt=0)
    max_upload_bytes: int = Field(default=2_000_000, gt=0)

    @model_validator(mode="after")
    def _production_needs_a_session_key(self) -> ConsoleSettings:
        if self.environment == "production" and self.session_key is None:
            raise ValueError("production environment requires SESSION_KEY (the cookie's key)")
        return self

    def service_url(self, service: str) -> str:
        return getattr(self, f"{service}_url").rstrip("/")

    @property
    def secure_cookie(self) -> bool:
        return (
            self.environment == "production" if self.cookie_secure is None else self.cookie_secure
        )

    def resolved_session_key(self) -> str:
        """The cookie-signing key; in the embedded mode one is made once beside the data."""
        if self.session_key is not None:
            text = self.session_key.get_secret_value()
            keyfiles.decode_key(text, name="SESSION_KEY", sizes=(32,))
            return text
        return keyfiles.read_or_create(self.data_dir / "console.session-key")
